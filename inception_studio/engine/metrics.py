"""Classification metrics for training: running averages, the confusion matrix and per-class accuracy.

Pure torch/numpy, no Qt. The confusion matrix is accumulated on the training device as an integer
tensor (one ``bincount`` per batch, no host sync) and only read back once per evaluation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


def confusion_update(confusion: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> None:
    """Add one batch to ``confusion`` (rows: true class, columns: predicted class), in place."""
    n = confusion.shape[0]
    pred = logits.argmax(1)
    idx = targets.to(pred.device, torch.long) * n + pred
    confusion += torch.bincount(idx, minlength=n * n).view(n, n).to(confusion.dtype)


def accuracy_from_confusion(confusion: np.ndarray) -> float:
    """Overall accuracy (trace / total) of a confusion matrix; NaN when it is empty."""
    total = float(confusion.sum())
    return float(np.trace(confusion)) / total if total > 0 else math.nan


def per_class_accuracy(confusion: np.ndarray) -> list[float]:
    """Recall of each class (diagonal / row sum); NaN for classes with no validation images."""
    rows = confusion.sum(1).astype(np.float64)
    diag = np.diag(confusion).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.where(rows > 0, diag / np.maximum(rows, 1), np.nan)
    return [float(a) for a in acc]


class Smoother:
    """Exponential moving average with bias correction (TensorBoard-style smoothing of a noisy curve)."""

    def __init__(self, beta: float = 0.9) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), not {beta}")
        self.beta = beta
        self._avg = 0.0
        self._n = 0

    def update(self, value: float) -> float:
        """Feed one value and return the smoothed value so far (non-finite values are ignored)."""
        if math.isfinite(value):
            self._n += 1
            self._avg = self.beta * self._avg + (1.0 - self.beta) * value
        return self.value

    @property
    def value(self) -> float:
        """The current smoothed value (NaN before the first finite value)."""
        if self._n == 0:
            return math.nan
        return self._avg / (1.0 - self.beta ** self._n)


@dataclass
class RateMeter:
    """Images per second over a sliding window of recent steps, for the status bar and the ETA."""

    window: int = 20

    def __post_init__(self) -> None:
        self._times: list[float] = []
        self._counts: list[int] = []

    def update(self, t: float, images: int) -> None:
        """Record that ``images`` more images were done at time ``t`` (seconds, monotonic)."""
        self._times.append(t)
        self._counts.append(images)
        if len(self._times) > self.window + 1:
            del self._times[0]
            del self._counts[0]

    @property
    def rate(self) -> float:
        """Images per second over the window (0 until two points exist)."""
        if len(self._times) < 2:
            return 0.0
        dt = self._times[-1] - self._times[0]
        return sum(self._counts[1:]) / dt if dt > 0 else 0.0
