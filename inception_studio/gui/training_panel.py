"""TrainingPanel: data, model sizing and recipe, start / pause / resume / stop of a training run.

Binds a SpecDocument to engine.train: the run is the engine's generator on a Worker thread; its
events feed the TrainingMonitor (plots, feature maps, confusion matrix), the progress bar and the
status text (images/s, ETA). The graph selection picks the node whose feature maps the training
thread sends every few steps. When the run ends the trained model, with its class names, becomes
the document's model (the one that classifies dropped images). GUI thread: drawing only.
"""
from __future__ import annotations

import gc
import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.graph import build_graph
from ..engine import train as T
from ..engine.data import user_cache_dir
from .dataset_view import DatasetView
from .document import LoadedModel, SpecDocument
from .training_plots import TrainingMonitor, clock_text
from .training_recipe import RecipeForm
from .workers import Worker

FEATURE_EVERY = 10  # steps between live feature maps


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
        self.worker: Worker | None = None
        self.done: T.DoneEvent | None = None
        self.events: list[object] = []  # this run's non-step events (notes, checkpoints, ...)
        self._stop = False
        self._pause = False
        self._active = False  # a run is in progress (set before the thread starts, cleared on its last signal)
        self._resume: T.ResumeState | None = None
        self._probe_module: str | None = None
        self._probe_label = ""
        self._spec_name = ""
        self._graph = None
        self._estimator: Worker | None = None
        self._estimate_again = False

        self.data_view = DatasetView(dialogs=dialogs)
        data = QGroupBox("Data")
        QVBoxLayout(data).addWidget(self.data_view)
        self.form = RecipeForm()
        self.out = QLineEdit(objectName="checkpointPath")
        self.out.setPlaceholderText(f"automatic: {user_cache_dir() / 'runs'}/<variant>-<time>.safetensors")
        self.out.setToolTip("The last checkpoint; the best one (.best) and the resume state (.state) go beside it")
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.stop_button.setToolTip("Stop after this step; the weights so far are kept and saved")
        self.resume_button = QPushButton("Resume…", objectName="resumeButton")
        self.resume_button.setToolTip("Continue a run from its checkpoint: weights, optimizer state, epoch and step")
        self.progress = QProgressBar(objectName="trainProgress")
        self.progress.setFormat("%v / %m steps")
        self.status = QLabel("Choose the data, then press Train.", objectName="trainStatus")
        self.status.setWordWrap(True)
        self.error = QLabel("", objectName="trainError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D55E00;")
        self.error.hide()
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Checkpoint"))
        out_row.addWidget(self.out, 1)
        out_row.addWidget(self.resume_button)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.addWidget(data)
        lay.addWidget(self.form)
        lay.addLayout(out_row)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._last_step: T.StepEvent | None = None
        self._step_timer = QTimer(self, singleShot=True, interval=250)
        self._step_timer.timeout.connect(self._show_step)
        self._estimate_timer = QTimer(self, singleShot=True, interval=600)
        self._estimate_timer.timeout.connect(self._estimate)
        self.train_button.clicked.connect(lambda: self.start())
        self.pause_button.toggled.connect(self.set_paused)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self._ask_resume)
        self.data_view.dataChanged.connect(self._on_data)
        self.data_view.message.connect(self.statusText.emit)
        self.form.changed.connect(self._schedule_estimate)
        document.specChanged.connect(self._on_spec)
        document.selectionChanged.connect(self._on_selection)
        document.modelChanged.connect(lambda _m: self._sync_init())
        self._on_spec(document.spec)
        self._sync_buttons()

    # ---- bindings ----------------------------------------------------------------------------------
    def _on_spec(self, spec) -> None:
        self._graph = None
        # A new variant brings its own recipe and small size; an edit of the same one keeps the form.
        if spec.name != self._spec_name and not self.running():
            self._spec_name = spec.name
            self.form.set_spec_defaults(spec.name, T.small_image_size(spec))
            if self.data_view.data is not None and T.is_demo_source(self.data_view.data.root):
                self._demo_preset()
        self._on_selection(self.document.selection)
        self._sync_init()

    def _on_data(self, data) -> None:
        if data is not None and T.is_demo_source(data.root):
            self._demo_preset()
        self._schedule_estimate()

    def _demo_preset(self) -> None:
        """The demo shapes get a recipe that learns them in about half a minute (sizing and device kept)."""
        self.form.set_config(T.demo_recipe(seed=self.form.seed.value(), batch_size=self.form.batch.value()),
                             sizing=False)
        self.form.recipe_note.setText("Demo preset: AdamW at lr 0.003 for 30 epochs, crops of half the image "
                                      "or more — learns the demo shapes in about half a minute on a CPU.")

    def _sync_init(self) -> None:
        has = self.document.model is not None
        item = self.form.init.model().item(1)
        item.setEnabled(has)
        if not has:
            self.form.init.setCurrentIndex(0)

    def _on_selection(self, node_id: str) -> None:
        """Graph node -> module path whose feature maps the training thread sends (read there, atomically)."""
        if not node_id:
            self._probe_module = None
            return
        if self._graph is None:
            self._graph = build_graph(self.document.spec)
        g = self._graph
        node = g.nodes.get(node_id)
        if node is not None and node.module is None and g.block_of(node_id):
            node = g.nodes.get(g.block_of(node_id))  # a port or concat shows its block's output
        self._probe_module = node.module if node is not None else None
        self._probe_label = node.label if node is not None else ""

    def _sync_buttons(self) -> None:
        running = self.running()
        self.train_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.data_view.setEnabled(not running)

    def running(self) -> bool:
        """True while a training run is in progress."""
        return self._active

    # ---- estimate -------------------------------------------------------------------------------------
    def _schedule_estimate(self) -> None:
        if self.data_view.data is not None and not self.running():
            self._estimate_timer.start()

    def _estimate(self) -> None:
        data = self.data_view.data
        if data is None or self.running():
            return
        if self._estimator is not None and self._estimator.is_running():
            self._estimate_again = True
            return
        self.form.estimate.setText("estimating the time per epoch…")
        self._estimator = Worker(T.estimate_epoch, self.document.spec, self.form.config(), len(data.train),
                                 len(data.classes))
        self._estimator.finished.connect(self._on_estimate)
        self._estimator.failed.connect(lambda msg: self._on_estimate(None, msg))
        self._estimator.start()

    def _on_estimate(self, result, message: str = "") -> None:
        if self._estimate_again:
            self._estimate_again = False
            self._estimate()
            return
        if result is None:
            self.form.estimate.setText(f"<span style='color:#D55E00'>{message}</span>" if message else "")
            return
        per_epoch, steps, per_step = result
        self.form.estimate.setText(f"≈ {clock_text(per_epoch)} per epoch: {steps} step(s) × {per_step:.2f} s "
                                   "(measured, without data loading)")

    # ---- run control ----------------------------------------------------------------------------------
    def start(self, resume: T.ResumeState | None = None) -> bool:
        """Start training on a worker; False (with the reason shown) when it cannot start."""
        if self.running():
            return False
        data = self.data_view.data
        if data is None:
            self._fail("Choose the training data first: drop a folder of class subfolders or press Demo data.")
            return False
        out = self.out.text().strip() or str(user_cache_dir() / "runs" /
                                             f"{self.document.spec.name}-{time.strftime('%Y%m%d-%H%M%S')}.safetensors")
        cfg = self.form.config(out=out, feature_every=FEATURE_EVERY)
        init = resume
        if init is None and self.form.init.currentData() == "current" and self.document.model is not None:
            init = self.document.model.model.state_dict()  # references only; copied on the worker
        spec = resume.spec if resume is not None else self.document.spec
        self.error.hide()
        self.done, self.events, self._last_step = None, [], None
        self._stop = self._pause = False
        self.pause_button.setChecked(False)
        self.monitor.reset()
        self.progress.setValue(0)
        self.status.setText("starting…")
        self.worker = Worker(T.train, cfg, spec, data, should_stop=lambda: self._stop,
                             should_pause=lambda: self._pause, init_state=init,
                             feature_target=lambda: self._probe_module)
        self.worker.progress.connect(self.on_event)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(lambda _r: self._on_finished())
        self._active = True
        # The app holds ~400k long-lived Python objects (Qt wrappers, plots, torch); a full GC pass
        # over them takes ~180 ms with the GIL held, which would stall the event loop mid-run.
        # Frozen, they are skipped from then on (the app also freezes at start-up); new objects are scanned.
        gc.freeze()
        self.worker.start()
        self._sync_buttons()
        self.runStarted.emit()
        return True

    def set_paused(self, paused: bool) -> None:
        """Pause (True) or resume (False) the run between two steps."""
        self._pause = bool(paused) and self.running()
        self.pause_button.setText("Resume" if self._pause else "Pause")

    def stop(self) -> None:
        """Stop after the current step; the engine saves the weights so far."""
        if self.running():
            self._stop = True
            self._pause = False
            self.status.setText("stopping after this step…")

    def shutdown(self, msecs: int = 10000) -> None:
        """Stop a run and wait for its thread (window closing)."""
        self.stop()
        for w in (self.worker, self._estimator, self.data_view._worker, getattr(self, "_loader", None)):
            if w is not None and w.is_running():
                w.wait(msecs)

    def _ask_resume(self) -> None:
        if not self.dialogs:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Resume training from a checkpoint", str(user_cache_dir() / "runs"),
                                              "Checkpoints (*.safetensors)")
        if path:
            self.resume_from(path)

    def resume_from(self, path: str) -> None:
        """Read a checkpoint and its resume state on a worker, then continue that run."""
        self.status.setText(f"reading {Path(path).name}…")
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
            self.document.set_model(LoadedModel(ev.model, ev.spec, list(ev.class_names), ev.device, source))
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
        self.error.setText(message)
        self.error.show()
        self.statusText.emit(message)

    def _on_failed(self, message: str) -> None:
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
        self._schedule_estimate()
        self.pause_button.setChecked(False)
        self.runFinished.emit(self.done)
