"""How decoded images become model input: ``Preprocess`` (resize, centre crop or random resized crop,
flips, colour jitter, normalisation, channel count) and ``tensor_to_display``, its inverse for thumbnails.

The normalisation constants themselves are the spec's (core.spec.IMAGENET_MEAN, ...). No Qt.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

from inception_studio.core.spec import IMAGENET_MEAN, IMAGENET_STD
from inception_studio.engine.data.images import to_mode

INTERPOLATIONS = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}


class _ToNormalizedTensor:
    """PIL image -> float CxHxW tensor in [0,1], then normalised; converts the mode if needed."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], channels: int) -> None:
        self.mean = mean
        self.std = std
        self.channels = channels
        self._to_tensor = T.ToTensor()
        self._normalize = T.Normalize(mean, std)

    def __call__(self, img: Image.Image) -> torch.Tensor:
        """Convert and normalise one image."""
        want = "RGB" if self.channels == 3 else "L"
        if img.mode != want:
            img = to_mode(img, self.channels)
        return self._normalize(self._to_tensor(img))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std}, channels={self.channels})"


def _fit_stats(values: Sequence[float], channels: int, what: str) -> tuple[float, ...]:
    """Adapt mean/std to the channel count: average 3 values for 1 channel, repeat 1 value for 3."""
    vals = tuple(float(v) for v in values)
    if len(vals) == channels:
        return vals
    if channels == 1 and len(vals) == 3:
        return (sum(vals) / 3.0,)
    if channels == 3 and len(vals) == 1:
        return vals * 3
    raise ValueError(f"{what} has {len(vals)} values but the images have {channels} channel(s)")


@dataclass(frozen=True)
class Preprocess:
    """How images become model input: crop size, resize ratio, normalisation, interpolation, channels."""

    image_size: int
    crop_pct: float = 0.875
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    channels: int = 3

    def __post_init__(self) -> None:
        """Validate the fields and normalise mean/std to float tuples."""
        if int(self.image_size) != self.image_size or self.image_size < 1:
            raise ValueError(f"image_size must be a positive integer, not {self.image_size!r}")
        if not 0.0 < float(self.crop_pct) <= 1.0:
            raise ValueError(f"crop_pct must be in (0, 1], not {self.crop_pct!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {sorted(INTERPOLATIONS)}, not {self.interpolation!r}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {self.channels!r}")
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std values must be positive, not {self.std}")
        _fit_stats(self.mean, self.channels, "mean")
        _fit_stats(self.std, self.channels, "std")

    @classmethod
    def for_size(
        cls,
        image_size: int,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        crop_pct: float = 0.875,
        interpolation: str = "bilinear",
        channels: int = 3,
    ) -> Preprocess:
        """Build a Preprocess for a crop size, with ImageNet statistics unless told otherwise."""
        return cls(int(image_size), float(crop_pct), tuple(mean), tuple(std), interpolation, int(channels))

    @property
    def resize_size(self) -> int:
        """Shorter-side size before the centre crop: round(image_size / crop_pct)."""
        return max(self.image_size, int(round(self.image_size / self.crop_pct)))

    @property
    def channel_mean(self) -> tuple[float, ...]:
        """The mean actually applied, one value per channel."""
        return _fit_stats(self.mean, self.channels, "mean")

    @property
    def channel_std(self) -> tuple[float, ...]:
        """The std actually applied, one value per channel."""
        return _fit_stats(self.std, self.channels, "std")

    def _finish(self) -> _ToNormalizedTensor:
        """The to-tensor-and-normalise tail shared by both transforms."""
        return _ToNormalizedTensor(self.channel_mean, self.channel_std, self.channels)

    def eval_transform(self) -> Callable[[Image.Image], torch.Tensor]:
        """Resize shorter side to resize_size, centre-crop image_size, to tensor, normalise."""
        interp = INTERPOLATIONS[self.interpolation]
        return T.Compose([
            T.Resize(self.resize_size, interpolation=interp),
            T.CenterCrop(self.image_size),
            self._finish(),
        ])

    def train_transform(
        self,
        augment: bool = True,
        scale: tuple[float, float] = (0.08, 1.0),
        flip: bool = True,
        color_jitter: float = 0.4,
    ) -> Callable[[Image.Image], torch.Tensor]:
        """RandomResizedCrop + optional flip + colour jitter (RGB only), then normalise; eval if not augment."""
        if not augment:
            return self.eval_transform()
        interp = INTERPOLATIONS[self.interpolation]
        steps: list[Any] = [T.RandomResizedCrop(self.image_size, scale=tuple(scale), interpolation=interp)]
        if flip:
            steps.append(T.RandomHorizontalFlip())
        if color_jitter and color_jitter > 0 and self.channels == 3:
            steps.append(T.ColorJitter(brightness=color_jitter, contrast=color_jitter, saturation=color_jitter))
        steps.append(self._finish())
        return T.Compose(steps)


def tensor_to_display(
    t: torch.Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> np.ndarray:
    """Undo normalisation of a CxHxW (or 1xCxHxW) tensor and return uint8 HxWx3 for display."""
    x = t.detach().to("cpu", torch.float32)
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if x.dim() != 3:
        raise ValueError(f"expected a CxHxW tensor, got shape {tuple(t.shape)}")
    c = x.shape[0]
    m = torch.tensor(_fit_stats(mean, c, "mean")).view(c, 1, 1)
    s = torch.tensor(_fit_stats(std, c, "std")).view(c, 1, 1)
    x = (x * s + m).clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    if c == 1:
        x = x.expand(3, -1, -1)
    elif c != 3:
        x = x[:3]
    return np.ascontiguousarray(x.permute(1, 2, 0).numpy())
