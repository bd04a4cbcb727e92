"""TrainingPanel: data, model sizing and recipe, start / pause / resume / stop of a training run.

Binds a SpecDocument to engine.train: the run is the engine's generator in a child process
(TrainingProcess, run_process.py: the GUI keeps the GIL and survives a crash of the run); its events
feed the TrainingMonitor (plots, feature maps, confusion matrix), the progress bar and the status text
(images/s, ETA). The graph selection picks the node whose feature maps the run sends every few steps.
When the run ends the trained model, with its class names, becomes the document's model (the one that
classifies dropped images). GUI thread: drawing only.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QGroupBox, QMessageBox, QScrollArea, QVBoxLayout, QWidget

from ...core.graph import build_graph
from ...core.names import safe_filename
from ...engine import train as T
from ...engine.building import BuiltModel
from ...paths import cache_dir
from ...errors import StudioError
from .assist import RecipeAssistant
from .controls import RunControls
from .remember import remember, restore
from .augment_view import AugmentPreview
from .dataset_view import DatasetView
from .lr_view import LRFinderView
from ..shared.document import SpecDocument
from .plots import TrainingMonitor, clock_text
from .recipe import RecipeForm
from ..shared.process_worker import ProcessWorker
from ..shared.workers import Worker, freeze_long_lived_objects
from .run_process import TrainingProcess

FEATURE_EVERY = 10  # steps between live feature maps


def default_run_path(spec) -> str:
    """Where a run is saved when no output is given: the runs folder, named after the spec (never a path)."""
    return str(cache_dir() / "runs" / f"{safe_filename(spec.name)}-{time.strftime('%Y%m%d-%H%M%S')}.safetensors")


class TrainingPanel(QWidget):
    """Data + recipe form + run controls for the document's spec; drives a TrainingMonitor."""

    runStarted = Signal()
    runFinished = Signal(object)  # engine.train.DoneEvent, or None when the run failed
    statusText = Signal(str)  # images/s and ETA while training, for the window's status bar

    def __init__(self, document: SpecDocument, monitor: TrainingMonitor | None = None, dialogs: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.document, self.dialogs = document, dialogs
        self.monitor = monitor or TrainingMonitor()
        self.worker: TrainingProcess | None = None
        self.done: T.DoneEvent | None = None
        self.events: list[object] = []  # this run's non-step events (notes, checkpoints, ...)
        self._pause = False
        self._resume_path: str | None = None  # the checkpoint resume_from read (the child reads it again)
        self._active = False  # a run is in progress (set before the thread starts, cleared on its last signal)
        self._resume: T.ResumeState | None = None
        self._probe_module: str | None = None
        self._probe_label = ""
        self._spec_name = ""
        self._graph = None
        self._last_step: T.StepEvent | None = None

        self.data_view = DatasetView(dialogs=dialogs)
        self.preview = AugmentPreview()
        data = QGroupBox("Data")
        dl = QVBoxLayout(data)
        dl.addWidget(self.data_view)
        dl.addWidget(self.preview)
        self.form = RecipeForm()
        self.lr_view = LRFinderView()
        self.monitor.side.addTab(self.lr_view, "LR finder")
        self.controls = RunControls()
        c = self.controls  # the panel's names for its widgets (tests and the window use them)
        self.out, self.train_button, self.pause_button = c.out, c.train_button, c.pause_button
        self.stop_button, self.resume_button, self.progress = c.stop_button, c.resume_button, c.progress
        self.status, self.hint, self.error = c.status, c.hint, c.error
        inner = QWidget()
        lay = QVBoxLayout(inner)
        for w in (data, self.form, self.controls):
            lay.addWidget(w)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._connect(document)

    def _connect(self, document: SpecDocument) -> None:
        """Timers, buttons, the data view, the recipe assistant and the document's signals."""
        self._step_timer = QTimer(self, singleShot=True, interval=250)
        self._step_timer.timeout.connect(self._show_step)
        self.train_button.clicked.connect(lambda: self.start())
        self.pause_button.toggled.connect(self.set_paused)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self._ask_resume)
        self.data_view.dataChanged.connect(self._on_data)
        self.data_view.message.connect(self.statusText.emit)
        self.assistant = RecipeAssistant(self.form, self.data_view, self.preview, self.lr_view,
                                         lambda: self.document.spec, self._initial_weights, self.running)
        self.assistant.message.connect(self.statusText.emit)
        self.assistant.failed.connect(self._fail)
        self.form.find_lr.clicked.connect(lambda: self.monitor.side.setCurrentWidget(self.lr_view))
        document.specChanged.connect(self._on_spec)
        document.selectionChanged.connect(self._on_selection)
        document.modelChanged.connect(lambda _m: self._sync_init())
        self._on_spec(document.spec)
        self._restoring = restore(self.form, self.data_view)  # the last session's data and settings
        self._sync_buttons()

    # ---- bindings ----------------------------------------------------------------------------------
    def _on_spec(self, spec) -> None:
        self._graph = None  # the selection's module is looked up again when it is needed
        # A new variant brings its own recipe and small size; an edit of the same one keeps the form.
        family = spec.based_on or spec.name
        if family != self._spec_name and not self.running():
            self._spec_name = family
            self.form.set_spec_defaults(T.small_image_size(spec))
        if self.running():
            self._on_selection(self.document.selection)
        self._sync_init()

    def _on_data(self, data) -> None:
        if self.running():
            return
        if data is not None:
            ProcessWorker.prewarm()  # a training process with torch loaded, so that Train starts at once
        self.controls.idle(data is not None)  # (it still said "Choose the data" with the data shown above)

    def _sync_init(self) -> None:
        """"Current weights" needs a model; "Pretrained ImageNet" a network with released weights."""
        from ...core.sources import pretrained_sources

        has = self.document.model is not None
        self.form.init.model().item(1).setEnabled(has)
        self.form.init.model().item(2).setEnabled(bool(pretrained_sources(self.document.spec)))
        if not self.form.init.model().item(self.form.init.currentIndex()).isEnabled():
            self.form.init.setCurrentIndex(0)

    def _initial_weights(self) -> dict | None:
        """The weights the form says to start from (for the lr finder; a download may happen here)."""
        current = self.document.model.model.state_dict() if self.document.model is not None else None
        return T.start_weights(self.form.init.currentData(), self.document.spec, current)

    def _on_selection(self, node_id: str, now: bool = False) -> None:
        """Graph node -> module path whose feature maps the training thread sends (read there, atomically).

        Only while a run is on (and once at its start): an edit or a click costs nothing otherwise."""
        if not (now or self.running()):
            return
        if not node_id:
            self._probe_module = None
            self._send_target()
            return
        if self._graph is None:
            self._graph = build_graph(self.document.spec)
        node = self._graph.module_node(node_id)  # a concat or out port shows its block's output
        self._probe_module = node.module if node is not None else None
        self._probe_label = node.label if node is not None else ""
        self._send_target()

    def _send_target(self) -> None:
        if self.worker is not None and self.running():
            self.worker.set_target(self._probe_module)

    def _sync_buttons(self) -> None:
        running = self.running()
        self.controls.sync(running)
        self.form.setEnabled(not running)
        self.data_view.setEnabled(not running)

    def running(self) -> bool:
        """True while a training run is in progress."""
        return self._active

    # ---- run control ----------------------------------------------------------------------------------
    def start(self, resume: T.ResumeState | None = None) -> bool:
        """Start training on a worker; False (with the reason shown) when it cannot start."""
        if self.running():
            return False
        data = self.data_view.data
        if data is None:
            self._fail("Choose the training data first: drop a folder of class subfolders or press Demo data.")
            return False
        out = self.out.text().strip() or default_run_path(self.document.spec)
        try:  # never replace a trained checkpoint by accident (resuming it is fine)
            T.check_outputs(out, overwrite=self._may_overwrite(out), resuming=out if resume is not None else None)
        except StudioError as exc:
            self._fail(str(exc).replace("--resume it, or pass --overwrite to replace it",
                                        "resume it (Resume…) or choose another checkpoint path"))
            return False
        cfg = self.form.config(out=out, feature_every=FEATURE_EVERY)
        remember(self.data_view.path.text(), self.form.config())
        current = self.document.model.model if self.document.model is not None else None
        spec = resume.spec if resume is not None else self.document.spec
        self.error.hide()
        self.assistant.run_started(own_settings=resume is None)
        self.worker = None
        self._on_selection(self.document.selection, now=True)
        self.done, self.events, self._last_step = None, [], None
        self._pause = False
        self.pause_button.setChecked(False)
        self.monitor.reset()
        self.hint.hide()
        self.progress.setValue(0)
        self.status.setText("starting…")
        # Initial weights go by file (the current model's written on the engine lane); pretrained ones are
        # fetched by the child, a checkpoint to resume is read there again.
        self.worker = TrainingProcess(cfg, spec, data, self.form.init.currentData(), current, resume,
                                      self._resume_path if resume is not None else None, self._probe_module)
        self.worker.progress.connect(self.on_event)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(lambda _r: self._on_finished())
        self._active = True
        freeze_long_lived_objects()  # what the session made so far: no full GC pass over it mid-run
        self.worker.start()
        self._sync_buttons()
        self.runStarted.emit()
        return True

    def _may_overwrite(self, out: str) -> bool:
        """Asked only when ``out`` exists and dialogs are allowed: replace that checkpoint?"""
        if not (self.dialogs and Path(out).exists()):
            return False
        answer = QMessageBox.question(self, "Replace the checkpoint?",
                                      f"{Path(out).name} exists (a trained model?). Replace it and its .best and "
                                      ".state files with this run's?")
        return answer == QMessageBox.StandardButton.Yes

    def set_paused(self, paused: bool) -> None:
        """Pause (True) or resume (False) the run between two steps."""
        self._pause = bool(paused) and self.running()
        self.pause_button.setText("Resume" if self._pause else "Pause")
        if self.worker is not None and self.running():
            self.worker.set_paused(self._pause)

    def stop(self) -> None:
        """Stop after the current step; the engine saves the weights so far."""
        if self.running():
            self._pause = False
            if self.worker is not None:
                self.worker.stop()
            self.status.setText("stopping after this step…")

    def shutdown(self, msecs: int = 10000) -> None:
        """Stop a run and wait for its thread (window closing); the data and settings are remembered."""
        self.stop()
        remember(self.data_view.path.text() if self.data_view.data is not None else None, self.form.config())
        self.assistant.shutdown()
        for w in (self.worker, self.data_view._worker, getattr(self, "_loader", None),
                  *self.assistant.busy()):
            if w is not None and w.is_running():
                w.wait(msecs)

    def _ask_resume(self) -> None:
        if not self.dialogs:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Resume training from a checkpoint", str(cache_dir() / "runs"),
                                              "Checkpoints (*.safetensors)")
        if path:
            self.resume_from(path)

    def resume_from(self, path: str) -> None:
        """Read a checkpoint and its resume state on a worker, then continue that run."""
        self.status.setText(f"reading {Path(path).name}…")
        self._resume_path = str(path)
        w = Worker(T.load_resume, path)
        w.finished.connect(lambda state: self._resume_loaded(state, path))
        w.failed.connect(self._fail)
        self._loader = w
        w.start()

    def _resume_loaded(self, state: T.ResumeState | None, path: str) -> None:
        if state is None:
            return
        if state.config:
            self.form.set_config(T.TrainConfig.from_dict(state.config))
        self.out.setText(path)
        data = self.data_view.data
        if data is None or list(data.classes) != list(state.class_names):
            if state.data_root and Path(state.data_root).is_dir():
                self._resume = state
                self.data_view.dataChanged.connect(self._start_pending_resume)
                self.data_view.load(state.data_root)
                return
        self.start(resume=state)

    def _start_pending_resume(self, _data) -> None:
        self.data_view.dataChanged.disconnect(self._start_pending_resume)
        state, self._resume = self._resume, None
        if state is not None:
            self.start(resume=state)

    # ---- events from the training thread ---------------------------------------------------------------
    def on_event(self, ev) -> None:
        """Show one engine event (GUI thread; drawing only)."""
        if isinstance(ev, T.StepEvent):
            self.monitor.add_step(ev.step, ev.loss, ev.main_loss, ev.aux_loss, ev.lr)
            self._last_step = ev  # shown by the 250 ms timer: text and bars need not repaint every step
            if not self._step_timer.isActive():
                self._step_timer.start()
            return
        self.events.append(ev)
        if isinstance(ev, T.StartEvent):
            self.progress.setRange(0, max(1, ev.total_steps))
            self.monitor.set_length(ev.total_steps, -(-ev.total_steps // max(1, ev.steps_per_epoch)))
            self.progress.setValue(ev.start_step)
            self.status.setText(f"training {ev.spec.name} ({ev.init}) at {ev.spec.input_size} px on {ev.device}: "
                                f"{ev.train_count} train / {ev.val_count} val images")
            if ev.init == "fine-tune":
                self._mark_reinitialised(set(ev.reinitialised))
        elif isinstance(ev, T.EpochEvent):
            self.monitor.add_epoch(ev.epoch, ev.step, ev.val_loss, ev.val_acc, ev.train_acc)
        elif isinstance(ev, T.FeatureMapEvent):
            label = self._probe_label or ev.node_module
            self.monitor.show_maps(f"{label} at step {ev.step}: {min(ev.channels, len(ev.maps))} of {ev.channels} "
                                   "channels for the probe image", ev.maps)
        elif isinstance(ev, T.CheckpointEvent):
            self.statusText.emit(f"saved the {ev.kind} checkpoint: {ev.path}")
        elif isinstance(ev, T.NoteEvent):
            self.statusText.emit(ev.message)
        elif isinstance(ev, T.HintEvent):
            self.hint.setText(f"⚠ {ev.message}")
            self.hint.show()
            self.monitor.show_hint(ev.message)
            self.statusText.emit(f"hint: {ev.message}")
        elif isinstance(ev, T.PausedEvent):
            self._step_timer.stop()
            self._show_step()  # paused: show exactly where it stands
            self.status.setText("paused — press Resume to go on" if ev.paused else "resuming…")
        elif isinstance(ev, T.StoppedEvent):
            self._step_timer.stop()
            if self._last_step is not None:
                self.progress.setValue(self._last_step.step)
            if ev.reason == "nan":
                self._fail(ev.message)
            self.status.setText(ev.message)
        elif isinstance(ev, T.DoneEvent):
            self.done = ev
            self.monitor.show_confusion(ev.confusion, ev.class_names, ev.per_class_acc)
            source = f"trained: {Path(ev.last_path).name}" if ev.last_path else "trained (not saved)"
            self.document.set_model(BuiltModel(ev.model, ev.spec, list(ev.class_names), ev.device, source))
            self.statusText.emit(f"{self.status.text()} — the trained model now classifies dropped images")

    def _show_step(self) -> None:
        ev = self._last_step
        if ev is None:
            return
        self.progress.setValue(ev.step)
        text = (f"training: step {ev.step}/{ev.total_steps}, epoch {ev.epoch} · loss {ev.loss:.3f} · "
                f"{ev.images_per_s:.0f} images/s · ETA {clock_text(ev.eta_s)}")
        self.status.setText(text)
        self.statusText.emit(text)

    def _mark_reinitialised(self, ids: set[str]) -> None:
        view = getattr(self.window(), "graph_view", None)
        if view is not None and hasattr(view, "mark_nodes"):
            view.mark_nodes(ids, "reinitialised")

    def _fail(self, message: str) -> None:
        self.controls.fail(message)
        self.statusText.emit(message)

    def _on_failed(self, message: str) -> None:
        saved = [e for e in self.events if isinstance(e, T.CheckpointEvent) and e.kind == "last"]
        if saved:  # e.g. the training process was killed: what it saved is still there
            message = f"{message} — {Path(saved[-1].path).name}, saved earlier in this run, is kept: Resume… continues it"
        self._fail(message)
        self.status.setText("training failed")
        self._on_finished()

    def _on_finished(self) -> None:
        self._active = False
        if self.document.spec.name != self._spec_name:  # the variant changed during the run
            self._on_spec(self.document.spec)
        self._step_timer.stop()
        if self._last_step is not None:
            self.progress.setValue(self._last_step.step)
        self.monitor.redraw_all()
        self._sync_buttons()
        self.assistant.run_ended(self._last_step)
        self.pause_button.setChecked(False)
        self.runFinished.emit(self.done)
