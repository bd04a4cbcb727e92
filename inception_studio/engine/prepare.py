"""Images as a model wants them: decode, resize, crop, normalise, plus a thumbnail and a preview.

Owns ``ImagePrep`` (one per preprocessing recipe): a path, bytes, PIL image or tensor becomes a
``Prepared`` (the normalised CxHxW input, a thumbnail and the input crop as pixels). Big JPEGs are
decoded at a reduced DCT scale; the resize runs on a uint8 tensor. All of it runs single-threaded
(``single_threaded``): these steps are too small to gain from a second thread, and an OpenMP team
woken for them keeps spinning afterwards and takes a core from the forward pass that follows
(onnxruntime's pool above all). Prepared files are kept in a small cache keyed by path, size and
modification time, so an image prefetched while a drag hovers is not decoded again when it drops.
No Qt.
"""
from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from PIL import Image

from ..errors import ImageError
from .data import Preprocess, load_image, tensor_to_display
from .data.images import open_image_file, open_image_header

THUMB_SIZE = 96
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
CACHE_ITEMS = 32


@dataclass(frozen=True)
class Prepared:
    """One image ready for the model: its input, a thumbnail and what the model sees, as pixels."""

    input: torch.Tensor  # CxHxW float32, normalised
    thumbnail: np.ndarray | None  # HxWx3 uint8, longest side THUMB_SIZE (None for tensor sources)
    preview: np.ndarray  # HxWx3 uint8: the centre crop the model gets, before normalisation


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch ops of the calling thread on one thread (the OpenMP team stays asleep)."""
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _cache_key(source: Any) -> tuple | None:
    """(absolute path, size, mtime) of a file source; None for anything that cannot be cached."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    try:
        path = os.path.abspath(os.fspath(source))
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return path, st.st_size, st.st_mtime_ns


