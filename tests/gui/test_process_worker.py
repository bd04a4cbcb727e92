"""ProcessWorker: engine work in a child process, with a Worker's signals. Events arrive in order, live values
reach the job, stop and pause act, an error or a killed child becomes one line, and no process is left behind."""
from __future__ import annotations

import os
import signal
import sys

import pytest

from inception_studio.gui.shared.process_worker import ProcessWorker

JOBS = "tests.gui.remote_jobs"
WAIT = 30000


def gone(pid: int) -> bool:
    """True when no process ``pid`` exists any more (reaped, not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def start(qtbot, fn: str, *args, **kw) -> tuple[ProcessWorker, dict]:
    """A started worker on ``tests.gui.remote_jobs.fn`` and what it has reported so far."""
    got: dict = {"events": [], "finished": [], "failed": []}
    kw.setdefault("warm", ())  # a bare child unless a test asks for the engine's (None)
    w = ProcessWorker(f"{JOBS}:{fn}", *args, **kw)
    w.progress.connect(got["events"].append)
    w.finished.connect(got["finished"].append)
    w.failed.connect(got["failed"].append)
    w.start()
    return w, got


def test_events_arrive_in_order_then_the_result_and_the_child_is_gone(qtbot):
    w, got = start(qtbot, "count", 5)
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    assert [e[0] for e in got["events"]] == [0, 1, 2, 3, 4] and got["finished"] == [5] and not got["failed"]
    assert not w.is_running()
    qtbot.waitUntil(lambda: gone(w.pid), timeout=WAIT)  # exited and reaped: no zombie, no orphan


def test_the_child_never_imports_qt(qtbot):
    _w, got = start(qtbot, "qt_modules")
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    assert got["finished"] == [[]]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE and autogroups are Linux's")
def test_the_child_is_background_work_in_the_apps_session_so_the_gui_thread_wins_a_core(qtbot):
    # Linux shares the CPU between sessions first: a child in a session of its own had as much of a contended
    # core as the whole window, whatever its priority (the window waited 30-80 ms for a core as a run started).
    w, got = start(qtbot, "scheduling")
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    child = got["finished"][0]
    assert child["policy"] == os.SCHED_IDLE and os.sched_getscheduler(0) == os.SCHED_OTHER  # the GUI's is untouched
    assert child["sid"] == os.getsid(0)
    assert child["pgid"] == child["pid"] != os.getpgid(0)  # its own group: Stop reaches its loaders, Ctrl+C only us


def test_what_the_child_holds_before_its_job_is_out_of_the_collectors_reach(qtbot):
    # A full collection of torch's ~400,000 objects took 150-165 ms of the child's core, every few seconds of a
    # run and in the middle of Stop's checkpoint; frozen, a collection scans only what the job made.
    _w, got = start(qtbot, "collector", warm=None, standby=False)
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    seen = got["finished"][0]
    assert seen["torch"]  # the standby child imports the training engine before its job
    assert seen["frozen"] > 100_000
    assert seen["tracked"] < seen["frozen"] // 20


def test_a_live_value_reaches_the_running_job(qtbot):
    w, got = start(qtbot, "count", 100000, 0.005, live={"label": "first"})
    qtbot.waitUntil(lambda: len(got["events"]) >= 3, timeout=WAIT)
    assert got["events"][0][1] == "first"
    w.set_value("label", "second")
    qtbot.waitUntil(lambda: got["events"][-1][1] == "second", timeout=WAIT)
    w.stop()
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)


def test_stop_ends_the_job_its_own_way_and_pause_holds_it(qtbot):
    w, got = start(qtbot, "count", 100000, 0.005)
    qtbot.waitUntil(lambda: len(got["events"]) >= 3, timeout=WAIT)
    w.set_value("pause", True)
    qtbot.wait(300)  # long enough for the pause to have reached the child
    held = len(got["events"])
    qtbot.wait(300)
    assert len(got["events"]) <= held + 1  # at most the step in flight when the pause arrived
    w.set_value("pause", False)
    qtbot.waitUntil(lambda: len(got["events"]) > held + 2, timeout=WAIT)
    w.stop()
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    kind, at = got["finished"][0]
    assert kind == "stopped" and at == len(got["events"])  # the job's own return: it saw should_stop()
    qtbot.waitUntil(lambda: gone(w.pid), timeout=WAIT)


def test_an_error_in_the_job_is_one_line_with_the_traceback_kept(qtbot):
    w, got = start(qtbot, "fail", "the disk is full")
    qtbot.waitUntil(lambda: bool(got["failed"]), timeout=WAIT)
    assert got["failed"][0].startswith("ValueError: the disk is full") and "\n" not in got["failed"][0]
    assert "Traceback" in w.details and "remote_jobs.py" in w.details and not got["finished"]


@pytest.mark.parametrize("how", ["from outside", "itself"])
def test_a_killed_child_becomes_a_message_and_the_gui_lives_on(qtbot, how):
    if how == "itself":
        w, got = start(qtbot, "die")
    else:
        w, got = start(qtbot, "count", 100000, 0.005)
        qtbot.waitUntil(lambda: len(got["events"]) >= 3, timeout=WAIT)
        os.kill(w.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    qtbot.waitUntil(lambda: bool(got["failed"]), timeout=WAIT)
    message = got["failed"][0]
    assert "process was killed" in message and "out of memory" in message and "\n" not in message
    assert not got["finished"] and not w.is_running() and got["events"]  # what came before it was kept
    qtbot.waitUntil(lambda: gone(w.pid), timeout=WAIT)
    again, more = start(qtbot, "count", 2)  # the next job runs as usual
    qtbot.waitUntil(lambda: bool(more["finished"]), timeout=WAIT)
    assert more["finished"] == [2]


def test_stop_all_ends_running_jobs_and_the_standby(qtbot):
    w, got = start(qtbot, "count", 100000, 0.005)
    qtbot.waitUntil(lambda: bool(got["events"]), timeout=WAIT)
    ProcessWorker.prewarm()
    standby = ProcessWorker._standby.pid
    assert ProcessWorker.stop_all(WAIT)
    assert got["finished"] and got["finished"][0][0] == "stopped"  # cancelled: the job's own early return
    qtbot.waitUntil(lambda: gone(w.pid) and gone(standby), timeout=WAIT)
    assert ProcessWorker._standby is None


def test_once_prewarmed_a_process_is_kept_warm_after_each_job_that_took_one(qtbot, monkeypatch):
    monkeypatch.setattr(ProcessWorker, "REWARM_AFTER_MS", 50)
    ProcessWorker.prewarm()
    first = ProcessWorker._standby.pid
    w, got = start(qtbot, "count", 3)
    assert w.pid == first and ProcessWorker._standby is None  # the job took the warm process
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    qtbot.waitUntil(lambda: ProcessWorker._standby is not None, timeout=WAIT)  # the next one, after the job
    assert ProcessWorker._standby.pid != first and ProcessWorker._standby.alive()
    second = ProcessWorker._standby.pid
    assert ProcessWorker.stop_all(WAIT) and ProcessWorker._standby is None  # at exit: none kept, none started
    qtbot.waitUntil(lambda: gone(second), timeout=WAIT)
    qtbot.wait(200)
    assert ProcessWorker._standby is None


def test_a_job_with_a_process_of_its_own_leaves_the_warm_one_to_the_next_training_run(qtbot):
    ProcessWorker.prewarm()
    warm = ProcessWorker._standby.pid
    w, got = start(qtbot, "count", 2, standby=False)  # the time estimate, an export
    assert w.pid != warm and ProcessWorker._standby.pid == warm
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    assert got["finished"] == [2] and ProcessWorker._standby.pid == warm
    assert ProcessWorker.stop_all(WAIT)
    qtbot.waitUntil(lambda: gone(w.pid) and gone(warm), timeout=WAIT)


def test_a_burst_of_messages_is_handled_over_several_turns_in_order(qtbot):
    # A run's end brings its last epoch, checkpoints, the trained model and the answer at once; handling them
    # all in one event-loop turn held the window ~30 ms (issue 16). About 8 ms of them go per turn, in order.
    import time

    from PySide6.QtCore import QTimer

    turns = {"n": 0}
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: turns.update(n=turns["n"] + 1))
    seen: list[tuple[int, int]] = []

    def slow_handler(ev) -> None:  # a panel drawing each event: 3 ms
        seen.append((ev[0], turns["n"]))
        time.sleep(0.003)

    w = ProcessWorker(f"{JOBS}:count", 40, warm=())
    w.progress.connect(slow_handler)
    done: list = []
    w.finished.connect(done.append)
    w.start()
    deadline = time.monotonic() + 20
    while not (w.child.eof or w.child.outcome) and w.child.pending() is False and time.monotonic() < deadline:
        time.sleep(0.05)  # the GUI thread busy elsewhere while the child sends everything
    time.sleep(1.0)
    ticker.start()
    try:
        qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    finally:
        ticker.stop()
    assert [i for i, _turn in seen] == list(range(40)) and done == [40]
    per_turn: dict[int, int] = {}
    for _i, turn in seen:
        per_turn[turn] = per_turn.get(turn, 0) + 1
    assert max(per_turn.values()) <= 4, per_turn  # 8 ms a turn, then the window's other events
    assert len(per_turn) >= 10, per_turn


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the MALLOC_* settings are glibc's")
def test_the_child_keeps_the_memory_a_step_frees_instead_of_faulting_it_in_again(qtbot):
    # A training step frees its activations and allocates them again the next step. A fresh process's allocator
    # handed them back to the OS and faulted them in again: 30,000-140,000 page faults and 0.2-0.8 s of system
    # time per 60 steps of a small googlenet, 3-10% of the child's CPU.
    _w, got = start(qtbot, "page_faults")
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    seen = got["finished"][0]
    assert seen["faults"] < 0.05 * seen["rounds"] * seen["pages"], seen  # ~0; handing back: one per page, each round


def test_the_users_own_allocator_settings_reach_the_child(qtbot, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    _w, got = start(qtbot, "environment", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_")
    qtbot.waitUntil(lambda: bool(got["finished"]), timeout=WAIT)
    assert got["finished"][0] == {"MALLOC_TRIM_THRESHOLD_": "131072", "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
                                  "MALLOC_MMAP_MAX_": "0"}
