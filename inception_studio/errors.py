"""Project error types (every message names the file or field and says why, in one line), and how any
error is told to a user in one line (``one_line``)."""
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


def one_line(exc: BaseException) -> str:
    """How an error is told to a user in one line: a StudioError's own message, else "TypeName: message"."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, StudioError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
