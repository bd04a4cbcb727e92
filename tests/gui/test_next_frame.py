"""next_frame: a callable runs a frame or more later, on the GUI thread, and never once its context is gone."""
from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import QObject

from inception_studio.gui.shared.frames import FRAME_MS, next_frame


def test_the_call_comes_frames_later_and_not_at_all_for_a_deleted_context(qtbot):
    keep, gone = QObject(), QObject()
    calls: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    next_frame(keep, partial(calls.append, ("kept", 0.0)), frames=2)
    next_frame(gone, lambda: calls.append(("gone", 0.0)))
    gone.deleteLater()  # its context is deleted before the call is due: no call
    assert calls == []  # never at once
    qtbot.waitUntil(lambda: bool(calls), timeout=2000)
    waited = 1e3 * (time.perf_counter() - t0)
    qtbot.wait(3 * FRAME_MS)
    assert calls == [("kept", 0.0)] and waited >= 2 * FRAME_MS - 1


def test_many_calls_on_a_widget_deleted_with_them_pending_do_not_crash(qtbot):
    # A Python QTimer that deleted itself from its own timeout crashed the process now and then when its
    # deferred delete came with its parent's; the calls here are due, done and pending as the widget goes.
    from PySide6.QtWidgets import QWidget

    for _round in range(20):
        w = QWidget()
        done: list[int] = []
        for k in range(3):
            next_frame(w, partial(done.append, k), frames=k)
        qtbot.wait(FRAME_MS + 5)
        w.deleteLater()
        qtbot.wait(5)
        assert done[:1] == [0]
