"""The events train() yields (plain dataclasses the GUI and CLI consume; no torch at import)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

    from inception_studio.core.spec import ArchSpec


@dataclass(frozen=True)
class StartEvent:
    """Training is about to start: what is trained on what."""

    spec: ArchSpec
    class_names: list[str]
    train_count: int
    val_count: int
    steps_per_epoch: int
    total_steps: int
    start_step: int
    start_epoch: int
    device: str
    world_size: int
    reinitialised: list[str]  # graph ids of blocks not carried over from the initial weights (fine-tune)
    init: str = "scratch"  # "scratch" | "fine-tune" | "resume"
    train_part: str = "whole"  # "whole" | "last" | "classifier"
    frozen: tuple[str, ...] = ()  # module prefixes whose weights this run does not change


@dataclass(frozen=True)
class StepEvent:
    """Loss read back at a logging step (mean over the steps since the previous one)."""

    step: int  # global steps done
    epoch: int  # 1-based epoch this step belongs to
    loss: float
    main_loss: float
    aux_loss: float | None
    lr: float
    images_per_s: float
    eta_s: float
    total_steps: int = 0


@dataclass(frozen=True)
class EpochEvent:
    """An epoch ended: validation loss/accuracy (NaN without a validation split) and train accuracy."""

    epoch: int
    val_loss: float
    val_acc: float
    train_acc: float
    step: int = 0
    per_class_acc: tuple[float, ...] = ()


@dataclass(frozen=True)
class FeatureMapEvent:
    """The probe image's activations at ``node_module`` (up to 16 channels, C x H x W float32)."""

    node_module: str
    maps: np.ndarray
    step: int = 0
    channels: int = 0


@dataclass(frozen=True)
class CheckpointEvent:
    """A checkpoint was written atomically ("last" or "best")."""

    path: str
    kind: str


@dataclass(frozen=True)
class NoteEvent:
    """Something the user should know that does not stop training."""

    message: str


@dataclass(frozen=True)
class HintEvent:
    """The run is not learning well: ``kind`` ("rising" | "plateau" | "nan" | "overfit") and what to try."""

    kind: str
    message: str


@dataclass(frozen=True)
class PausedEvent:
    """Training paused (True) or resumed (False)."""

    paused: bool


@dataclass(frozen=True)
class StoppedEvent:
    """Why the loop ended: "finished", "stopped" (asked to) or "nan" (non-finite loss)."""

    reason: str
    message: str


@dataclass(frozen=True)
class DoneEvent:
    """The trained model (eval mode) with its classes and validation confusion matrix."""

    model: nn.Module
    class_names: list[str]
    confusion: np.ndarray
    per_class_acc: list[float]
    spec: ArchSpec | None = None
    val_acc: float = math.nan
    device: str = "cpu"
    best_path: str | None = None
    last_path: str | None = None


TrainEvent = (StartEvent | StepEvent | EpochEvent | FeatureMapEvent | CheckpointEvent | NoteEvent | HintEvent
              | PausedEvent | StoppedEvent | DoneEvent)
