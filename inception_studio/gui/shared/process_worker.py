"""ProcessWorker: run an engine function or generator in a child process, with the signals of a Worker.

A job on a thread of the GUI process holds the GIL between its torch calls, and the GUI thread waits for
it (event-loop gaps of 60-160 ms while training on two cores, see benchmarks/bench_gui_stall.py). In a
child process (``engine.remote``: a fresh interpreter that never imports Qt) it cannot, and a crash or an
out-of-memory kill of the child becomes a one-line ``failed`` message while the window lives on::

    worker = ProcessWorker("inception_studio.engine.training.remote:train_job", cfg, spec, data,
                           what="training", live={"feature_target": None})
    worker.progress.connect(panel.on_event)     # each yielded event, unpickled on the GUI thread
    worker.finished.connect(panel.on_done)      # the return value
    worker.failed.connect(panel.show_error)     # one line; ``worker.details`` has the traceback
    worker.start()                              # (a Worker's ``lane=`` is accepted and ignored)
    worker.set_value("feature_target", "stages.s3.3a")   # a live value the job reads when it wants
    worker.set_value("pause", True)             # should_pause() turns True
    worker.suspend(); worker.resume()           # freeze the child at once (SIGSTOP), let it go on
    worker.stop()                               # should_stop() turns True: the job ends its own way
    worker.cancel()                             # the same, and a generator is closed at its next yield

Messages are read on the GUI thread when the socket has some (a QSocketNotifier; at most a few ms of
reading per wake-up); the child's exit is seen through a pidfd (a timer where there is none). A child
that ends without an answer (killed, crashed) is reported by ``failed``; its process group is killed
once the job is over, so no data-loader process outlives it. ``prewarm()`` starts a child ahead of time
(interpreter and torch imported: seconds) that the next ``start()`` takes over; from then on one is kept
warm: when a job that took it has ended, another is started ``REWARM_AFTER_MS`` later (not at once: its
torch import would take a core from the window as it draws that job's end and installs its result; not
at the next start either: that job would wait seconds and share its cores with the import). A job made
with ``standby=False`` starts a child of its own and leaves the warm one to the next training run (the
time estimate, an export). ``prepare``, a callable run on the engine lane first, adds keyword arguments
(a model's weights written to a file, say: tensors never go through the socket) while the child starts.
"""
from __future__ import annotations

import atexit
import os
import select
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from ...engine.remote import ChildProcess
from .workers import ENGINE_LANE, Worker


