"""Heavy GUI work split across frames: ``next_frame`` runs a callable once the window has painted what the
current event handler changed (a frame later), so two expensive pieces of work never share one frame."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

FRAME_MS = 20  # a little more than a 60 Hz frame: Qt paints the handler's changes first (a later timer event)


def next_frame(context: QObject, fn: Callable[[], object], frames: int = 1) -> None:
    """Call ``fn`` ``frames`` frames from now, on the GUI thread; not at all if ``context`` is deleted by then.

    Qt's own single-shot timer, tied to ``context``: no Python QTimer. A Python QTimer child that deleted
    itself from its own timeout (``timeout.connect(timer.deleteLater)``) crashed the process now and then when
    its deferred delete came together with its parent's (a segfault in ~QObject, "corrupted double-linked
    list": 3 of 10 runs of two TrainingMonitor tests, 0 of 15 without that deleteLater)."""
    QTimer.singleShot(frames * FRAME_MS, context, fn)
