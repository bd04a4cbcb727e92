"""Decoding image files robustly: any common format to a fully loaded RGB or L image, or a one-line error.

Owns ``load_image`` (a path, bytes or PIL image; EXIF orientation applied; every colour mode to RGB
or L, deep images scaled properly; decompression bombs, truncated and foreign files refused as a
one-line ``ImageError``), the header-only check a folder scan makes of each file (``probe_image``), and
the two ways a file is opened (``open_image_file``: regular, non-empty files only;
``open_image_header``: Pillow's bomb warning raised as an error); what an image source is called
(``source_name``) and the image files a dropped folder holds (``expand_sources``). Pure Python/PIL/numpy,
no Qt.
"""
from __future__ import annotations

import io
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inception_studio.core.files import NotReadable, open_regular
from inception_studio.errors import ImageError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff", ".webp",
     ".ppm", ".pgm", ".pbm", ".pnm"}
)

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image

# Serialises our warnings.catch_warnings() blocks (they swap process-wide state) around header parsing.
_OPEN_LOCK = threading.Lock()


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


def source_name(source: Any) -> str:
    """An image source as messages and results name it: the file name, a PIL image's name or file name
    ("<image>" without either), "<bytes>" for bytes."""
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    if isinstance(source, Image.Image):
        return str(source.info.get("name") or Path(getattr(source, "filename", "") or "").name or "<image>")
    return "<bytes>"


def expand_sources(items: Iterable[Any]) -> list[Any]:
    """Paths as dropped: folders become the image files inside them (sorted, recursive, hidden skipped).

    Files named explicitly are kept whatever their extension, so a bad one gets its own message.
    """
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and Path(item).is_dir():
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out += [os.path.join(root, f) for f in sorted(files) if is_image_path(f)]
        else:
            out.append(item)
    return out


def open_image_header(fp: Any) -> Image.Image:
    """Image.open with Pillow's DecompressionBombWarning raised as an error (header parse only)."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(fp)


def open_image_file(path: Path, name: str) -> BinaryIO:
    """Open an image file: regular, non-empty files only (a FIFO named x.jpg would block the reader for ever)."""
    try:
        fh = open_regular(path)
    except NotReadable as exc:
        raise ImageError(f"{name}: {exc.reason}") from None
    if os.fstat(fh.fileno()).st_size == 0:
        fh.close()
        raise ImageError(f"{name}: empty file")
    return fh


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


def to_mode(img: Image.Image, channels: int) -> Image.Image:
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


def _open_header(source: Any, label: str) -> Image.Image:
    """Bytes or an open file as a lazily decoded PIL image (its header read); ImageError for what is no image."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError(f"{label}: empty file")
        fp: Any = io.BytesIO(bytes(source))
    elif isinstance(source, io.BufferedReader):  # a regular file opened by open_image_file
        fp = source
    else:
        raise TypeError(f"cannot load an image from {type(source).__name__}")
    try:
        return open_image_header(fp)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: {_pil_bomb_reason(exc)}") from None
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image (unrecognised format)") from None
    except PermissionError:
        raise ImageError(f"{label}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageError(f"{label}: {_decode_reason(exc)}") from None


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
    label = name or source_name(source)
    if isinstance(source, (str, os.PathLike)):
        with open_image_file(Path(source), label) as fh:
            return load_image(fh, channels, max_pixels=max_pixels, name=label)
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    own_file = not isinstance(source, Image.Image)
    img = _open_header(source, label) if own_file else source
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
            out = to_mode(oriented if oriented is not None else img, channels)
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


def probe_image(path: Path, max_pixels: int | None) -> str | None:
    """Check one file's header with PIL ``verify()``; None if it looks usable, else a one-line reason."""
    try:
        fh = open_image_file(path, "")
    except ImageError as exc:
        return str(exc)[2:]  # the reason after the (empty) name
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with fh, open_image_header(fh) as img:
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
