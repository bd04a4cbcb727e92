"""The small-data recipe: training settings chosen from the user's data and model, with the reason.

The papers' recipes are tuned for 100 epochs of ImageNet on many GPUs: crops down to 8% of the image,
flips and an SGD learning rate of 0.01 barely move, or destroy, a few hundred small images in a few
minutes. This recipe is what users get unless they pick one: AdamW with a one-cycle schedule (a short
warm-up, then a cosine decay; Smith 2018, the fast.ai default), crops that keep most of the image,
flips only for photos, label smoothing, and enough epochs for a few hundred steps. Each choice is a
plain TrainConfig field, so the user can change any of them; ``AutoRecipe.reason`` says why in one
line. No torch here (the GUI shows the reason before torch has loaded).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image

from inception_studio.core.analysis import min_input_size
from inception_studio.core.spec import ArchSpec
from inception_studio.engine.training.config import TrainConfig

_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "P;L"}
TARGET_STEPS = {"cpu": 500, "gpu": 1000}  # about how many optimizer steps a default run takes
MAX_EPOCHS = 40
MIN_EPOCHS = 4


@dataclass(frozen=True)
class DataProfile:
    """What the recipe looks at: training images, classes, typical size and colour of the images."""

    images: int
    classes: int
    size: int  # median shorter side of the sampled images, in px
    grayscale: bool  # every sampled image is single-channel

    def describe(self) -> str:
        """ "1,437 images at 32 px, 10 classes, grayscale" """
        gray = ", grayscale" if self.grayscale else ""
        return f"{self.images:,} images at {self.size} px, {self.classes} classes{gray}"


def profile_images(paths: Sequence[str], classes: int, sample: int = 48) -> DataProfile:
    """Profile a data set from the headers of up to ``sample`` evenly spread images (no pixels decoded)."""
    n = len(paths)
    picks = [paths[int(i * n / sample)] for i in range(sample)] if n > sample else list(paths)
    sizes: list[int] = []
    gray = True
    for path in picks:
        try:
            with Image.open(path) as img:  # reads the header only
                sizes.append(min(img.size))
                gray = gray and (img.mode in _GRAY_MODES)
        except (OSError, ValueError, Image.DecompressionBombError):
            continue
    size = int(statistics.median(sizes)) if sizes else 224
    return DataProfile(n, classes, size, gray and bool(sizes))


@dataclass(frozen=True)
class AutoRecipe:
    """The chosen settings and the one-line reason shown to the user."""

    config: TrainConfig
    reason: str


def _round8(x: float) -> int:
    return int(math.ceil(x / 8) * 8)


def choose_image_size(profile: DataProfile, spec: ArchSpec) -> int | None:
    """A training size for images much smaller than the model's input (twice theirs), else None (keep)."""
    if profile.size * 2 >= spec.input_size:
        return None
    size = _round8(max(2 * profile.size, 32))
    need = min_input_size(spec)
    if need is not None and size < need:
        size = _round8(need)
    return size if size < spec.input_size else None


def auto_recipe(profile: DataProfile, spec: ArchSpec, device_type: str = "cpu",
                image_size: int | None = None) -> AutoRecipe:
    """The small-data recipe for ``profile`` on ``spec`` (its batch norm, input size) and the device.

    ``image_size``: the size the user asked for (None: chosen here when the images are small).
    """
    bn = spec.bn
    big = profile.images >= 320
    batch = 64 if (device_type != "cpu" and profile.images >= 2000) else (32 if big else 16)
    steps_per_epoch = max(1, profile.images // batch)
    target = TARGET_STEPS["cpu" if device_type == "cpu" else "gpu"]
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(target / steps_per_epoch)))
    photo = not profile.grayscale and profile.size >= 96
    crop_min = 0.5 if profile.size <= 64 else 0.35
    # Without batch norm the signal scale is not reset after each layer: a smaller step and clipping.
    lr = 5e-3 if bn else 1e-3
    size = image_size if image_size is not None else choose_image_size(profile, spec)
    cfg = TrainConfig(
        recipe="auto", optimizer="adamw", lr=lr, weight_decay=0.05, schedule="onecycle", onecycle_pct=0.25,
        epochs=epochs, batch_size=batch, label_smoothing=0.1, grad_clip=None if bn else 1.0,
        augment=True, crop_scale=(crop_min, 1.0), flip=photo, color_jitter=0.0 if profile.grayscale else 0.1,
        image_size=size,
    )
    parts = [f"AdamW one-cycle (lr {lr:g})", f"crops >= {crop_min:.0%}",
             "flips" if photo else "no flips", "no colour jitter" if profile.grayscale else "mild colour jitter",
             "label smoothing 0.1", f"batch {batch}", f"{epochs} epochs"]
    if size is not None and image_size is None:
        parts.append(f"trained at {size} px")
    why = []
    if not bn:
        why.append("no batch norm: lower lr, gradients clipped at 1")
    if not photo:
        why.append("flips can change what small or grayscale images show (digits, letters); turn them on for photos")
    reason = f"{profile.describe()}: {', '.join(parts)}" + (f" ({'; '.join(why)})" if why else "")
    return AutoRecipe(cfg, reason)


def apply_auto(config: TrainConfig, recipe: AutoRecipe, keep: Sequence[str] = ()) -> TrainConfig:
    """``recipe``'s settings over ``config``, keeping the fields named in ``keep`` (the user's choices)."""
    chosen = recipe.config
    over = {k: getattr(config, k) for k in keep}
    return replace(chosen, **over)