class ImagePrep:
    """Prepares images for one ``Preprocess``: ``prepare(source) -> Prepared``, ``prefetch(sources)``."""

    def __init__(self, preprocess: Preprocess, channels_last: bool = True, cache_items: int = CACHE_ITEMS):
        from torchvision.transforms import InterpolationMode

        self.preprocess = preprocess
        self.channels_last = channels_last  # the input's memory order (channels-last for the PyTorch model)
        self._interp = InterpolationMode(preprocess.interpolation)
        c = preprocess.channels
        std255 = torch.tensor(preprocess.channel_std).view(c, 1, 1) * 255
        self._scale = 1.0 / std255  # (x - mean) / std as one fused x * scale + shift
        self._shift = -torch.tensor(preprocess.channel_mean).view(c, 1, 1) * 255 / std255
        self._cache: OrderedDict[tuple, Prepared] = OrderedDict()
        self._attached: dict[int, tuple[Prepared, Any]] = {}  # id(cached Prepared) -> (it, what was attached)
        self._cache_items = cache_items
        self._lock = threading.Lock()

    # ---- decoding --------------------------------------------------------------------------
    def load(self, image: Any, name: str | None = None) -> Image.Image:
        """Decode an image (path, bytes or PIL image) in the model's colour mode; ImageError if bad.

        A JPEG file at least twice the size the model needs is decoded at a reduced DCT scale (Pillow's
        draft mode) that still covers the resize target, which makes big photos several times faster.
        """
        channels = self.preprocess.channels
        if isinstance(image, (str, os.PathLike)) and Path(image).suffix.lower() in JPEG_SUFFIXES:
            label = name or Path(image).name
            with open_image_file(Path(image), label) as fh:  # regular files only: a FIFO must not block us
                img = self.open_draft(fh)
                if img is not None:
                    try:
                        return load_image(img, channels, name=label)
                    finally:
                        img.close()
            return load_image(image, channels=channels, name=label)  # small or not a JPEG inside: decode in full
        return load_image(image, channels=channels, name=name)

    def open_draft(self, source: Path | BinaryIO) -> Image.Image | None:
        """The JPEG (an open file, or a path to a regular file) opened header-only with a draft scale set.

        None lets load_image do everything.
        """
        try:
            img = open_image_header(source)  # the same bomb-guarded open load_image uses
        except Exception:  # noqa: BLE001 - load_image will report it with its one-line reason
            return None
        w, h = img.size
        limit = Image.MAX_IMAGE_PIXELS
        need = self.preprocess.resize_size
        if img.format != "JPEG" or (limit and w * h > limit) or min(w, h) < 2 * need:
            img.close()
            return None
        scale = need / min(w, h)  # an EXIF rotation swaps the sides, never which one is shorter
        img.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))
        return img

    # ---- preparing -------------------------------------------------------------------------
    def from_image(self, img: Image.Image) -> Prepared:
        """The Prepared of a decoded image, as ``Preprocess.eval_transform`` does it.

        Same steps and parameters (shorter side to resize_size, centre crop, normalise), but on a uint8
        channels-last tensor: torch's antialiased uint8 resize matches Pillow's to one grey level and is
        3-5x faster, and the result is already in the memory order the model runs in.
        """
        from torchvision.transforms.v2 import functional as F2

        pre = self.preprocess
        with single_threaded():
            a = torch.from_numpy(np.array(img, dtype=np.uint8))
            x = a[None, None] if a.dim() == 2 else a.permute(2, 0, 1)[None]  # 1xCxHxW, channels-last strides
            small = F2.resize(x, [pre.resize_size], interpolation=self._interp, antialias=True)
            crop = F2.center_crop(small, [pre.image_size, pre.image_size])[0]
            h, w = small.shape[-2:]
            k = THUMB_SIZE / max(h, w)
            thumb = F2.resize(small, [max(1, round(h * k)), max(1, round(w * k))], interpolation=self._interp,
                              antialias=True)
            fmt = torch.channels_last if self.channels_last else torch.contiguous_format
            out = torch.empty((1, *crop.shape), dtype=torch.float32, memory_format=fmt)[0]
            torch.addcmul(self._shift, crop, self._scale, out=out)
        return Prepared(out, _hwc3(thumb[0]), _hwc3(crop))

    def from_tensor(self, t: torch.Tensor) -> Prepared:
        """A tensor that is already a model input (CxHxW or 1xCxHxW) passes through, with a preview."""
        t = t[0] if t.dim() == 4 else t
        with single_threaded():
            preview = tensor_to_display(t, self.preprocess.channel_mean, self.preprocess.channel_std)
        return Prepared(t, None, preview)

    def prepare(self, source: Any, name: str | None = None, use_cache: bool = True) -> Prepared:
        """The Prepared of a path, bytes, PIL image or tensor; ImageError (naming it) if it is no usable image.

        Files are cached by path, size and modification time: a changed file is decoded again.
        """
        if isinstance(source, torch.Tensor):
            return self.from_tensor(source)
        key = _cache_key(source) if use_cache else None
        if key is not None:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit
        prepared = self.from_image(self.load(source, name))
        if key is not None:
            with self._lock:
                old = self._cache.pop(key, None)
                if old is not None:
                    self._attached.pop(id(old), None)
                self._cache[key] = prepared
                while len(self._cache) > self._cache_items:
                    self._attached.pop(id(self._cache.popitem(last=False)[1]), None)
        return prepared

    def attach(self, prepared: Prepared, value: Any) -> None:
        """Keep ``value`` with a cached Prepared for as long as the cache keeps it (nothing if it is not cached)."""
        with self._lock:
            if any(p is prepared for p in self._cache.values()):
                self._attached[id(prepared)] = (prepared, value)

    def attached(self, prepared: Prepared) -> Any:
        """What was attached to ``prepared`` (None if nothing, or if the cache has let it go since)."""
        with self._lock:
            hit = self._attached.get(id(prepared))
            return hit[1] if hit is not None and hit[0] is prepared else None

    def cached(self, source: Any) -> bool:
        """Whether ``source`` (a file) is prepared and unchanged since."""
        key = _cache_key(source)
        with self._lock:
            return key is not None and key in self._cache

    def prefetch(self, sources: Iterable[Any], cancel: Callable[[], bool] | None = None,
                 limit: int = CACHE_ITEMS // 2, then: Callable[[Prepared], None] | None = None) -> int:
        """Prepare up to ``limit`` image files ahead of use (bad files are skipped); returns how many are ready.

        ``then(prepared)`` runs on each file as soon as it is prepared, before the next one is decoded.
        """
        ready = 0
        for src in sources:
            if ready >= limit or (cancel is not None and cancel()):
                break
            if _cache_key(src) is None:
                continue
            try:
                prepared = self.prepare(src)
            except ImageError:
                continue
            if then is not None:
                then(prepared)
            ready += 1
        return ready

    def clear(self) -> None:
        """Forget every prepared image."""
        with self._lock:
            self._cache.clear()
            self._attached.clear()


def _hwc3(t: torch.Tensor) -> np.ndarray:
    """A CxHxW uint8 tensor (1 or 3 channels) as an HxWx3 uint8 array of its own."""
    return np.ascontiguousarray(t.permute(1, 2, 0).expand(-1, -1, 3).numpy())
