"""The Qt layer (PySide6 + pyqtgraph). Nothing outside this package imports Qt."""
from __future__ import annotations


def create_main_window(spec_name: str | None = None):
    """Build the main window (without starting the event loop); the tests use it too."""
    from .app import create_main_window as _create

    return _create(spec_name)
