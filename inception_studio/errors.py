"""Project error types: every message names the file or field and says why, in one line."""
from __future__ import annotations


class StudioError(Exception):
    """Base for errors a user can act on; the CLI prints them as one line, the GUI shows them."""


class SpecError(StudioError, ValueError):
    """An architecture spec or an edit of one is invalid (names the field and the reason)."""


class WeightsError(StudioError):
    """A weights file or checkpoint does not load or does not fit the spec."""


class ImageError(StudioError):
    """An image file cannot be decoded (names the file and the reason)."""


class DataError(StudioError):
    """A dataset folder is unusable (no classes, no readable images, ...)."""


class ResourceError(StudioError):
    """Not enough memory or no such device for what was asked."""
