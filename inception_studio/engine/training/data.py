"""The data of a training run: the scanned and split folder, its datasets, and augmentation previews.

``prepare_data`` scans an ImageFolder tree (or "demo") and splits it by class; ``transforms_for``
gives the train/eval transforms a config and spec ask for (one place, so the preview shows exactly
what the model is fed); ``augmented_samples`` draws a few of the user's own images through the
training transform and back to pixels.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inception_studio.core.spec import ArchSpec
from inception_studio.engine import data as D
from inception_studio.engine.training.config import TrainConfig
from inception_studio.errors import DataError, ImageError
from inception_studio.paths import cache_dir


def is_demo_source(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names the built-in demo dataset ("demo" or its cache folder)."""
    text = str(source).strip()
    if text.lower() == "demo":
        return True
    try:  # compare with where demo_data_dir() keeps it, without creating it
        return Path(text).expanduser().resolve() == (cache_dir() / D.DEMO_VERSION).resolve()
    except OSError:
        return False


@dataclass
class TrainData:
    """A scanned ImageFolder tree split into train and validation samples."""

    root: str
    classes: list[str]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    empty_classes: list[str] = field(default_factory=list)


def resolve_data_root(source: str | os.PathLike[str]) -> Path:
    """"demo" -> the built-in demo dataset folder (created on first use); anything else as a path."""
    if str(source).strip().lower() == "demo":
        return D.demo_data_dir()
    return Path(source).expanduser()


def prepare_data(source: str | os.PathLike[str], val_fraction: float = 0.2, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> TrainData:
    """Scan ``source`` (a class-per-subfolder tree or "demo") and split it; DataError if unusable."""
    scan = D.scan_image_folder(resolve_data_root(source), progress=progress)
    if scan.num_classes < 2:
        raise DataError(f"{scan.root}: training needs at least 2 classes with images, found {scan.num_classes}")
    train_s, val_s = D.stratified_split(scan.samples, val_fraction, seed)
    if not train_s:
        raise DataError(f"{scan.root}: no images left for training after the validation split")
    return TrainData(scan.root, list(scan.classes), train_s, val_s, list(scan.skipped), dict(scan.counts),
                     list(scan.empty_classes))


def as_data(data: TrainData | str | os.PathLike[str], config: TrainConfig) -> TrainData:
    """``data`` itself, or the folder it names scanned and split with the config's fraction and seed."""
    if isinstance(data, TrainData):
        return data
    return prepare_data(data, config.val_fraction, config.seed)


def describe_data(data: TrainData) -> str:
    """One line: "4 classes, 192 train / 48 validation images (2 skipped)"."""
    skipped = f" ({len(data.skipped)} skipped)" if data.skipped else ""
    return (f"{len(data.classes)} classes, {len(data.train)} train / {len(data.val)} validation images"
            f"{skipped}")


class SafeDataset(D.ImageDataset):
    """ImageDataset that replaces an image failing to decode by the next one and records the file."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.failed: dict[str, str] = {}

    def __getitem__(self, index: int) -> tuple[Any, int]:
        n = len(self.samples)
        for k in range(min(n, 16)):
            try:
                return super().__getitem__((index + k) % n)
            except ImageError as exc:
                path = self.samples[(index + k) % n][0]
                self.failed[path] = str(exc)
        raise DataError(f"{Path(self.samples[index][0]).parent}: 16 images in a row failed to decode")


def preprocess_for(spec: ArchSpec) -> D.Preprocess:
    """How ``spec`` wants its images: size, crop, normalisation, interpolation, channels."""
    return D.Preprocess(spec.input_size, spec.crop_pct, spec.mean, spec.std, spec.interpolation, spec.in_channels)


def transforms_for(config: TrainConfig, spec: ArchSpec) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(training transform, evaluation transform) for a run of ``config`` on ``spec``."""
    pre = preprocess_for(spec)
    train_tf = pre.train_transform(config.augment, tuple(config.crop_scale), config.flip, config.color_jitter)
    return train_tf, pre.eval_transform()


def pick_spread(samples: list[tuple[str, int]], n: int) -> list[tuple[str, int]]:
    """Up to ``n`` samples taken round-robin over the classes (so every class shows)."""
    by_class: dict[int, list[tuple[str, int]]] = {}
    for s in samples:
        by_class.setdefault(s[1], []).append(s)
    out: list[tuple[str, int]] = []
    k = 0
    while len(out) < n and any(k < len(v) for v in by_class.values()):
        for label in sorted(by_class):
            if k < len(by_class[label]) and len(out) < n:
                out.append(by_class[label][k])
        k += 1
    return out


def augmented_samples(data: TrainData, config: TrainConfig, spec: ArchSpec, n: int = 8,
                      seed: int = 0) -> list[tuple[np.ndarray, str]]:
    """``n`` of the user's training images as the model will be fed them: (uint8 HxWx3, class name) each.

    ``spec`` is the spec that will be trained (sized by ``prepare_spec``); the same seed gives the same
    crops, so a preview changes only when the settings do.
    """
    import torch

    train_tf, _ = transforms_for(config, spec)
    pre = preprocess_for(spec)
    out: list[tuple[np.ndarray, str]] = []
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for path, label in pick_spread(data.train, n):
            try:
                img = D.load_image(path, spec.in_channels)
            except ImageError:
                continue
            x = train_tf(img)
            out.append((D.tensor_to_display(x, pre.channel_mean, pre.channel_std), data.classes[label]))
    finally:
        torch.random.set_rng_state(state)
    return out
