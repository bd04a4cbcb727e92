"""TrainingProcess: one training run in a child process, seen by the Train panel as a Worker would be.

The run is ``engine.training.remote.train_job`` on a ProcessWorker (gui/shared/process_worker.py): the
GUI process keeps the GIL to itself while the child trains. Its signals are a Worker's: ``progress``
(each engine event; the DoneEvent arrives with its model, rebuilt on the engine lane from the weights the
child wrote), ``finished`` (after that DoneEvent) and ``failed`` (one line: an error in the run, or a
child that was killed or crashed; the window and the checkpoints written so far stay). The feature-map
target and Stop reach the child through the control socket at once; the run stops after its current
step. Pause freezes the child at once (SIGSTOP, wherever it is); the engine is also asked to pause at
its next step, so that its images/s and ETA start afresh after the pause, and is let go as soon as it
reports that pause. The PausedEvents the panel sees are the ones of the clicks.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ...engine.training.events import PausedEvent
from ...engine.training.remote import TARGET, RemoteDone
from ..shared.process_worker import ProcessWorker
from ..shared.workers import ENGINE_LANE, Worker


def _remote():
    from ...engine.training import remote
    return remote


class TrainingProcess(QObject):
    """A training run in a child process with a Worker's signals (see the module docstring)."""

    progress = Signal(object)  # engine events; DoneEvent with its model
    finished = Signal(object)  # the job's return value (None)
    failed = Signal(str)  # one line

    def __init__(self, cfg, spec, data, start_from: str, current_model=None, resume=None,
                 resume_path: str | None = None, feature_target: str | None = None):
        super().__init__()
        self._job = dict(cfg=cfg, spec=spec, data=data, start_from=start_from)
        self._current = current_model if start_from == "current" and resume is None else None
        if resume is not None and resume_path:
            self._job["resume_path"] = resume_path  # the child reads the checkpoint itself
        elif resume is not None:
            self._job["init_state"] = resume
        self._live = {"feature_target": feature_target, "pause": False}
        self.process: ProcessWorker | None = None
        self._helper: Worker | None = None  # rebuilding the trained model on the engine lane
        self._rebuilding = False
        self._engine_paused = False  # the engine is in its own pause (polling), see set_paused
        self._outcome: tuple | None = None  # ("finished", value) | ("failed", message), held while rebuilding
        self._done = False

    # ---- control -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the run; the current weights, when it starts from them, are written to a file first (engine lane)."""
        model, self._current = self._current, None
        prepare = (lambda: {"current_path": _remote().save_weights(model)}) if model is not None else None
        p = self.process = ProcessWorker(TARGET, what="training", live=self._live, prepare=prepare, **self._job)
        p.progress.connect(self._on_event)
        p.finished.connect(lambda value: self._answer("finished", value))
        p.failed.connect(lambda message: self._answer("failed", message))
        p.start()

    def set_paused(self, paused: bool) -> None:
        """Freeze the run now (True) or let it go on (see the module docstring)."""
        p = self.process
        if p is None or not p.is_running() or bool(paused) == p.suspended:
            return
        if paused:
            self._set("pause", True)
            p.suspend()  # ...and what it sent before is handled: nothing comes after the PausedEvent
            self.progress.emit(PausedEvent(True))
        else:
            if self._engine_paused:
                self._set("pause", False)  # it reached its own pause while frozen: let it go now
            p.resume()
            self.progress.emit(PausedEvent(False))

    def set_target(self, module: str | None) -> None:
        """The module whose feature maps the run sends next (None: none)."""
        self._set("feature_target", module)

    def _set(self, name: str, value: Any) -> None:
        self._live[name] = value
        if self.process is not None:
            self.process.set_value(name, value)

    def stop(self) -> None:
        """End the run after the current step; the engine saves the weights so far."""
        if self.process is not None:
            self.process.stop()

    def cancel(self) -> None:
        """Stop (for Worker.stop_all's contract)."""
        self.stop()

    def kill(self) -> None:
        """End the child now (no save); reported by ``failed``."""
        if self.process is not None:
            self.process.kill()

    @property
    def pid(self) -> int | None:
        """The training process's id (None before it started)."""
        return self.process.pid if self.process is not None else None

    @property
    def details(self) -> str:
        """The traceback of an unexpected error in the child ("" otherwise)."""
        return self.process.details if self.process is not None else ""

    def is_running(self) -> bool:
        """True until ``finished`` or ``failed`` has been emitted."""
        return not self._done

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the child has answered (for shutdown and tests); True if it did in time."""
        return self.process.wait(msecs) if self.process is not None else True

    # ---- from the child --------------------------------------------------------------------------
    def _on_event(self, ev) -> None:
        if isinstance(ev, PausedEvent):  # the engine's own pause, asked for with the freeze (see set_paused)
            self._engine_paused = ev.paused
            if ev.paused and not (self.process is not None and self.process.suspended):
                self._set("pause", False)
            return
        if not isinstance(ev, RemoteDone):
            self.progress.emit(ev)
            return
        self._rebuilding = True
        self._helper = Worker(_remote().load_done, ev)
        self._helper.finished.connect(self._rebuilt)
        self._helper.failed.connect(self._rebuild_failed)
        self._helper.start(lane=ENGINE_LANE)

    def _rebuilt(self, done) -> None:
        self._rebuilding = False
        self.progress.emit(done)
        self._flush()

    def _rebuild_failed(self, message: str) -> None:
        self._rebuilding = False
        self._outcome = ("failed", f"the trained weights could not be read back: {message}")
        self._flush()

    def _answer(self, kind: str, value) -> None:
        if self._outcome is None:
            self._outcome = (kind, value)
        self._flush()

    def _flush(self) -> None:
        if self._rebuilding or self._outcome is None or self._done:
            return
        self._done = True
        kind, value = self._outcome
        (self.finished if kind == "finished" else self.failed).emit(value)