class ProcessWorker(QObject):
    """Runs ``target(*args, **kw)`` ("package.module:function") in a child process; see the module docstring."""

    _active: ClassVar[set[ProcessWorker]] = set()
    _standby: ClassVar[ChildProcess | None] = None
    _keep_warm: ClassVar[bool] = False  # prewarm() was asked for: a job's end starts the next standby
    EXIT_GRACE_S = 10.0  # an answered child still alive after this is killed
    REWARM_AFTER_MS = 3000
    HANDLE_BUDGET_S = 0.008  # reading and handling the child's messages in one event-loop turn

    progress = Signal(object)  # each event the generator yields
    finished = Signal(object)  # its return value
    failed = Signal(str)  # one line

    def __init__(self, target: str, *args, what: str = "engine", live: dict[str, Any] | None = None,
                 warm: tuple[str, ...] | None = None, prepare: Callable[[], dict] | None = None,
                 standby: bool = True, **kw):
        super().__init__()
        self._use_standby = standby  # False: a child of its own (the warm one stays for a training run)
        self._target, self._args, self._kw = target, args, kw
        self._prepare = prepare
        self._preparing: Worker | None = None
        self.what = what
        self._warm = warm  # modules a fresh child imports first (None: the engine's training modules)
        self._live = dict(live or {})
        self.child: ChildProcess | None = None
        self._notifiers: list[QSocketNotifier] = []
        self._pidfd: int | None = None
        self._reaper: QTimer | None = None
        self._stopped = False
        self._cancelled = False
        self._answered = False  # finished or failed has been emitted
        self._inbox: deque[tuple] = deque()  # messages read and not handled yet (see _read)
        self._reader = QTimer(self, singleShot=True, interval=0)  # see _read_later
        self._reader.timeout.connect(self._read)
        self._answered_at = 0.0
        self.result: Any = None
        self.error = ""
        self.details = ""  # the child's traceback for an unexpected error

    # ---- control -----------------------------------------------------------------------------
    @classmethod
    def prewarm(cls) -> None:
        """Start a child now (interpreter and engine imported) for the next ``start()`` to use, and keep one."""
        cls._keep_warm = True
        if cls._standby is None or not cls._standby.alive():
            cls._standby = ChildProcess()

    @classmethod
    def _rewarm(cls) -> None:
        if cls._keep_warm and not any(w.is_running() for w in cls._active):
            cls.prewarm()

    @classmethod
    def _take_standby(cls, warm: tuple[str, ...] | None) -> ChildProcess:
        child, cls._standby = cls._standby, None
        if child is not None and child.alive() and child.env == dict(os.environ):
            return child
        if child is not None:
            child.close()  # dead, or started under other settings (environment) than the ones now
        return ChildProcess() if warm is None else ChildProcess(warm)

    def start(self, lane: str | None = None) -> None:
        """Start the job (once), in the pre-started child if there is one (``lane``: ignored)."""
        if self.child is not None:
            raise RuntimeError("ProcessWorker.start() called twice; make a new one for new work")
        if self._use_standby:
            self.child = self._take_standby(self._warm)
        else:
            self.child = ChildProcess() if self._warm is None else ChildProcess(self._warm)
        ProcessWorker._active.add(self)
        self._watch()
        if self._prepare is None:
            self._give_job({})
            return
        self._preparing = Worker(self._prepare)
        self._preparing.finished.connect(self._give_job)
        self._preparing.failed.connect(lambda message: self._answer(self.failed, message))
        self._preparing.start(lane=ENGINE_LANE)

    def _give_job(self, extra: dict | None) -> None:
        if self._answered or self.child.started:
            return
        if self._stopped:  # stopped before it began: nothing to run
            self._answer(self.finished, None)
            return
        self.child.start(self._target, self._args, {**self._kw, **(extra or {})}, self._live)

    def _watch(self) -> None:
        note = QSocketNotifier(self.child.fileno(), QSocketNotifier.Type.Read, self)
        note.activated.connect(self._read)
        self._notifiers.append(note)
        try:
            self._pidfd = os.pidfd_open(self.child.pid)
        except (AttributeError, OSError):  # no pidfd here: look every 200 ms
            self._reaper = QTimer(self, interval=200)
            self._reaper.timeout.connect(self._check_exit)
            self._reaper.start()
        else:
            exited = QSocketNotifier(self._pidfd, QSocketNotifier.Type.Read, self)
            exited.activated.connect(self._check_exit)
            self._notifiers.append(exited)

    def _started(self) -> bool:
        return self.child is not None and self.child.started and self.is_running()

    def set_value(self, name: str, value: Any) -> None:
        """Change a live value the job reads (``"pause"``, ``"feature_target"``, ...)."""
        self._live[name] = value
        if self._started():
            self.child.set(name, value)

    def stop(self) -> None:
        """Ask the job to end its own way: ``should_stop()`` turns True (a training run then saves)."""
        self._stopped = True
        if self._started():
            self.child.stop()

    def cancel(self) -> None:
        """Stop, and close a generator job at its next yield (Worker.cancel's contract)."""
        self._stopped = self._cancelled = True
        if self._started():
            self.child.cancel()

    def suspend(self) -> None:
        """Freeze the child at once, wherever it is (SIGSTOP); what it sent before is handled first."""
        if self._started():
            self.child.suspend()
            for _ in range(1000):  # all it had sent: it sends nothing more while frozen
                if self._answered or not (self._inbox or self.child.pending()):
                    break
                self._read()

    def resume(self) -> None:
        """Let a suspended child go on."""
        if self.child is not None:
            self.child.resume()

    @property
    def suspended(self) -> bool:
        """True while the child is frozen by :meth:`suspend`."""
        return self.child is not None and self.child.suspended

    def should_stop(self) -> bool:
        """True once :meth:`stop` or :meth:`cancel` was called."""
        return self._stopped

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    @property
    def pid(self) -> int | None:
        """The child's process id (None before ``start``)."""
        return self.child.pid if self.child is not None else None

    def is_running(self) -> bool:
        """True from ``start`` until the outcome has been reported."""
        return self.child is not None and not self._answered

    def kill(self) -> None:
        """End the child now, without its own clean-up; reported as ``failed`` unless it had answered."""
        if self.child is not None:
            self.child.kill()
            self._check_exit(now=True)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the job has answered (its messages are handled meanwhile); True if it did in time."""
        deadline = time.monotonic() + msecs / 1000
        if self._preparing is not None and self.is_running() and not self.child.started:
            self._preparing.wait(msecs)  # its finished signal waits for the event loop: give the job here
            if self._preparing.error:
                self._answer(self.failed, self._preparing.error)
            else:
                self._give_job(self._preparing.result)
        while self.is_running():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._inbox:  # nothing read is waiting to be handled: wait for the child
                fds = [self.child.fileno()] + ([self._pidfd] if self._pidfd is not None else [])
                select.select(fds, [], [], min(left, 0.2))
            self._read()
            self._check_exit(now=True)
        return True

    @classmethod
    def stop_all(cls, msecs: int = 10000) -> bool:
        """Stop every running job (its own way: a training run saves), wait for each, kill what is left and
        the standby (at app exit)."""
        cls._keep_warm = False
        running = [w for w in list(cls._active) if w.is_running()]
        for w in running:
            w.stop()
        ended = all(w.wait(msecs) for w in running)
        for w in running:
            if w.is_running():
                w.kill()
        if cls._standby is not None:
            cls._standby.close()
            cls._standby = None
        return ended

    # ---- messages ----------------------------------------------------------------------------
    def _read(self, *_args) -> None:
        """Read what the child sent (when nothing read is left to handle) and handle it, about
        ``HANDLE_BUDGET_S`` of it per event-loop turn, the answer in a turn of its own: a run's end brings its
        last epoch, checkpoints, the trained model and the answer at once, and handling them all in one turn
        held the loop ~30 ms."""
        if self.child is None or self._answered:
            return
        t0 = time.perf_counter()
        if not self._inbox:
            self._inbox.extend(self.child.messages())
        handled = 0
        while self._inbox and not self._answered:
            if handled and self._inbox[0][0] != "event":
                break  # the answer in a turn of its own: the app's reaction to a job's end is the largest
            handled += 1
            msg = self._inbox.popleft()
            if msg[0] == "event":
                self.progress.emit(msg[1])
            elif msg[0] == "done":
                self.result = msg[1]
                self._answer(self.finished, msg[1])
            else:  # "error"
                self.error, self.details = msg[1], msg[2]
                self._answer(self.failed, msg[1])
            if time.perf_counter() - t0 > self.HANDLE_BUDGET_S:
                break
        if self._answered or self.child is None:
            return
        for n in self._notifiers[:1]:  # the socket's: it fires at every turn while unread bytes wait, so it is
            n.setEnabled(not self._inbox and not self.child.eof)  # off while read ones do, and once it is gone
        if self._inbox:
            self._read_later()  # the rest after the window's other events
        elif self.child.eof:
            self._check_exit()  # gone: its exit status comes through the pidfd (or the timer)
        elif self.child.pending():
            self._read_later()  # read up to the budget: the rest after other events (no new bytes may wake us)

    def _read_later(self) -> None:
        """``_read`` at a later turn, once however many ask (two chains would handle two budgets a turn). A
        zero-interval timer, not a queued call: timers fire in the order they fell due, so the window's
        own timers (and input) that came due meanwhile go first."""
        if not self._reader.isActive():
            self._reader.start()

    def _check_exit(self, *_args, now: bool = False) -> None:
        """The child exited: handle what it sent before, then report an exit without an answer. From the
        event loop what it sent is handled a turn's worth at a time (``_read`` comes back here once all is
        read); ``now`` (kill, wait) handles all of it at once."""
        if self.child is None or self.child.alive():
            return
        while not self._answered and (self._inbox or (not self.child.eof and self.child.pending())):
            if not now:
                for n in self._notifiers[1:]:  # the exit is known; the pidfd would fire at every turn
                    n.setEnabled(False)
                if self._reaper is not None:
                    self._reaper.stop()
                self._read_later()
                return
            self._read()
        if not self._answered:
            self.error = self.child.exit_line(self.what)
            self._answer(self.failed, self.error)
        self._finish_up()

    def _answer(self, signal, value) -> None:
        self._answered = True
        for n in self._notifiers[:1]:
            n.setEnabled(False)
        self._answered_at = time.monotonic()
        try:
            signal.emit(value)
        finally:
            self._finish_up()

    def _finish_up(self) -> None:
        """Once answered and exited: kill what is left of its process group, release the socket and pidfd.

        A child that has answered but not exited within ``EXIT_GRACE_S`` (a hung thread) is killed."""
        if not self._answered or self.child is None:
            return
        if self.child.alive() and self.child.started and time.monotonic() - self._answered_at < self.EXIT_GRACE_S:
            QTimer.singleShot(100, self._finish_up)  # still exiting: look again, never block the GUI thread
            return
        self.child.kill()  # its data-loader processes, if any are left
        self.child.close()
        for n in self._notifiers:
            n.setEnabled(False)
            n.deleteLater()
        self._notifiers = []
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        if self._reaper is not None:
            self._reaper.stop()
        ProcessWorker._active.discard(self)
        if ProcessWorker._keep_warm and self._use_standby:
            QTimer.singleShot(self.REWARM_AFTER_MS, ProcessWorker._rewarm)


atexit.register(ProcessWorker.stop_all)
