"""Training settings as data: TrainConfig, the papers' recipes, the learning-rate schedules (no torch).

The small-data recipe that users get by default is chosen from their data in ``training.auto``;
the papers' recipes stay available by name through ``recipe_defaults``.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from inception_studio.errors import StudioError

RECIPES = ("auto", "googlenet", "inception_v3", "adamw")
PAPER_RECIPES = ("googlenet", "inception_v3", "adamw")
OPTIMIZERS = ("sgd", "rmsprop", "adamw")
SCHEDULES = ("onecycle", "step", "cosine", "constant")
TRAIN_PARTS = ("whole", "last", "classifier")
# Suggested "small" model for CPU training: a quarter of the widths at 96 px.
SMALL_WIDTH = 0.25
SMALL_SIZE = 96
MAX_FEATURE_MAPS = 16
MAX_SEED = 2**63 - 1


def max_workers() -> int:
    """The most DataLoader worker processes this machine is allowed: one per CPU core."""
    return max(1, os.cpu_count() or 1)


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
    # what is trained: the whole network, its last ``train_stages`` stages and the head, or the head only
    train_part: str = "whole"
    train_stages: int = 1
    # optimizer
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 2e-4
    rmsprop_decay: float = 0.9
    rmsprop_eps: float = 1.0
    # schedule: "onecycle" warms up over onecycle_pct of the run then anneals (fast.ai, Smith 2018);
    # "step" multiplies by step_gamma every step_epochs epochs; "cosine" anneals to 0
    schedule: str = "step"
    onecycle_pct: float = 0.25
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
    channels_last: bool = True  # where the device gains from it (device.use_channels_last: CUDA and CPU)
    seed: int = 0
    device: str = "auto"
    num_workers: int | None = None  # None: 0 on CPU (decoding in-thread is fastest on 2 cores), more on GPU
    log_every: int | None = None  # steps between loss read-backs; None: 1 on CPU, 20 on GPU
    feature_every: int = 0  # steps between feature-map events (0: off)
    max_steps: int | None = None  # stop (as finished) after this many steps in total
    ddp_timeout_s: float = 300.0  # how long a rank waits for a stalled one before the run fails
    # outputs (rank 0 only)
    out: str | None = None  # the "last" checkpoint; best and resume state sit beside it
    log_json: str | None = None
    tensorboard: str | None = None

    def validate(self) -> None:
        """Raise StudioError naming the first setting that is out of range or of the wrong type."""
        _check_choices(self)
        _check_numbers(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict`` output, ignoring unknown keys (older/newer files); StudioError if unusable."""
        if not isinstance(d, Mapping):
            raise StudioError(f"training config: expected a mapping, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "crop_scale" in kw:
            cs = kw["crop_scale"]
            if not (isinstance(cs, (list, tuple)) and len(cs) == 2):
                raise StudioError(f"crop_scale: expected two numbers, got {cs!r}")
            kw["crop_scale"] = tuple(cs)
        if isinstance(kw.get("num_workers"), int) and kw["num_workers"] > max_workers():
            kw["num_workers"] = None  # saved on a bigger machine: choose again here
        cfg = cls(**kw)
        cfg.validate()
        return cfg


def _bad(name: str, why: str, value: Any) -> None:
    raise StudioError(f"{name}: {why}, got {value!r}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_choices(c: TrainConfig) -> None:
    for name, allowed in (("recipe", RECIPES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                          ("train_part", TRAIN_PARTS)):
        if getattr(c, name) not in allowed:
            _bad(name, f"must be one of {', '.join(allowed)}", getattr(c, name))
    for name in ("augment", "flip", "amp", "channels_last"):
        if not isinstance(getattr(c, name), bool):
            _bad(name, "must be true or false", getattr(c, name))
    if not isinstance(c.device, str):
        _bad("device", "must be a device name such as cpu or cuda", c.device)


def _check_numbers(c: TrainConfig) -> None:
    """Every numeric field: its type, finiteness (NaN and infinity are refused) and range."""
    for name in ("epochs", "batch_size", "train_stages"):
        v = getattr(c, name)
        if not _is_whole(v) or v < 1:
            _bad(name, "must be a whole number >= 1", v)
    for name in ("lr", "momentum", "weight_decay", "rmsprop_decay", "rmsprop_eps", "step_epochs",
                 "step_gamma", "warmup_epochs", "label_smoothing", "color_jitter", "val_fraction",
                 "onecycle_pct", "ddp_timeout_s"):
        if not _is_number(getattr(c, name)):
            _bad(name, "must be a finite number", getattr(c, name))
    for name in ("aux_weight", "grad_clip", "width_mult"):
        v = getattr(c, name)
        if v is not None and not _is_number(v):
            _bad(name, "must be a finite number (or unset)", v)
    if c.lr <= 0:
        _bad("lr", "must be a positive number", c.lr)
    if not 0.0 <= c.val_fraction < 1.0:
        _bad("val_fraction", "must be in [0, 1)", c.val_fraction)
    if not 0.0 <= c.label_smoothing < 1.0:
        _bad("label_smoothing", "must be in [0, 1)", c.label_smoothing)
    if c.aux_weight is not None and c.aux_weight < 0:
        _bad("aux_weight", "must be >= 0", c.aux_weight)
    if c.grad_clip is not None and c.grad_clip <= 0:
        _bad("grad_clip", "must be > 0 (or off)", c.grad_clip)
    if c.weight_decay < 0 or c.momentum < 0 or c.color_jitter < 0 or c.warmup_epochs < 0:
        _bad("weight_decay/momentum/color_jitter/warmup_epochs", "must be >= 0",
             (c.weight_decay, c.momentum, c.color_jitter, c.warmup_epochs))
    if c.step_epochs <= 0 or not 0 < c.step_gamma <= 1:
        _bad("step schedule", "needs step_epochs > 0 and 0 < step_gamma <= 1", (c.step_epochs, c.step_gamma))
    if not 0 < c.onecycle_pct < 1:
        _bad("onecycle_pct", "must be in (0, 1)", c.onecycle_pct)
    cs = c.crop_scale
    if not (isinstance(cs, tuple) and len(cs) == 2 and all(_is_number(v) for v in cs) and 0 < cs[0] <= cs[1] <= 1):
        _bad("crop_scale", "must be two numbers with 0 < min <= max <= 1", cs)
    if c.image_size is not None and (not _is_whole(c.image_size) or not 8 <= c.image_size <= 4096):
        _bad("image_size", "must be a whole number of px in [8, 4096]", c.image_size)
    if c.width_mult is not None and not 0 < c.width_mult <= 16:
        _bad("width_mult", "must be in (0, 16]", c.width_mult)
    if c.max_steps is not None and (not _is_whole(c.max_steps) or c.max_steps < 1):
        _bad("max_steps", "must be a whole number >= 1", c.max_steps)
    if not _is_whole(c.feature_every) or c.feature_every < 0:
        _bad("feature_every", "must be a whole number >= 0", c.feature_every)
    if c.log_every is not None and (not _is_whole(c.log_every) or c.log_every < 1):
        _bad("log_every", "must be a whole number >= 1", c.log_every)
    if not _is_whole(c.seed) or not 0 <= c.seed <= MAX_SEED:
        _bad("seed", f"must be a whole number in [0, {MAX_SEED}]", c.seed)
    if c.num_workers is not None and (not _is_whole(c.num_workers) or not 0 <= c.num_workers <= max_workers()):
        _bad("workers", f"must be a whole number from 0 to {max_workers()} (this machine's CPU cores)", c.num_workers)
    if c.ddp_timeout_s <= 0:
        _bad("ddp_timeout_s", "must be > 0 seconds", c.ddp_timeout_s)


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
        raise StudioError(f"recipe: must be one of {', '.join(PAPER_RECIPES)}, got {name!r} "
                          "(the 'auto' recipe is chosen from the data: training.auto.auto_recipe)")
    return replace(cfg, **overrides) if overrides else cfg


def total_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    """Steps in the whole run: epochs x steps per epoch, capped by max_steps."""
    full = config.epochs * max(1, steps_per_epoch)
    return full if config.max_steps is None else min(full, config.max_steps)


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate for global ``step`` (0-based) under the config's warmup and schedule."""
    spe = max(1, steps_per_epoch)
    epoch_float = step / spe
    if config.schedule == "onecycle":
        return _onecycle(config.lr, step, total_steps(config, spe), config.onecycle_pct)
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


def _onecycle(peak: float, step: int, total: int, pct: float) -> float:
    """One cycle: cosine from peak/25 up to peak over ``pct`` of the run, then cosine down to peak/1e4."""
    total = max(1, total)
    warm = max(1, int(round(pct * total)))
    low, end = peak / 25.0, peak / 1e4
    if step < warm:
        return low + (peak - low) * 0.5 * (1.0 - math.cos(math.pi * step / warm))
    t = min(1.0, (step - warm) / max(1, total - warm))
    return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * t))
