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
as "TypeName: message". Signals are delivered on the thread that created the worker.
"""
from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QThread, Signal

from ..errors import StudioError


def _accepts_should_stop(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "should_stop" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def describe_error(exc: BaseException) -> str:
    """One line for a user: a StudioError's own message, else the type and message."""
    if isinstance(exc, StudioError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Thread(QThread):
    def __init__(self, worker: Worker):
        super().__init__()
        self._worker = worker

    def run(self) -> None:
        self._worker._run()


class Worker(QObject):
    """Runs ``fn(*args, **kw)`` on a background thread; see the module docstring for the contract."""

    _active: ClassVar[set[Worker]] = set()  # running workers stay alive even if the caller drops them

    progress = Signal(object)  # each event a generator yields
    finished = Signal(object)  # the function's return value (a generator's `return` value)
    failed = Signal(str)  # a one-line message

    def __init__(self, fn: Callable[..., Any], *args, **kw):
        super().__init__()
        self._fn, self._args, self._kw = fn, args, dict(kw)
        self._stop = threading.Event()
        self._thread: _Thread | None = None
        self.result: Any = None
        self.error: str = ""
        if _accepts_should_stop(fn) and "should_stop" not in self._kw:
            self._kw["should_stop"] = self.should_stop

    # ---- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the work on a new QThread (once)."""
        if self._thread is not None:
            raise RuntimeError("Worker.start() called twice; make a new Worker for new work")
        self._thread = _Thread(self)
        Worker._active.add(self)
        self._thread.finished.connect(lambda: Worker._active.discard(self))
        self._thread.start()

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
        """True while the thread runs."""
        return self._thread is not None and self._thread.isRunning()

    @classmethod
    def stop_all(cls, msecs: int = 30000) -> bool:
        """Cancel every running worker and wait for each to end (at app exit); True if all ended."""
        running = [w for w in list(cls._active) if w.is_running()]
        for w in running:
            w.cancel()
        return all(w.wait(msecs) for w in running)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the thread ends (or ``msecs`` pass); True if it ended. For shutdown and tests."""
        if self._thread is None:
            return True
        return self._thread.wait(msecs)

    # ---- the thread body -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            out = self._fn(*self._args, **self._kw)
            if inspect.isgenerator(out):
                out = self._drain(out)
            self.result = out
        except Exception as exc:  # noqa: BLE001 - reported to the GUI as one line, never raised there
            self.error = describe_error(exc)
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
