"""Heavy GUI work split across frames: ``next_frame`` runs a callable once the window has painted what the
current event handler changed (a frame later), so two expensive pieces of work never share one frame."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

FRAME_MS = 20  # a little more than a 60 Hz frame: Qt paints the handler's changes first (a later timer event)


def next_frame(context: QObject, fn: Callable[[], object], frames: int = 1) -> None:
    """Call ``fn`` ``frames`` frames from now, on the GUI thread; not at all if ``context`` is deleted by then.

    A timer object (a timer event, after the paint the handler asked for), a child of ``context``, kept and
    used again once it has fired: a timer that deleted itself from its own timeout (``deleteLater``) crashed
    the process now and then when that deferred delete came with its parent's (a segfault in ~QObject,
    "corrupted double-linked list": 3 of 10 runs of two TrainingMonitor tests). Qt's static single-shot
    timer with a context held the event loop 80 ms when images dropped on Train opened Classify."""
    timers: list[QTimer] = context.__dict__.setdefault("_next_frame_timers", [])
    timer = next((t for t in timers if not t.isActive()), None)  # one that has fired: free again
    if timer is None:
        timer = QTimer(context)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda t=timer: _fire(t))
        timers.append(timer)
    timer._fn = fn  # noqa: SLF001 (ours: the call this timer makes next)
    timer.start(frames * FRAME_MS)


def _fire(timer: QTimer) -> None:
    fn, timer._fn = timer._fn, None  # noqa: SLF001 (the timer is free again: fn may itself ask for one)
    if fn is not None:
        fn()
