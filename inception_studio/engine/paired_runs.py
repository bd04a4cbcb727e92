"""Paired short training runs for the Why? view: one tiny model trained twice, differing in one idea.

``aux``: with and without the auxiliary classifiers (GoogLeNet, Inception-v3); ``residual_scale``:
every residual block at scale 1.0 and at 0.2 (Inception-ResNet). Both runs use the same data split,
seed, recipe and input size, so the curves differ only by the idea. :func:`paired_runs` is a plain
generator over the public ``engine.train.train`` (the GUI's Worker wraps it); its return value holds
both runs' curves, main and aux loss included. No Qt.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

from ..core import edits
from ..core.analysis import min_input_size
from ..core.spec import ArchSpec
from ..errors import StudioError
from .train import (
    SMALL_WIDTH, DoneEvent, EpochEvent, StepEvent, StoppedEvent, TrainConfig, TrainData, TrainEvent, prepare_data,
    recipe_defaults, small_image_size, train,
)

PAIR_KINDS = ("aux", "residual_scale")


@dataclass
class Curve:
    """One run's losses by step (aux loss None where the run has no aux heads) and accuracy by epoch."""

    label: str
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    main_loss: list[float] = field(default_factory=list)
    aux_loss: list[float | None] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    stopped: str = ""  # StoppedEvent.reason: "finished", "stopped", "nan"

    def add(self, ev: TrainEvent) -> None:
        """Record what a training event says about the curve."""
        if isinstance(ev, StepEvent):
            self.steps.append(ev.step)
            self.loss.append(ev.loss)
            self.main_loss.append(ev.main_loss)
            self.aux_loss.append(ev.aux_loss)
        elif isinstance(ev, EpochEvent):
            self.epochs.append(ev.epoch)
            self.val_acc.append(ev.val_acc)
        elif isinstance(ev, StoppedEvent):
            self.stopped = ev.reason


@dataclass(frozen=True)
class PairEvent:
    """A training event of run 0 or run 1 of the pair."""

    run: int
    label: str
    event: TrainEvent


@dataclass
class PairResult:
    """Both runs' curves (``curves[0]`` is the idea as the papers use it)."""

    kind: str
    curves: tuple[Curve, Curve]
    image_size: int
    width_mult: float


def pair_specs(spec: ArchSpec, kind: str) -> tuple[tuple[str, ArchSpec], tuple[str, ArchSpec]]:
    """The two specs of a pair, each with its label; StudioError when the idea does not apply."""
    if kind == "aux":
        if not spec.aux:
            raise StudioError(f"{spec.name}: has no auxiliary classifiers to compare")
        return (("with aux heads", edits.set_aux(spec, True)), ("without aux heads", edits.set_aux(spec, False)))
    if kind == "residual_scale":
        return (("residual scale 0.2", edits.set_scale(spec, None, None, 0.2)),
                ("residual scale 1.0", edits.set_scale(spec, None, None, 1.0)))
    raise StudioError(f"pair: must be one of {', '.join(PAIR_KINDS)}, got {kind!r}")


def pair_image_size(spec: ArchSpec, kind: str) -> int:
    """The smallest CPU-friendly input where both runs keep what they compare (aux heads need room)."""
    size = small_image_size(spec)
    if kind == "aux":
        need = min_input_size(edits.set_aux(spec, True), with_aux=True)
        if need is None:
            raise StudioError(f"{spec.name}: its aux heads fit no input size up to 4096 px")
        size = max(size, int(math.ceil(need / 8) * 8))
    return size


def pair_config(spec: ArchSpec, kind: str, **overrides) -> TrainConfig:
    """A short run of a quarter-width model at a small input size (``overrides`` change any field).

    One fixed recipe for both runs: AdamW at 3e-3 with crops that keep at least half of the image, which
    visibly learns the demo shapes in a few epochs (the papers' recipes barely move in so few steps).
    """
    cfg = recipe_defaults("adamw", lr=3e-3, crop_scale=(0.5, 1.0), epochs=3, batch_size=16, width_mult=SMALL_WIDTH,
                          image_size=pair_image_size(spec, kind), feature_every=0, out=None, log_json=None,
                          tensorboard=None)
    return replace(cfg, **overrides) if overrides else cfg


def paired_runs(spec: ArchSpec, kind: str, data: TrainData | str | os.PathLike[str] = "demo",
                config: TrainConfig | None = None, should_stop: Callable[[], bool] = lambda: False,
                ) -> Generator[PairEvent, None, PairResult]:
    """Train the pair one after the other, yielding each run's events; returns both curves."""
    first, second = pair_specs(spec, kind)
    cfg = config if config is not None else pair_config(spec, kind)
    cfg = replace(cfg, out=None, log_json=None, tensorboard=None)  # a comparison writes no files
    cfg.validate()
    if not isinstance(data, TrainData):
        data = prepare_data(data, cfg.val_fraction, cfg.seed)
    curves: list[Curve] = []
    for run, (label, s) in enumerate((first, second)):
        curve = Curve(label)
        curves.append(curve)
        for ev in train(cfg, s, data, should_stop=should_stop):
            curve.add(ev)
            yield PairEvent(run, label, _light(ev))
        if should_stop():
            break
    while len(curves) < 2:  # stopped during the first run: the second never started
        curves.append(Curve(second[0], stopped="stopped"))
    return PairResult(kind, (curves[0], curves[1]), cfg.image_size or spec.input_size,
                      cfg.width_mult or spec.width_mult)


def _light(ev: TrainEvent) -> TrainEvent:
    """The event without the trained model (a pair's models are not kept)."""
    return replace(ev, model=None) if isinstance(ev, DoneEvent) else ev
