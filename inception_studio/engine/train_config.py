"""Training recipes as data: TrainConfig, the papers' defaults, the learning-rate schedule (no torch)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from inception_studio.errors import StudioError

RECIPES = ("googlenet", "inception_v3", "adamw")
OPTIMIZERS = ("sgd", "rmsprop", "adamw")
SCHEDULES = ("step", "cosine", "constant")
# Suggested "small" model for CPU training: a quarter of the widths at 96 px.
SMALL_WIDTH = 0.25
SMALL_SIZE = 96
MAX_FEATURE_MAPS = 16


# ----------------------------------------------------------------------------------------- config
@dataclass
class TrainConfig:
    """Every setting of one run: data split, model sizing, recipe (optimizer, schedule, ...), outputs."""

    recipe: str = "googlenet"
    # data
    val_fraction: float = 0.2
    # model sizing (None: keep the spec's)
    image_size: int | None = None
    width_mult: float | None = None
    # optimizer
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 2e-4
    rmsprop_decay: float = 0.9
    rmsprop_eps: float = 1.0
    # schedule: "step" multiplies by step_gamma every step_epochs epochs; "cosine" anneals to 0
    schedule: str = "step"
    step_epochs: float = 8.0
    step_gamma: float = 0.96
    warmup_epochs: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    # loss
    label_smoothing: float = 0.0
    aux_weight: float | None = None  # None: each aux head's spec loss_weight (0.3 GoogLeNet, 0.4 v3)
    grad_clip: float | None = None
    # augmentation
    augment: bool = True
    crop_scale: tuple[float, float] = (0.08, 1.0)
    flip: bool = True
    color_jitter: float = 0.4
    # runtime
    amp: bool = True  # mixed precision where the device has it (CUDA bf16/fp16, MPS fp16)
    channels_last: bool = True  # on CUDA only
    seed: int = 0
    device: str = "auto"
    num_workers: int | None = None  # None: 0 on CPU (decoding in-thread is fastest on 2 cores), more on GPU
    log_every: int | None = None  # steps between loss read-backs; None: 1 on CPU, 20 on GPU
    feature_every: int = 0  # steps between feature-map events (0: off)
    max_steps: int | None = None  # stop (as finished) after this many steps in total
    # outputs (rank 0 only)
    out: str | None = None  # the "last" checkpoint; best and resume state sit beside it
    log_json: str | None = None
    tensorboard: str | None = None

    def validate(self) -> None:
        """Raise StudioError naming the first setting that is out of range."""
        def bad(name: str, why: str, value: Any) -> None:
            raise StudioError(f"{name}: {why}, got {value!r}")

        if self.recipe not in RECIPES:
            bad("recipe", f"must be one of {', '.join(RECIPES)}", self.recipe)
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", f"must be one of {', '.join(OPTIMIZERS)}", self.optimizer)
        if self.schedule not in SCHEDULES:
            bad("schedule", f"must be one of {', '.join(SCHEDULES)}", self.schedule)
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad(name, "must be a whole number >= 1", v)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            bad("lr", "must be a positive number", self.lr)
        if not 0.0 <= self.val_fraction < 1.0:
            bad("val_fraction", "must be in [0, 1)", self.val_fraction)
        if not 0.0 <= self.label_smoothing < 1.0:
            bad("label_smoothing", "must be in [0, 1)", self.label_smoothing)
        if self.aux_weight is not None and self.aux_weight < 0:
            bad("aux_weight", "must be >= 0", self.aux_weight)
        if self.grad_clip is not None and self.grad_clip <= 0:
            bad("grad_clip", "must be > 0 (or off)", self.grad_clip)
        if self.weight_decay < 0 or self.momentum < 0:
            bad("weight_decay/momentum", "must be >= 0", (self.weight_decay, self.momentum))
        if self.step_epochs <= 0 or not 0 < self.step_gamma <= 1:
            bad("step schedule", "needs step_epochs > 0 and 0 < step_gamma <= 1", (self.step_epochs, self.step_gamma))
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            bad("crop_scale", "must satisfy 0 < min <= max <= 1", self.crop_scale)
        if self.image_size is not None and self.image_size < 8:
            bad("image_size", "must be at least 8 px", self.image_size)
        if self.width_mult is not None and not 0 < self.width_mult <= 16:
            bad("width_mult", "must be in (0, 16]", self.width_mult)
        if self.max_steps is not None and self.max_steps < 1:
            bad("max_steps", "must be >= 1", self.max_steps)
        if self.feature_every < 0 or (self.log_every is not None and self.log_every < 1):
            bad("feature_every/log_every", "must be >= 0 / >= 1", (self.feature_every, self.log_every))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict`` output, ignoring unknown keys (older/newer files)."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "crop_scale" in kw:
            kw["crop_scale"] = tuple(kw["crop_scale"])
        return cls(**kw)


def recipe_defaults(name: str, **overrides: Any) -> TrainConfig:
    """The papers' recipe ``name`` ("googlenet" | "inception_v3" | "adamw") as a TrainConfig."""
    if name == "googlenet":
        # [P1]: SGD momentum 0.9, LR cut 4% every 8 epochs; Caffe's bvlc_googlenet: lr 0.01, wd 2e-4.
        cfg = TrainConfig(recipe=name, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=2e-4,
                          schedule="step", step_epochs=8, step_gamma=0.96, label_smoothing=0.0, grad_clip=None)
    elif name == "inception_v3":
        # [P3]: RMSProp decay 0.9, eps 1.0, lr 0.045 x0.94 every 2 epochs, clip 2.0, label smoothing 0.1;
        # momentum 0.9 and wd 4e-5 from TF-slim's train_image_classifier.
        cfg = TrainConfig(recipe=name, optimizer="rmsprop", lr=0.045, momentum=0.9, weight_decay=4e-5,
                          rmsprop_decay=0.9, rmsprop_eps=1.0, schedule="step", step_epochs=2, step_gamma=0.94,
                          label_smoothing=0.1, grad_clip=2.0)
    elif name == "adamw":
        cfg = TrainConfig(recipe=name, optimizer="adamw", lr=1e-3, weight_decay=0.05, schedule="cosine",
                          label_smoothing=0.1, grad_clip=None)
    else:
        raise StudioError(f"recipe: must be one of {', '.join(RECIPES)}, got {name!r}")
    return replace(cfg, **overrides) if overrides else cfg


def demo_recipe(**overrides: Any) -> TrainConfig:
    """A recipe that visibly learns the demo shapes in about half a minute on 2 CPU cores.

    AdamW at lr 3e-3 with milder crops (half the image or more, so the shape stays in view); the
    papers' recipes are tuned for 100 epochs of ImageNet and barely move in 30 epochs of 200 images.
    """
    cfg = recipe_defaults("adamw", lr=3e-3, epochs=30, crop_scale=(0.5, 1.0))
    return replace(cfg, **overrides) if overrides else cfg


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate for global ``step`` (0-based) under the config's warmup and schedule."""
    spe = max(1, steps_per_epoch)
    epoch_float = step / spe
    if config.schedule == "step":
        factor = config.step_gamma ** math.floor((step // spe) / config.step_epochs)
    elif config.schedule == "cosine":
        total = max(1, config.epochs * spe)
        factor = 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    else:
        factor = 1.0
    if config.warmup_epochs > 0 and epoch_float < config.warmup_epochs:
        factor *= (step + 1) / (config.warmup_epochs * spe)
    return config.lr * factor
