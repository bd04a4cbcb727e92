"""The learning-rate finder (Smith 2015; fast.ai's lr_find): a short run whose learning rate grows
exponentially, step by step, while the loss is recorded; the suggested rate is a tenth of the one at
the lowest loss, well before the loss blows up.

The finder trains a throw-away copy built exactly as the real run would be (same spec sizing, initial
weights, frozen parts, optimizer, augmentation), so the suggestion is for that run; nothing it does
reaches the user's model. ``iter_lr_find`` yields an ``LRPoint`` per step (for a live plot) and ends
with the ``LRFindResult``; ``find_lr`` returns just the result.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from inception_studio.core.spec import ArchSpec
from inception_studio.engine.device import resolve_device
from inception_studio.engine.distributed import DistContext
from inception_studio.engine.training.config import TrainConfig
from inception_studio.engine.training.data import TrainData, as_data
from inception_studio.engine.training.setup import Trainer
from inception_studio.errors import StudioError

DEFAULT_STEPS = 80
SMOOTHING = 0.9  # exponential moving average of the loss (bias-corrected)
DIVERGED = 4.0  # stop once the smoothed loss is this many times its minimum


@dataclass(frozen=True)
class LRPoint:
    """One finder step: the learning rate used and the smoothed loss."""

    step: int
    steps: int
    lr: float
    loss: float


@dataclass(frozen=True)
class LRFindResult:
    """The whole curve (learning rates, smoothed losses), the suggestion and what it cost."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    suggestion: float
    lowest: float  # the learning rate at the lowest loss
    seconds: float
    stopped: str  # "diverged" | "end" | "stopped"

    def describe(self) -> str:
        """One line for the CLI and the status bar."""
        return (f"lr finder: {len(self.lrs)} steps in {self.seconds:.1f} s, lowest loss at lr {self.lowest:.2g}; "
                f"suggested lr {self.suggestion:.2g}")


def suggest_lr(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """A tenth of the learning rate at the lowest (smoothed) loss (Smith 2015; fast.ai's "lr_min / 10").

    At the lowest loss the steps are already so large that they are about to make it worse; an order of
    magnitude lower is still on the fast, steady part of the descent. Simpler rules that chase the
    steepest or longest descent follow the noise where the curve is flat (small data sets, few steps).
    """
    n = len(losses)
    if n == 0:
        raise StudioError("lr finder: no losses were recorded")
    lowest = min(range(n), key=lambda i: (losses[i], i))
    return float(max(lrs[0], lrs[lowest] / 10.0))


def iter_lr_find(config: TrainConfig, spec: ArchSpec, data: TrainData | str | os.PathLike[str],
                 init_state: Any = None, start: float = 1e-6, end: float = 1.0, steps: int = DEFAULT_STEPS,
                 should_stop: Callable[[], bool] = lambda: False) -> Iterator[LRPoint | LRFindResult]:
    """Run the finder, yielding each step's point and finally the result (see the module docstring)."""
    if not (0 < start < end) or steps < 5:
        raise StudioError(f"lr finder: needs 0 < start < end and at least 5 steps, got {start}, {end}, {steps}")
    cfg = replace(config, out=None, log_json=None, tensorboard=None)
    cfg.validate()
    device = resolve_device(cfg.device)
    data = as_data(data, cfg)
    t = Trainer(cfg, spec, data, DistContext(), device, init_state)
    t0 = time.perf_counter()
    lrs: list[float] = []
    losses: list[float] = []
    avg, best, stopped = 0.0, math.inf, "end"
    try:
        t.set_training(True)
        batches = _cycle(t.train_loader)
        for i in range(steps):
            if should_stop():
                stopped = "stopped"
                break
            lr = start * (end / start) ** (i / (steps - 1))
            x, y = t.to_device(*next(batches))
            sums, _ = t.step(x, y)
            raw = float(sums[1].item())
            if not math.isfinite(raw):
                stopped = "diverged"
                break
            t.apply(lr)
            avg = SMOOTHING * avg + (1 - SMOOTHING) * raw
            smooth = avg / (1 - SMOOTHING ** (i + 1))
            lrs.append(lr)
            losses.append(smooth)
            best = min(best, smooth)
            yield LRPoint(i + 1, steps, lr, smooth)
            if i >= 10 and smooth > DIVERGED * best:
                stopped = "diverged"
                break
    finally:
        t.close()
    if len(lrs) < 3:
        raise StudioError("lr finder: stopped before it had 3 points" if stopped == "stopped" else
                          f"lr finder: the loss was not finite from the start (lr {start:g}): check the data")
    lowest = lrs[min(range(len(losses)), key=losses.__getitem__)]
    yield LRFindResult(tuple(lrs), tuple(losses), suggest_lr(lrs, losses), lowest, time.perf_counter() - t0, stopped)


def _cycle(loader: Any) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The loader's batches, starting over when it runs out (small data sets have few batches)."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise StudioError("lr finder: the training set gives no batch")


def find_lr(config: TrainConfig, spec: ArchSpec, data: TrainData | str | os.PathLike[str], init_state: Any = None,
            **kw: Any) -> LRFindResult:
    """Run the learning-rate finder and return its result (curve, suggestion, seconds)."""
    result = None
    for item in iter_lr_find(config, spec, data, init_state, **kw):
        if isinstance(item, LRFindResult):
            result = item
    assert result is not None
    return result
