"""Images in, tensors out: robust image decoding, preprocessing, ImageFolder scanning and demo data.

Owns everything between a file on disk and a normalised CxHxW float tensor: ``load_image`` (any
common format, EXIF orientation, every colour mode to RGB or L, decompression-bomb and truncation
refusal as one-line ``ImageError``), ``Preprocess`` (eval/train transforms), ``scan_image_folder``
(ImageFolder layout, bad files skipped with reasons), ``stratified_split``, ``ImageDataset``, the
synthetic shapes dataset used for demos and tests, and ``tensor_to_display`` for thumbnails.
Pure Python/torch/PIL, no Qt.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import struct
import tempfile
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from torchvision import transforms as T

from inception_studio.errors import DataError, ImageError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff", ".webp",
     ".ppm", ".pgm", ".pbm", ".pnm"}
)

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
INTERPOLATIONS = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image

# Serialises our warnings.catch_warnings() blocks (they swap process-wide state) around header parsing.
_OPEN_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------- loading
def is_image_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` has a known image extension and is not a hidden file (name only, no I/O)."""
    p = Path(path)
    return not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS


def _bomb_reason(pixels: int, limit: int) -> str:
    """The one-line refusal for an image over the pixel limit."""
    return f"decompression bomb: {pixels} pixels exceeds the {limit} limit"


def _pil_bomb_reason(exc: BaseException) -> str:
    """Turn Pillow's DecompressionBomb warning/error into our one-line reason."""
    match = re.search(r"\((\d+) pixels\)", str(exc))
    limit = Image.MAX_IMAGE_PIXELS or 0
    if match:
        return _bomb_reason(int(match.group(1)), limit)
    return f"decompression bomb: image exceeds the {limit} pixel limit"


def _decode_reason(exc: BaseException) -> str:
    """A short one-line reason for a decoder failure."""
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return _pil_bomb_reason(exc)
    if isinstance(exc, UnidentifiedImageError):
        return "not an image (unrecognised format)"
    text = " ".join(str(exc).split())
    low = text.lower()
    if "truncated" in low or "unexpected end" in low or "premature end" in low:
        return "truncated image data"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode"
    if not text:
        text = type(exc).__name__
    if len(text) > 160:
        text = text[:157] + "..."
    return f"cannot decode image ({text})"


def _display_name(source: Any, name: str | None) -> str:
    """The file name used in messages for a path, bytes or PIL image source."""
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    if isinstance(source, Image.Image):
        filename = getattr(source, "filename", "") or ""
        return Path(filename).name if filename else "<image>"
    return "<bytes>"


