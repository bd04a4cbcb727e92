"""Class names: ImageNet-1k's, in index order, for models with ImageNet heads, and the names of any
model's outputs (``class_names_for``).

Where the list lives: ``inception_studio/assets/imagenet_classes.txt`` inside the package (one name
a line, 1000 lines), so an installed wheel carries it as package data (``inception_studio/assets/*``).
The repository's top-level ``assets/`` holds only sample images and the script that makes them.
Lookup order: the packaged file, then a repo-root ``assets/imagenet_classes.txt`` (development
checkouts that keep one there), then torchvision's built-in copy as a last resort.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

IMAGENET_CLASSES_FILE = "imagenet_classes.txt"
NUM_IMAGENET_CLASSES = 1000


def _candidate_texts() -> list[str]:
    """The texts of every place the class list may live, best first (missing places skipped)."""
    texts: list[str] = []
    try:
        res = resources.files("inception_studio").joinpath("assets").joinpath(IMAGENET_CLASSES_FILE)
        if res.is_file():
            texts.append(res.read_text(encoding="utf-8"))
    except (OSError, ModuleNotFoundError, TypeError):
        pass
    repo_file = Path(__file__).resolve().parents[2] / "assets" / IMAGENET_CLASSES_FILE
    if repo_file.is_file():
        try:
            texts.append(repo_file.read_text(encoding="utf-8"))
        except OSError:
            pass
    return texts


@lru_cache(maxsize=1)
def _load() -> tuple[str, ...]:
    """Read and cache the class list from the first place that has all 1000 names."""
    for text in _candidate_texts():
        names = [line.strip() for line in text.splitlines() if line.strip()]
        if len(names) == NUM_IMAGENET_CLASSES:
            return tuple(names)
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    return tuple(_IMAGENET_CATEGORIES)


def imagenet_classes() -> list[str]:
    """Return the 1000 ImageNet class names in index order (a fresh list each call)."""
    return list(_load())


def class_names_for(num_classes: int, names: Sequence[str] | None = None) -> list[str]:
    """Names for each output: ``names`` when they fit, ImageNet's for 1000 classes, else "class i"."""
    if names and len(names) == num_classes:
        return list(names)
    if num_classes == NUM_IMAGENET_CLASSES:
        return imagenet_classes()
    return [f"class {i}" for i in range(num_classes)]
