"""Datasets on disk: scanning an ImageFolder tree (root/<class>/<image>; bad files skipped with a reason,
links counted once, loops ended), the per-class split, and ``ImageDataset`` over the result. No Qt.
"""
from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torchvision import transforms as T

from inception_studio.engine.data.images import load_image, probe_image
from inception_studio.errors import DataError


@dataclass
class FolderScan:
    """Result of scanning an ImageFolder tree: classes, usable samples, skipped files and counts."""

    root: str
    classes: list[str]
    samples: list[tuple[str, int]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    empty_classes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        """Number of classes with at least one usable image."""
        return len(self.classes)


def _is_hidden(name: str) -> bool:
    """Hidden/OS-junk names that a scan ignores silently (dotfiles, Thumbs.db, desktop.ini)."""
    return name.startswith(".") or name.lower() in {"thumbs.db", "desktop.ini"}


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` points to: the same for every link to one real file or folder."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _walk_files(folder: Path, seen_dirs: set[tuple[int, int]]) -> list[Path]:
    """Every non-hidden file under ``folder`` (recursively, following links), in sorted order.

    A folder already walked (``seen_dirs``: a link back up the tree, or to another class) is not entered
    again, so symlink loops end and no folder is counted twice.
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        keep = []
        for d in sorted(dirnames):
            ident = None if _is_hidden(d) else _identity(os.path.join(dirpath, d))
            if ident is not None and ident not in seen_dirs:
                seen_dirs.add(ident)
                keep.append(d)
        dirnames[:] = keep
        for fname in sorted(filenames):
            if not _is_hidden(fname):
                found.append(Path(dirpath) / fname)
    return found


def _unique_files(per_class: list[tuple[str, list[Path]]],
                  skipped: list[tuple[str, str]]) -> list[tuple[str, list[Path]]]:
    """Each real file once (links and hard links to one file count once, in the first class that has it)."""
    first: dict[tuple[int, int], Path] = {}
    out = []
    for cls_name, files in per_class:
        kept = []
        for f in files:
            ident = _identity(f)
            if ident is None:  # unreadable: the probe reports why
                kept.append(f)
            elif ident in first:
                skipped.append((str(f), f"the same file as {first[ident]} (a link): counted once"))
            else:
                first[ident] = f
                kept.append(f)
        out.append((cls_name, kept))
    return out


def _class_folders(root: Path) -> list[Path]:
    """The class subfolders of ``root``, sorted by name; DataError when there is no such folder or none inside."""
    if not root.exists():
        raise DataError(f"{root}: folder not found")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    try:
        class_dirs = sorted((p for p in root.iterdir() if p.is_dir() and not _is_hidden(p.name)), key=lambda p: p.name)
    except OSError as exc:
        raise DataError(f"{root}: cannot list folder ({exc.strerror or exc})") from None
    if not class_dirs:
        raise DataError(f"{root}: no class subfolders (expected {root.name}/<class>/<image files>)")
    return class_dirs


def _probe_all(files: list[Path], max_pixels: int | None, workers: int | None,
               progress: Callable[[int, int], None] | None) -> list[str | None]:
    """``probe_image`` of every file (in threads), in order, reporting progress every 64 files."""
    total = len(files)
    n_workers = workers if workers is not None else min(8, (os.cpu_count() or 2) + 2)
    reasons: list[str | None] = []
    if progress is not None:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, n_workers)) as pool:
        for i, reason in enumerate(pool.map(lambda f: probe_image(f, max_pixels), files), 1):
            reasons.append(reason)
            if progress is not None and (i % 64 == 0 or i == total):
                progress(i, total)
    return reasons


def scan_image_folder(
    root: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FolderScan:
    """Scan root/<class>/<image> files, verifying each header; bad files are skipped with a reason."""
    root_path = Path(root)
    class_dirs = _class_folders(root_path)
    # Class folders are registered first, so a link from one class into another is never followed.
    seen_dirs = {i for i in (_identity(d) for d in class_dirs) if i is not None}
    skipped: list[tuple[str, str]] = []
    per_class = _unique_files([(d.name, _walk_files(d, seen_dirs)) for d in class_dirs], skipped)
    reasons = iter(_probe_all([f for _, files in per_class for f in files], max_pixels, workers, progress))

    classes: list[str] = []
    samples: list[tuple[str, int]] = []
    counts: dict[str, int] = {}
    empty: list[str] = []
    for cls_name, files in per_class:
        good: list[str] = []
        for f in files:
            reason = next(reasons)
            if reason is None:
                good.append(str(f))
            else:
                skipped.append((str(f), reason))
        if not good:
            empty.append(cls_name)
            continue
        counts[cls_name] = len(good)
        samples.extend((g, len(classes)) for g in good)
        classes.append(cls_name)
    if not samples:
        raise DataError(
            f"{root_path}: no readable images in {len(class_dirs)} class folder(s)"
            + (f" ({len(skipped)} file(s) skipped)" if skipped else "")
        )
    return FolderScan(str(root_path), classes, samples, skipped, counts, empty)


def stratified_split(
    samples: Sequence[tuple[str, int]],
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Split per class, deterministically; every class with >= 2 images puts >= 1 in val and >= 1 in train."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction}")
    # A path listed twice is one unit: it goes to one side only, never to both.
    by_label: dict[int, list[str]] = defaultdict(list)
    placed: set[str] = set()
    for path, label in samples:
        if str(path) not in placed:
            placed.add(str(path))
            by_label[label].append(str(path))
    val_paths: set[str] = set()
    for label in sorted(by_label):
        paths = by_label[label]
        n = len(paths)
        if val_fraction == 0.0 or n < 2:
            continue
        n_val = min(n - 1, max(1, int(round(n * val_fraction))))
        order = list(paths)
        random.Random(f"{seed}:{label}").shuffle(order)
        val_paths.update(order[:n_val])
    train = [s for s in samples if str(s[0]) not in val_paths]
    val = [s for s in samples if str(s[0]) in val_paths]
    return train, val


class ImageDataset(torch.utils.data.Dataset):
    """(path, label) samples decoded with ``load_image`` and passed through ``transform``."""

    def __init__(
        self,
        samples: Sequence[tuple[str, int]],
        transform: Callable[[Image.Image], Any] | None,
        channels: int = 3,
        max_pixels: int | None = None,
    ) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {channels}")
        self.samples = [(str(p), int(y)) for p, y in samples]
        self.transform = transform
        self.channels = channels
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        """Number of samples."""
        return len(self.samples)

    @property
    def targets(self) -> list[int]:
        """The label of every sample, in order."""
        return [y for _, y in self.samples]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        """Decode sample ``index`` and return (transformed image, label); ImageError names a bad file."""
        path, label = self.samples[index]
        img = load_image(path, self.channels, max_pixels=self.max_pixels)
        if self.transform is None:
            return T.functional.to_tensor(img), label
        return self.transform(img), label
