"""Small real image sets for benchmarks and tests, written as ImageFolder trees (no download).

``digits_folder``: scikit-learn's copy of the UCI handwritten digits (1,797 scans of digits written
by 43 people, 8x8 px at 17 grey levels), upscaled to ``size`` px grayscale PNGs, one folder per digit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images N x 8 x 8 in [0, 16], labels N) of scikit-learn's digits set."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images, d.target


def digits_folder(dest: str | Path, size: int = 32, per_class: int | None = None) -> Path:
    """Write the digits as ``dest/<digit>/<index>.png`` (``per_class`` of each, all by default)."""
    images, labels = digits_arrays()
    root = Path(dest)
    taken: dict[int, int] = {}
    for i, (img, label) in enumerate(zip(images, labels)):
        label = int(label)
        if per_class is not None and taken.get(label, 0) >= per_class:
            continue
        taken[label] = taken.get(label, 0) + 1
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (img / 16.0 * 255.0).round().astype(np.uint8)
        Image.fromarray(pixels, "L").resize((size, size), Image.BILINEAR).save(folder / f"{i:04d}.png")
    return root
