"""Heavy GUI work split across frames: ``next_frame`` runs a callable once the window has painted what the
current event handler changed (a frame later), so two expensive pieces of work never share one frame."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

FRAME_MS = 20  # a little more than a 60 Hz frame: Qt paints the handler's changes first (a later timer event)


def next_frame(context: QObject, fn: Callable[[], object], frames: int = 1) -> None:
    """Call ``fn`` ``frames`` frames from now, on the GUI thread; not at all if ``context`` is deleted by then."""
    timer = QTimer(context)  # (not QTimer.singleShot: a callable context is taken for the function there)
    timer.setSingleShot(True)
    timer.timeout.connect(fn)
    timer.timeout.connect(timer.deleteLater)
    timer.start(frames * FRAME_MS)
