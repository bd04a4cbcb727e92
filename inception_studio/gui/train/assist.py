"""RecipeAssistant: the Train panel's helpers before a run — the auto recipe with its reason, the
learning-rate finder (curve in the Training Monitor, suggestion applied to the form), the preview
of augmented samples and the measured time per epoch (timed in a child process). Engine work runs on
workers; this only binds widgets to engine calls.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ...engine import train as T
from ...engine.training.remote import ESTIMATE
from ...errors import StudioError, one_line
from ..shared.error_details import report_unexpected
from ..shared.process_worker import ProcessWorker
from ..shared.workers import Worker
from .augment_view import AugmentPreview
from .dataset_view import DatasetView
from .lr_view import LRFinderView
from .plots import clock_text
from .recipe import RecipeForm

PREVIEW_SAMPLES = 8
ESTIMATE_WARM = ("inception_studio.engine.training.probe",)  # what the estimate's process imports first


def _estimate_text(steps: int, per_step: float, how: str) -> str:
    return f"≈ {clock_text(per_step * steps)} per epoch: {steps} step(s) × {per_step:.2f} s ({how})"


class RecipeAssistant(QObject):
    """Auto recipe, lr finder and augmentation preview for one Train panel (see the module docstring)."""

    message = Signal(str)  # one line for the status bar
    failed = Signal(str)  # one line for the panel's error label

    def __init__(self, form: RecipeForm, data_view: DatasetView, preview: AugmentPreview, lr_view: LRFinderView,
                 spec, initial_weights, running=lambda: False) -> None:
        """``spec()``: the document's spec now; ``initial_weights()``: the weights a run would start from;
        ``running()``: whether a run is on (no estimate then)."""
        super().__init__(form)
        self.form, self.data_view, self.preview, self.lr_view = form, data_view, preview, lr_view
        self._spec, self._initial, self._running = spec, initial_weights, running
        self._estimator: Worker | None = None
        self._estimate_again = False
        # (what was measured, its text): the same spec, recipe and data again (a run ended, say) show it
        # again instead of starting a process to time training steps once more
        self._estimated: tuple[tuple, str] | None = None
        self._measuring: tuple | None = None
        self._run_inputs: tuple | None = None  # the settings of the run in progress
        self._estimate_timer = QTimer(self, singleShot=True, interval=600)
        self._estimate_timer.timeout.connect(self._estimate)
        self.finder: Worker | None = None
        self._previewer: Worker | None = None
        self._preview_again = False
        self._preview_what = ""
        self._closed = False
        self._preview_timer = QTimer(self, singleShot=True, interval=400)
        self._preview_timer.timeout.connect(self._preview)
        form.autoWanted.connect(self.refresh_auto)
        form.changed.connect(self._preview_timer.start)
        form.changed.connect(self.schedule_estimate)
        form.find_lr.clicked.connect(self.find_lr)
        data_view.dataChanged.connect(lambda _d: (self.refresh_auto(), self._preview_timer.start(),
                                                  self.schedule_estimate()))

    # ---- the auto recipe ---------------------------------------------------------------------------
    def refresh_auto(self) -> None:
        """Choose the small-data recipe for the data and the model now in view, and show it with its reason."""
        profile = self.data_view.profile
        if profile is None or self.data_view.data is None:
            return
        width, size = self.form.sizing()
        spec = self._spec()
        if width is not None:
            spec, _ = T.prepare_spec(spec, profile.classes, width, None)
        device = self.form.device.currentData() or "cpu"
        chosen = T.auto_recipe(profile, spec, "cpu" if device == "cpu" else "gpu", size)
        self.form.show_auto(chosen.config, chosen.reason)

    # ---- the learning-rate finder ----------------------------------------------------------------------
    def find_lr(self) -> bool:
        """Run the finder for the run the form describes; the curve goes to the monitor, the lr to the form."""
        data = self.data_view.data
        if data is None:
            self.failed.emit("Choose the training data first: the finder trains on it for a few seconds.")
            return False
        if self.finder is not None and self.finder.is_running():
            return False
        try:
            init = self._initial()
        except StudioError as exc:  # e.g. pretrained weights that cannot be read: one line
            self.failed.emit(one_line(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback to the log and "Details…"
            self.failed.emit(report_unexpected(exc, "learning-rate finder"))
            return False
        self.lr_view.start(T.LR_FIND_STEPS)
        self.form.find_lr.setEnabled(False)
        self.message.emit("finding the learning rate…")
        self.finder = Worker(T.iter_lr_find, self.form.config(), self._spec(), data, init)
        self.finder.progress.connect(self._on_point)
        self.finder.failed.connect(self._finder_failed)
        self.finder.finished.connect(self._finder_done)
        self.finder.start()
        return True

    def _on_point(self, item) -> None:
        if isinstance(item, T.LRPoint):
            self.lr_view.add_point(item.lr, item.loss)
        elif isinstance(item, T.LRFindResult):
            self.lr_view.show_result(item)
            self.form.lr.setValue(item.suggestion)
            self.message.emit(f"{item.describe()} — applied")

    def _finder_done(self, _result) -> None:
        self.form.find_lr.setEnabled(True)

    def _finder_failed(self, message: str) -> None:
        self.form.find_lr.setEnabled(True)
        self.lr_view.title.setText(f"The finder stopped: {message}")
        self.failed.emit(message)

    # ---- augmentation preview --------------------------------------------------------------------------
    def _preview(self) -> None:
        if self._closed:
            return
        data = self.data_view.data
        if data is None:
            self.preview.show_message("As the model sees them: choose data to preview the augmentation.")
            return
        if self._previewer is not None and self._previewer.is_running():
            self._preview_again = True
            return
        cfg = self.form.config()
        spec, _ = T.prepare_spec(self._spec(), len(data.classes), cfg.width_mult, cfg.image_size, cfg.train_part)
        if cfg.train_part == "classifier":
            what = "classifier only: features of the plain images, no augmentation"
            cfg = T.TrainConfig(augment=False)
        else:
            crop = f"crops ≥ {cfg.crop_scale[0]:.0%}" if cfg.augment and cfg.crop_scale != (1.0, 1.0) else "no crops"
            what = f"{spec.input_size} px, {crop}, {'flips' if cfg.flip else 'no flips'}"
        self._preview_what = what
        # Bound methods of this QObject (not lambdas): Qt drops the connection if the panel goes first.
        self._previewer = Worker(T.augmented_samples, data, cfg, spec, PREVIEW_SAMPLES)
        self._previewer.finished.connect(self._show_preview)
        self._previewer.failed.connect(self._preview_failed)
        self._previewer.start()

    def _show_preview(self, samples) -> None:
        if self._preview_again:
            self._preview_again = False
            self._preview()
            return
        if samples:
            self.preview.show_samples(samples, self._preview_what)

    def _preview_failed(self, message: str) -> None:
        self.preview.show_message(f"No preview: {message}")

    # ---- time per epoch --------------------------------------------------------------------------------
    def schedule_estimate(self) -> None:
        """Measure the time per epoch again soon (data or recipe changed, or a run ended)."""
        if self.data_view.data is not None and not self._running() and not self._closed:
            self._estimate_timer.start()

    def _estimate(self) -> None:
        data = self.data_view.data
        if data is None or self._running() or self._closed:
            return
        if self._estimator is not None and self._estimator.is_running():
            self._estimate_again = True
            return
        what = self.inputs()
        if self._estimated is not None and self._estimated[0] == what:
            self.form.estimate.setText(self._estimated[1])
            return
        self.form.estimate.setText("estimating the time per epoch…")
        self._measuring = what
        # timed in a child process of its own: in a thread here its steps held the interpreter the window needs
        self._estimator = ProcessWorker(ESTIMATE, *what, what="time estimate", warm=ESTIMATE_WARM, standby=False)
        self._estimator.finished.connect(self._on_estimate)
        self._estimator.failed.connect(self._estimate_failed)
        self._estimator.start()

    def inputs(self) -> tuple:
        """What an estimate is of: the spec, the recipe and the data's sizes now."""
        data = self.data_view.data
        return self._spec(), self.form.config(), len(data.train), len(data.classes)

    def run_ended(self, last_step: T.StepEvent | None) -> None:
        """A run ended: its rate is the estimate of its settings from now on (better than two timed steps, and
        nothing is measured again in the window's process), then the estimate of the settings now is shown."""
        inputs, self._run_inputs = self._run_inputs, None
        if inputs is not None and last_step is not None and last_step.images_per_s > 0:
            train_count, batch = inputs[2], inputs[1].batch_size
            steps, per_step = max(1, train_count // batch), batch / last_step.images_per_s
            self._estimated = (inputs, _estimate_text(steps, per_step, "the last run's rate, with data loading"))
        self.schedule_estimate()

    def run_started(self, own_settings: bool = True) -> None:
        """A run starts: no estimate now (a running one is cancelled at its next step; it would take a core
        from the run and the interpreter from the window). The run shows its own rate; with ``own_settings``
        (not a resumed run's) that rate is kept for the settings now (run_ended)."""
        self._run_inputs = self.inputs() if own_settings else None
        self._estimate_timer.stop()
        self._estimate_again = False
        if self._estimator is not None and self._estimator.is_running():
            self._estimator.cancel()
        self.form.estimate.setText("")

    def _estimate_failed(self, message: str) -> None:
        self._on_estimate(None, message)

    def _on_estimate(self, result, message: str = "") -> None:
        if getattr(self.sender(), "cancelled", False):  # a run started meanwhile
            return
        if self._estimate_again:
            self._estimate_again = False
            self._estimate()
            return
        if result is None:
            self.form.estimate.setText(f"<span style='color:#D55E00'>{message}</span>" if message else "")
            return
        _per_epoch, steps, per_step = result
        text = _estimate_text(steps, per_step, "measured, without data loading")
        self.form.estimate.setText(text)
        if self._measuring is not None:
            self._estimated = (self._measuring, text)

    def shutdown(self) -> None:
        """No new work from here on (the panel is closing)."""
        self._closed = True
        self._preview_timer.stop()
        self._estimate_timer.stop()

    def busy(self) -> list[Worker | ProcessWorker]:
        """Workers that may still run (to wait for at exit)."""
        return [w for w in (self.finder, self._previewer, self._estimator) if w is not None]
