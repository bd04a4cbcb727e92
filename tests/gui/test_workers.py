"""Worker lanes: engine work queued on one long-lived thread, in order, cancellable while queued, with
Python's cyclic GC kept on the GUI thread while any worker runs."""
from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QThread

from inception_studio.gui.shared.workers import Lane, Worker

WAIT = 10000


def test_a_lane_runs_its_workers_in_order_on_one_thread(qtbot):
    done: list[tuple[int, str]] = []
    workers = [Worker(lambda i=i: (i, QThread.currentThread().objectName())) for i in range(6)]
    for w in workers:
        w.finished.connect(done.append)
    for w in workers:
        w.start(lane="test-order")
    qtbot.waitUntil(lambda: len(done) == 6, timeout=WAIT)
    assert [i for i, _ in done] == list(range(6))  # finished in the order queued
    assert {t for _, t in done} == {"lane-test-order"}  # not the GUI thread, nor a thread per job
    lane = Lane.named("test-order")
    again: list = []
    w = Worker(lambda: QThread.currentThread().objectName())
    w.finished.connect(again.append)
    w.start(lane="test-order")
    qtbot.waitUntil(lambda: bool(again), timeout=WAIT)
    assert again == ["lane-test-order"] and Lane.named("test-order") is lane  # the same thread later on
    assert not lane._thread.isFinished()


def test_cancelled_while_queued_never_runs(qtbot):
    gate, ran, finished = threading.Event(), [], []
    blocker = Worker(lambda: gate.wait(WAIT / 1000))
    queued = Worker(lambda: ran.append("ran") or "result")
    queued.finished.connect(finished.append)
    blocker.start(lane="test-cancel")
    queued.start(lane="test-cancel")
    assert queued.is_running()  # queued counts as running: the work is not done
    queued.cancel()
    gate.set()
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT)
    assert ran == [] and finished == [None] and queued.cancelled
    assert queued.wait(1000) and not queued.is_running()


def test_gc_stays_on_the_gui_thread_while_workers_run(qtbot):
    assert gc.isenabled()
    gate, seen = threading.Event(), []
    w = Worker(lambda: (gate.wait(WAIT / 1000), seen.append(gc.isenabled())))
    w.start(lane="test-gc")
    qtbot.waitUntil(lambda: not gc.isenabled(), timeout=WAIT)
    gate.set()
    qtbot.waitUntil(lambda: gc.isenabled(), timeout=WAIT)  # automatic collection is back once it is done
    assert seen == [False]


def test_stop_all_ends_the_lanes(qtbot):
    out: list = []
    w = Worker(lambda: 7)
    w.finished.connect(out.append)
    w.start(lane="test-stop")
    qtbot.waitUntil(lambda: out == [7], timeout=WAIT)
    first = Lane.named("test-stop")
    assert Worker.stop_all(5000)
    assert first._thread.isFinished()
    assert Lane.named("test-stop") is not first  # a later start gets a new lane
