"""Worker: run an engine function or generator on a QThread and report through Qt signals.

The engine stays Qt-free: long work is a plain function, or a generator that yields progress
events. The GUI wraps it::

    worker = Worker(engine.train, spec, data, epochs=3)   # any callable; args as usual
    worker.progress.connect(panel.on_event)               # each yielded event (main thread)
    worker.finished.connect(panel.on_done)                # the return value (generator: its `return`)
    worker.failed.connect(panel.show_error)               # one line; never a traceback
    worker.start()
    ...
    worker.cancel()                                       # asks the work to stop

Cancelling: if the callable accepts a ``should_stop`` keyword (or ``**kwargs``), the worker passes
a zero-argument callable returning True once ``cancel()`` was called; the engine checks it between
steps and returns early. A generator is also stopped between two yields (``GeneratorExit`` runs
its ``finally`` blocks). After a cancel ``finished`` still fires (with whatever the work returned,
or None), and ``cancelled`` is True. Errors: a StudioError's message is sent as is; anything else
as "TypeName: message", logged with its traceback and reported to the window's "Details…"
(gui.shared.error_details). Signals are delivered on the thread that created the worker.

Lanes: ``worker.start(lane="engine")`` queues the work on one long-lived thread of that name instead of
a thread of its own; a lane runs its workers one after another, in order. Engine work that drives
torch goes on one lane because OpenMP keeps a team of threads for each thread that calls it: with a
second team alive, libgomp sees more threads than cores and stops its threads spinning between ops,
and a forward pass on a fresh thread ran ~1.6x slower (38 ms against 23 ms for GoogLeNet on 2 cores).
A worker cancelled while still queued is not run; its ``finished`` fires with None.

Garbage collection: once start-up is over, and again when a run starts, everything alive is frozen out
of the collector's reach (``freeze_long_lived_objects``), so a full collection no longer walks torch's
400,000 objects. While any worker runs, Python's cyclic GC runs on the GUI thread only, from a
timer (``_GcOnGuiThread``). Left automatic, it runs on whichever thread allocates, and freeing a Qt
object found in a cycle from a worker thread deadlocked against the GUI thread (one holds Qt's
connection lock and waits for the GIL, the other the reverse); on the GUI thread itself, a collection
started inside ``QObject.disconnect`` deadlocked on the lock that call holds. The app keeps it that
way for its whole run (``collect_garbage_on_gui_thread``).
"""
from __future__ import annotations

import atexit
import gc
import inspect
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from ...engine.remote import NICE
from ...errors import StudioError, one_line
from .error_details import report_unexpected

log = logging.getLogger(__name__)

ENGINE_LANE = "engine"  # the one thread for engine work that drives torch (build, classify, feature maps)


