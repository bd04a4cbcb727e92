"""Is it learning? Watches a run's losses and says, once, in one line, when it is not (no torch).

Three things a user can act on: a loss that rises (the learning rate is too high), a loss that stays
at ln(C) (the model predicts chance: the learning rate is too low or too high, or the augmentation
hides the classes), and a loss that goes NaN/infinite (always a too-large step). Plus one at the end
of an epoch: training accuracy far above validation accuracy (memorising a small data set).
Every hint is given at most once per run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    """A one-line hint: ``kind`` ("rising" | "plateau" | "nan" | "overfit") and the message."""

    kind: str
    message: str


class LearningMonitor:
    """Feed it each logged loss and each epoch's accuracies; it returns a Hint when one applies."""

    def __init__(self, num_classes: int, total_steps: int, lr: float, alpha: float = 0.1) -> None:
        self.chance = math.log(max(2, num_classes))
        self.total = max(1, total_steps)
        self.lr = lr
        self.alpha = alpha
        self.ema: float | None = None
        self.first: float | None = None  # the first logged loss
        self.best = math.inf
        self.seen = 0
        self.given: set[str] = set()

    def _give(self, kind: str, message: str) -> Hint | None:
        if kind in self.given:
            return None
        self.given.add(kind)
        return Hint(kind, message)

    def step(self, step: int, loss: float, lr: float | None = None) -> Hint | None:
        """Take the loss logged at ``step`` (main loss, without the aux heads' share)."""
        lr = self.lr if lr is None else lr
        if not math.isfinite(loss):
            return self._give("nan", f"the loss became {'NaN' if math.isnan(loss) else 'infinite'} at step {step}: "
                                     f"lower the learning rate (it was {lr:.3g}) or clip gradients")
        self.seen += 1
        self.ema = loss if self.ema is None else self.ema + self.alpha * (loss - self.ema)
        if self.first is None:
            self.first = loss
        start = max(self.first, self.chance)
        if self.seen >= 3 and loss > 10 * start and self.ema > 2 * start:
            return self._give("rising", f"the loss exploded ({self.first:.3g} -> {loss:.3g}): the learning rate "
                                        f"({lr:.3g}) is far too high; try {lr / 10:.2g} or the lr finder")
        if self.seen < 10:
            return None
        self.best = min(self.best, self.ema)
        warm = max(20, int(0.05 * self.total))
        if self.seen >= warm and self.ema > max(1.5 * self.best, self.best + 0.5) and self.ema > 0.5 * self.chance:
            return self._give("rising", f"the loss is rising ({self.best:.3g} -> {self.ema:.3g}): lower the learning "
                                        f"rate (try {lr / 3:.2g}) or use the lr finder")
        patience = max(40, int(0.15 * self.total))
        near_chance = abs(self.ema - self.chance) < 0.08 * self.chance
        if self.seen >= patience and near_chance and self.best > 0.9 * self.chance:
            return self._give("plateau", f"the loss stays at ln({math.exp(self.chance):.0f}) = {self.chance:.2f}, "
                                         "chance level: the model is not learning. Try the lr finder, "
                                         "fewer augmentations (larger minimum crop, no flips), or a smaller model")
        return None

    def epoch(self, train_acc: float, val_acc: float, epoch: int) -> Hint | None:
        """Take an epoch's accuracies; hints at memorising when training is far ahead of validation."""
        if not (math.isfinite(train_acc) and math.isfinite(val_acc)) or epoch < 2:
            return None
        if train_acc - val_acc > 0.25 and train_acc > 0.9:
            return self._give("overfit", f"training accuracy {train_acc:.0%} but validation {val_acc:.0%}: the model "
                                         "memorises the training images. More augmentation, fewer epochs, a "
                                         "smaller model, or more images per class")
        return None