def _open(fp: Any) -> Image.Image:
    """Image.open with Pillow's DecompressionBombWarning raised as an error (header parse only)."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(fp)


def _check_path(path: Path, name: str) -> None:
    """Refuse missing files, folders and empty files before opening them."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except PermissionError:
        raise ImageError(f"{name}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise ImageError(f"{name}: is a folder, not an image file")
    if st.st_size == 0:
        raise ImageError(f"{name}: empty file")


def _scale_to_uint8(arr: np.ndarray, *, sixteen_bit: bool) -> np.ndarray:
    """Scale an integer or float array to 0..255 uint8 (16-bit by /257, floats by range)."""
    if sixteen_bit:
        return np.clip(np.rint(arr.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    a = arr.astype(np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros(arr.shape, dtype=np.uint8)
    lo, hi = float(finite.min()), float(finite.max())
    a = np.nan_to_num(a, nan=lo, posinf=hi, neginf=lo)
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        out = a * 255.0
    elif lo >= 0.0 and hi <= 255.0:
        out = a
    elif np.issubdtype(arr.dtype, np.integer) and lo >= 0 and hi <= 65535:
        out = a / 257.0
    else:
        out = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite an image with alpha onto a white background, returning RGB."""
    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_mode(img: Image.Image, channels: int) -> Image.Image:
    """Convert any Pillow mode to RGB (channels=3) or L (channels=1), scaling deep images properly."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(img)
        img = Image.fromarray(_scale_to_uint8(arr, sixteen_bit=mode.startswith("I;16")), "L")
        mode = "L"
    elif mode == "1":
        img = img.convert("L")
        mode = "L"
    elif mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in img.info):
        img = _flatten_alpha(img)
        mode = "RGB"
    elif mode not in ("L", "RGB"):
        img = img.convert("RGB")
        mode = "RGB"
    target = "RGB" if channels == 3 else "L"
    return img if mode == target else img.convert(target)


def load_image(
    source: ImageSource,
    channels: int = 3,
    *,
    max_pixels: int | None = None,
    name: str | None = None,
) -> Image.Image:
    """Decode a path, bytes or PIL image to a fully loaded RGB/L image; ImageError on any failure."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    label = _display_name(source, name)
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    own_file = False
    if isinstance(source, Image.Image):
        img = source
    else:
        if isinstance(source, (bytes, bytearray, memoryview)):
            if len(source) == 0:
                raise ImageError(f"{label}: empty file")
            fp: Any = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            path = Path(source)
            _check_path(path, label)
            fp = path
        else:
            raise TypeError(f"cannot load an image from {type(source).__name__}")
        try:
            img = _open(fp)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageError(f"{label}: {_pil_bomb_reason(exc)}") from None
        except UnidentifiedImageError:
            raise ImageError(f"{label}: not an image (unrecognised format)") from None
        except PermissionError:
            raise ImageError(f"{label}: permission denied") from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise ImageError(f"{label}: {_decode_reason(exc)}") from None
        own_file = True
    try:
        width, height = img.size
        if width <= 0 or height <= 0:
            raise ImageError(f"{label}: image has no pixels ({width}x{height})")
        if limit and width * height > limit:
            raise ImageError(f"{label}: {_bomb_reason(width * height, limit)}")
        try:
            img.load()
            try:
                oriented = ImageOps.exif_transpose(img)
            except Exception:  # noqa: BLE001 - broken EXIF must not lose the picture
                oriented = None
            out = _to_mode(oriented if oriented is not None else img, channels)
            if out is img:
                out = img.copy()  # never hand back the caller's object or one tied to our open file
        except ImageError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError, TypeError, IndexError,
                struct.error) as exc:
            raise ImageError(f"{label}: {_decode_reason(exc)}") from None
        return out
    finally:
        if own_file:
            img.close()



def _probe(path: Path, max_pixels: int | None) -> str | None:
    """Check one file's header with PIL ``verify()``; None if it looks usable, else a one-line reason."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    if st.st_size == 0:
        return "empty file"
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with _open(path) as img:
            width, height = img.size
            if width <= 0 or height <= 0:
                return f"image has no pixels ({width}x{height})"
            if limit and width * height > limit:
                return _bomb_reason(width * height, limit)
            img.verify()
    except PermissionError:
        return "permission denied"
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "skip this file"
        return _decode_reason(exc)
    return None


# ---------------------------------------------------------------------------------- preprocessing
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
            img = _to_mode(img, self.channels)
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


# ------------------------------------------------------------------------------------ folder scan
@dataclass
class FolderScan:
    """Result of scanning an ImageFolder tree: classes, usable samples, skipped files and counts."""

    root: str
    classes: list[str]
    samples: list[tuple[str, int]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    empty_classes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        """Number of classes with at least one usable image."""
        return len(self.classes)


def _is_hidden(name: str) -> bool:
    """Hidden/OS-junk names that a scan ignores silently (dotfiles, Thumbs.db, desktop.ini)."""
    return name.startswith(".") or name.lower() in {"thumbs.db", "desktop.ini"}


def _walk_files(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder`` (recursively, following links), in sorted order."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for fname in sorted(filenames):
            if not _is_hidden(fname):
                found.append(Path(dirpath) / fname)
    return found


def scan_image_folder(
    root: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FolderScan:
    """Scan root/<class>/<image> files, verifying each header; bad files are skipped with a reason."""
    root_path = Path(root)
    if not root_path.exists():
        raise DataError(f"{root_path}: folder not found")
    if not root_path.is_dir():
        raise DataError(f"{root_path}: not a folder")
    try:
        class_dirs = sorted(
            (p for p in root_path.iterdir() if p.is_dir() and not _is_hidden(p.name)), key=lambda p: p.name
        )
    except OSError as exc:
        raise DataError(f"{root_path}: cannot list folder ({exc.strerror or exc})") from None
    if not class_dirs:
        raise DataError(f"{root_path}: no class subfolders (expected {root_path.name}/<class>/<image files>)")

    per_class: list[tuple[str, list[Path]]] = [(d.name, _walk_files(d)) for d in class_dirs]
    all_files = [f for _, files in per_class for f in files]
    total = len(all_files)
    n_workers = workers if workers is not None else min(8, (os.cpu_count() or 2) + 2)
    reasons: list[str | None] = []
    if progress is not None:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, n_workers)) as pool:
        for i, reason in enumerate(pool.map(lambda f: _probe(f, max_pixels), all_files), 1):
            reasons.append(reason)
            if progress is not None and (i % 64 == 0 or i == total):
                progress(i, total)

    classes: list[str] = []
    samples: list[tuple[str, int]] = []
    skipped: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    empty: list[str] = []
    pos = 0
    for cls_name, files in per_class:
        good: list[str] = []
        for f in files:
            reason = reasons[pos]
            pos += 1
            if reason is None:
                good.append(str(f))
            else:
                skipped.append((str(f), reason))
        if not good:
            empty.append(cls_name)
            continue
        label = len(classes)
        classes.append(cls_name)
        counts[cls_name] = len(good)
        samples.extend((g, label) for g in good)
    if not samples:
        raise DataError(
            f"{root_path}: no readable images in {len(class_dirs)} class folder(s)"
            + (f" ({len(skipped)} file(s) skipped)" if skipped else "")
        )
    return FolderScan(str(root_path), classes, samples, skipped, counts, empty)


def stratified_split(
    samples: Sequence[tuple[str, int]],
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Split per class, deterministically; every class with >= 2 images puts >= 1 in val and >= 1 in train."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), not {val_fraction}")
    by_label: dict[int, list[int]] = defaultdict(list)
    for index, (_, label) in enumerate(samples):
        by_label[label].append(index)
    val_idx: set[int] = set()
    for label in sorted(by_label):
        indices = by_label[label]
        n = len(indices)
        if val_fraction == 0.0 or n < 2:
            continue
        n_val = min(n - 1, max(1, int(round(n * val_fraction))))
        order = list(indices)
        random.Random(f"{seed}:{label}").shuffle(order)
        val_idx.update(order[:n_val])
    train = [s for i, s in enumerate(samples) if i not in val_idx]
    val = [s for i, s in enumerate(samples) if i in val_idx]
    return train, val


class ImageDataset(torch.utils.data.Dataset):
    """(path, label) samples decoded with ``load_image`` and passed through ``transform``."""

    def __init__(
        self,
        samples: Sequence[tuple[str, int]],
        transform: Callable[[Image.Image], Any] | None,
        channels: int = 3,
        max_pixels: int | None = None,
    ) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {channels}")
        self.samples = [(str(p), int(y)) for p, y in samples]
        self.transform = transform
        self.channels = channels
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        """Number of samples."""
        return len(self.samples)

    @property
    def targets(self) -> list[int]:
        """The label of every sample, in order."""
        return [y for _, y in self.samples]

    def __getitem__(self, index: int) -> tuple[Any, int]:
        """Decode sample ``index`` and return (transformed image, label); ImageError names a bad file."""
        path, label = self.samples[index]
        img = load_image(path, self.channels, max_pixels=self.max_pixels)
        if self.transform is None:
            return T.functional.to_tensor(img), label
        return self.transform(img), label


# -------------------------------------------------------------------------------------- demo data
DEMO_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "stripes")
DEMO_VERSION = "demo-v1"
_DEMO_DEFAULTS = {"per_class": 60, "size": 64, "seed": 0}
_DEMO_MARKER = ".complete.json"


def _random_colour(rng: np.random.Generator, avoid: np.ndarray | None = None) -> np.ndarray:
    """A random RGB colour, at least a clear distance from ``avoid`` when given."""
    for _ in range(64):
        c = rng.integers(0, 256, 3)
        if avoid is None or np.abs(c - avoid).sum() >= 240:
            return c
    return 255 - avoid if avoid is not None else c  # pragma: no cover - practically unreachable


def _demo_image(class_index: int, rng: np.random.Generator, size: int) -> Image.Image:
    """Draw one demo image of class ``DEMO_CLASSES[class_index]``."""
    bg = _random_colour(rng)
    fg = _random_colour(rng, avoid=bg)
    # Background: base colour, a random linear gradient and per-pixel noise.
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(1, size - 1)
    gx, gy = rng.uniform(-40, 40, 2)
    base = bg[None, None, :].astype(np.float32) + (gx * xx + gy * yy)[..., None]
    base += rng.normal(0.0, 8.0, (size, size, 3))
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")

    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    radius = float(rng.uniform(0.22, 0.36) * size)
    cx, cy = (float(v) for v in rng.uniform(radius + 1, size - radius - 1, 2))
    name = DEMO_CLASSES[class_index]
    if name == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    elif name == "square":
        angle = rng.uniform(-0.25, 0.25)
        half = radius * 0.85
        pts = [(-half, -half), (half, -half), (half, half), (-half, half)]
        c, s = np.cos(angle), np.sin(angle)
        draw.polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts], fill=255)
    elif name == "triangle":
        angle = rng.uniform(0, 2 * np.pi)
        r = radius * 1.15  # a bit larger than the circle's radius so the areas are comparable
        draw.polygon(
            [(cx + r * np.cos(angle + k * 2 * np.pi / 3), cy + r * np.sin(angle + k * 2 * np.pi / 3))
             for k in range(3)],
            fill=255,
        )
    else:  # stripes: a round patch of parallel bars at a random angle
        period = rng.uniform(0.10, 0.16) * size
        angle = rng.uniform(0, np.pi)
        proj = (xx * (size - 1) - cx) * np.cos(angle) + (yy * (size - 1) - cy) * np.sin(angle)
        bars = (np.floor(proj / (period / 2)) % 2 == 0)
        disc = (xx * (size - 1) - cx) ** 2 + (yy * (size - 1) - cy) ** 2 <= (radius * 1.1) ** 2
        mask = Image.fromarray(((bars & disc) * 255).astype(np.uint8), "L")
    shade = rng.normal(0.0, 8.0, (size, size, 3))
    fg_img = Image.fromarray(np.clip(fg[None, None, :] + shade, 0, 255).astype(np.uint8), "RGB")
    img.paste(fg_img, (0, 0), mask)
    return img


def make_demo_folder(
    dest: str | os.PathLike[str],
    per_class: int = 60,
    size: int = 64,
    seed: int = 0,
) -> Path:
    """Write ``per_class`` deterministic PNGs per demo class into dest/<class>/ and return ``dest``."""
    if per_class < 1 or size < 16:
        raise ValueError("per_class must be >= 1 and size >= 16")
    root = Path(dest)
    for class_index, name in enumerate(DEMO_CLASSES):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            rng = np.random.default_rng(np.random.SeedSequence([seed, class_index, i]))
            _demo_image(class_index, rng, size).save(folder / f"{name}_{i:04d}.png", optimize=False)
    return root


def user_cache_dir() -> Path:
    """The app's cache folder: $INCEPTION_STUDIO_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /inception_studio."""
    override = os.environ.get("INCEPTION_STUDIO_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "inception_studio"


def _demo_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished demo set (its marker file exists)."""
    return (folder / _DEMO_MARKER).is_file()


def demo_data_dir() -> Path:
    """The cached demo dataset folder, generated atomically on first use and reused afterwards."""
    target = user_cache_dir() / DEMO_VERSION
    if _demo_complete(target):
        return target
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # a leftover without the marker: not ours to trust
            shutil.rmtree(target, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{DEMO_VERSION}-tmp-", dir=parent))
    except OSError as exc:
        raise DataError(f"{parent}: cannot create the demo data cache ({exc.strerror or exc})") from None
    try:
        make_demo_folder(tmp, **_DEMO_DEFAULTS)
        (tmp / _DEMO_MARKER).write_text(
            json.dumps({"version": DEMO_VERSION, "classes": list(DEMO_CLASSES), **_DEMO_DEFAULTS}),
            encoding="utf-8",
        )
        try:
            os.replace(tmp, target)
        except OSError:
            if not _demo_complete(target):  # someone else won the race only if theirs is complete
                raise
    except OSError as exc:
        raise DataError(f"{target}: cannot write the demo data ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def iter_demo_samples(root: str | os.PathLike[str]) -> Iterable[tuple[str, int]]:
    """Yield (path, label) for a folder written by ``make_demo_folder``, without verifying files."""
    base = Path(root)
    for label, name in enumerate(DEMO_CLASSES):
        for f in sorted((base / name).glob("*.png")):
            yield str(f), label
