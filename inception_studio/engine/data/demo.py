"""The built-in demo data: four classes of synthetic shapes (circle, square, triangle, stripes) on noisy
gradients, drawn deterministically, written once into the cache folder and reused. No Qt.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from inception_studio.errors import DataError
from inception_studio.paths import cache_dir

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


def _demo_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished demo set (its marker file exists)."""
    return (folder / _DEMO_MARKER).is_file()


def demo_data_dir() -> Path:
    """The cached demo dataset folder, generated atomically on first use and reused afterwards."""
    target = cache_dir() / DEMO_VERSION
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
