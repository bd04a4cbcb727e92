"""The run log: --log-json (rewritten atomically after each epoch) and --tensorboard (rank 0 only)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from inception_studio.core.files import atomic_write
from inception_studio.engine.training.config import TrainConfig
from inception_studio.engine.training.events import EpochEvent, StepEvent


def json_number(x: float | None) -> float | None:
    """JSON-safe float (None for NaN/inf)."""
    return float(x) if x is not None and math.isfinite(x) else None


class RunLog:
    """--log-json and --tensorboard writers (rank 0 only); TensorBoard skipped with a note if absent."""

    def __init__(self, config: TrainConfig, enabled: bool) -> None:
        self.enabled = enabled
        self.path = Path(config.log_json) if (enabled and config.log_json) else None
        self.doc: dict[str, Any] = {"config": config.to_dict(), "steps": [], "epochs": [], "notes": []}
        self.tb = None
        self.tb_note = ""
        if enabled and config.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tb_note = "tensorboard is not installed: --tensorboard skipped (pip install tensorboard)"
            else:
                self.tb = SummaryWriter(config.tensorboard)

    def note(self, message: str) -> None:
        """Record a note or hint shown to the user."""
        self.doc["notes"].append(message)

    def step(self, ev: StepEvent) -> None:
        """Record one StepEvent."""
        if not self.enabled:
            return
        self.doc["steps"].append({"step": ev.step, "epoch": ev.epoch, "loss": ev.loss, "main_loss": ev.main_loss,
                                  "aux_loss": ev.aux_loss, "lr": ev.lr, "images_per_s": ev.images_per_s})
        if self.tb is not None:
            self.tb.add_scalar("train/loss", ev.loss, ev.step)
            self.tb.add_scalar("train/main_loss", ev.main_loss, ev.step)
            if ev.aux_loss is not None:
                self.tb.add_scalar("train/aux_loss", ev.aux_loss, ev.step)
            self.tb.add_scalar("train/lr", ev.lr, ev.step)

    def epoch(self, ev: EpochEvent) -> None:
        """Record one EpochEvent and rewrite the JSON file."""
        if not self.enabled:
            return
        self.doc["epochs"].append({"epoch": ev.epoch, "step": ev.step, "val_loss": json_number(ev.val_loss),
                                   "val_acc": json_number(ev.val_acc), "train_acc": json_number(ev.train_acc)})
        if self.tb is not None:
            for name in ("val_loss", "val_acc", "train_acc"):
                value = getattr(ev, name)
                if math.isfinite(value):
                    self.tb.add_scalar(f"val/{name}" if name.startswith("val") else f"train/{name}", value, ev.step)
        self.flush()

    def flush(self) -> None:
        """Write the JSON log atomically (so a reader never sees half a file)."""
        if self.path is not None:
            text = json.dumps(self.doc, indent=1, default=str)
            atomic_write(self.path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def close(self) -> None:
        """Flush and close the writers."""
        if self.tb is not None:
            self.tb.close()
            self.tb = None