def _name(fn: Callable) -> str:
    """A worker's function as the log names it."""
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _accepts_should_stop(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "should_stop" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def lower_thread_priority(nice: int = NICE) -> None:
    """Give the calling thread (and the threads it starts later: torch's OpenMP team) a lower CPU priority,
    so that on a contended core the GUI thread paints first (Linux and macOS; nothing elsewhere)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        pass


class _Thread(QThread):
    def __init__(self, worker: Worker):
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        lower_thread_priority()
        self._worker._run()


class _GcOnGuiThread(QObject):
    """Automatic GC off while workers run; a GUI-thread timer collects instead, by the same thresholds."""

    FULL_EVERY_S = 60.0

    def __init__(self, interval_ms: int = 200):
        super().__init__()
        self._last_full = time.monotonic()
        self._holds = 0
        self._was_enabled = True
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)

    def hold(self) -> None:
        """A worker starts (GUI thread)."""
        self._holds += 1
        if self._holds == 1:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()

    def release(self) -> None:
        """A worker is done (GUI thread)."""
        self._holds = max(0, self._holds - 1)
        if self._holds == 0:
            self._timer.stop()
            # Collect the backlog here, from an event: re-enabled with it, the collector would run at the next
            # allocation, wherever that is (inside a Qt call that holds a lock a QObject's destructor needs, say).
            self.collect()
            if self._was_enabled:
                gc.enable()

    def collect(self) -> None:
        """Collect the generations the automatic collector would have collected by now.

        A full collection (~180 ms with torch and a model loaded) runs at most every FULL_EVERY_S seconds:
        CPython itself skips most of them (it waits for the long-lived objects to grow by a quarter), a
        heuristic it does not expose.
        """
        (c0, c1, c2), (t0, t1, t2) = gc.get_count(), gc.get_threshold()
        if c0 <= t0:
            return
        now = time.monotonic()
        if c1 > t1 and c2 > t2 and now - self._last_full > self.FULL_EVERY_S:
            self._last_full = now
            gc.collect(2)
        else:
            gc.collect(1 if c1 > t1 else 0)


_gc_guard: _GcOnGuiThread | None = None


def _gc() -> _GcOnGuiThread:
    global _gc_guard
    if _gc_guard is None:
        _gc_guard = _GcOnGuiThread()
    return _gc_guard


def collect_garbage_on_gui_thread() -> None:
    """For the app's lifetime: cyclic GC only from a GUI-thread timer, never at an arbitrary allocation."""
    _gc().hold()


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the collector's reach with ``gc.freeze()``: called once start-up has
    imported torch and built the panels (~400,000 objects, nearly all torch's and Qt's modules), and when a
    training run starts. A full collection then scans only what was made since: ~190 ms held on the GUI
    thread before, under 1 ms after. Nothing is collected first (that would itself be the 190 ms pause); a
    few dozen cycles stay, once."""
    gc.freeze()


class _LaneThread(QThread):
    def __init__(self, lane: Lane):
        super().__init__()
        self.setObjectName(f"lane-{lane.name}")
        self._lane = lane

    def run(self) -> None:
        lower_thread_priority()  # before torch starts its thread team here: the team inherits it
        self._lane._loop()


class _Relay(QObject):
    """Lives on the GUI thread: a lane hands finished workers back here, so they are freed on that thread."""

    release = Signal(object)  # id of a worker the lane is done with


class Lane:
    """One long-lived thread that runs workers one after another (see the module docstring).

    The lane holds each queued worker by id and drops its own reference before it asks the GUI thread
    (through the relay) to let go of the worker: a QObject is then always freed on its own thread.
    """

    _lanes: ClassVar[dict[str, Lane]] = {}
    _guard = threading.Lock()

    def __init__(self, name: str):
        self.name = name
        self._relay = _Relay()  # created on the calling (GUI) thread
        self._relay.release.connect(self._release)
        self._held: dict[int, Worker] = {}
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        # A QThread, not a threading.Thread: the interpreter's cyclic GC may free Qt objects on whichever
        # thread it runs, and shiboken deadlocked doing that on a plain Python thread.
        self._thread = _LaneThread(self)
        self._thread.start()

    @classmethod
    def named(cls, name: str) -> Lane:
        """The lane called ``name`` (started on first use, from the GUI thread)."""
        with cls._guard:
            lane = cls._lanes.get(name)
            if lane is None or lane._thread.isFinished():
                lane = cls._lanes[name] = Lane(name)
            return lane

    @classmethod
    def pending(cls) -> list[Worker]:
        """Every worker queued or running on any lane."""
        return [w for lane in list(cls._lanes.values()) for w in list(lane._held.values()) if w.is_running()]

    def submit(self, worker: Worker) -> None:
        """Queue ``worker`` to run after everything queued before it."""
        self._held[id(worker)] = worker
        self._queue.put(id(worker))

    def _loop(self) -> None:
        while (key := self._queue.get()) is not None:
            worker = self._held[key]
            worker._lane_run()
            del worker
            self._relay.release.emit(key)

    def _release(self, key: int) -> None:
        if self._held.pop(key, None) is not None:
            _gc().release()

    @classmethod
    def stop_all(cls, msecs: int = 30000) -> bool:
        """End every lane's thread once its queue is done (at app exit); True if all ended in time."""
        with cls._guard:
            lanes, cls._lanes = list(cls._lanes.values()), {}
        for lane in lanes:
            lane._queue.put(None)
        return all(lane._thread.wait(msecs) for lane in lanes)


class Worker(QObject):
    """Runs ``fn(*args, **kw)`` on a background thread; see the module docstring for the contract."""

    _active: ClassVar[set[Worker]] = set()  # running workers stay alive even if the caller drops them (lanes hold theirs)

    progress = Signal(object)  # each event a generator yields
    finished = Signal(object)  # the function's return value (a generator's `return` value)
    failed = Signal(str)  # a one-line message

    def __init__(self, fn: Callable[..., Any], *args, **kw):
        super().__init__()
        self._fn, self._args, self._kw = fn, args, dict(kw)
        self._stop = threading.Event()
        self._thread: _Thread | None = None
        self._done: threading.Event | None = None  # on a lane: set once the work has run (or was skipped)
        self.result: Any = None
        self.error: str = ""
        if _accepts_should_stop(fn) and "should_stop" not in self._kw:
            self._kw["should_stop"] = self.should_stop

    # ---- control ---------------------------------------------------------------------------
    def start(self, lane: str | None = None) -> None:
        """Start the work (once): on a new QThread, or queued on the named ``lane``."""
        if self._thread is not None or self._done is not None:
            raise RuntimeError("Worker.start() called twice; make a new Worker for new work")
        _gc().hold()
        if lane is not None:
            self._done = threading.Event()
            Lane.named(lane).submit(self)
            return
        Worker._active.add(self)
        self._thread = _Thread(self)
        self._thread.finished.connect(self._thread_ended)  # queued to this (GUI) thread
        self._thread.start()

    def _thread_ended(self) -> None:
        Worker._active.discard(self)
        _gc().release()

    def cancel(self) -> None:
        """Ask the work to stop: ``should_stop()`` turns True and a generator is closed at its next yield."""
        self._stop.set()

    def should_stop(self) -> bool:
        """True once :meth:`cancel` was called (passed to the work as ``should_stop``)."""
        return self._stop.is_set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._stop.is_set()

    def is_running(self) -> bool:
        """True while the work is queued or runs."""
        if self._done is not None:
            return not self._done.is_set()
        return self._thread is not None and self._thread.isRunning()

    @classmethod
    def stop_all(cls, msecs: int = 30000) -> bool:
        """Cancel every running or queued worker, wait for each to end, end the lanes (at app exit)."""
        running = [w for w in list(cls._active) if w.is_running()] + Lane.pending()
        for w in running:
            w.cancel()
        ended = all(w.wait(msecs) for w in running)
        return Lane.stop_all(msecs) and ended

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the work ends (or ``msecs`` pass); True if it ended. For shutdown and tests."""
        if self._done is not None:
            return self._done.wait(msecs / 1000)
        if self._thread is None:
            return True
        return self._thread.wait(msecs)

    # ---- the thread body -------------------------------------------------------------------
    def _lane_run(self) -> None:
        try:
            if self._stop.is_set():
                self.finished.emit(None)  # cancelled while queued: never started
            else:
                self._run()
        finally:
            self._done.set()

    def _run(self) -> None:
        try:
            out = self._fn(*self._args, **self._kw)
            if inspect.isgenerator(out):
                out = self._drain(out)
            self.result = out
        except StudioError as exc:
            self.error = one_line(exc)  # the user's to act on: no traceback needed
            log.info("%s: %s", _name(self._fn), self.error)
            self.failed.emit(self.error)
            return
        except Exception as exc:  # noqa: BLE001 - one line to the GUI, the traceback to the log and "Details…"
            self.error = report_unexpected(exc, _name(self._fn))
            self.failed.emit(self.error)
            return
        self.finished.emit(out)

    def _drain(self, gen) -> Any:
        try:
            while True:
                if self._stop.is_set():
                    gen.close()
                    return None
                event = next(gen)
                self.progress.emit(event)
        except StopIteration as stop:
            return stop.value


# A QThread still running when the interpreter frees it aborts the process: end the lanes (and any
# worker still running) first, also in scripts that never call Worker.stop_all themselves.
atexit.register(Worker.stop_all)
