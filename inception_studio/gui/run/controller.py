"""The Run and Feature-maps panels: build the model on a device, drop images, see predictions, look inside.

``run/install.py`` adds both panels to the Classify workspace. ``InferenceController`` binds the panels to the SpecDocument
and runs every engine call (build, classify, feature maps, Grad-CAM, export) in order on one worker
lane, the "engine" thread (torch's thread pools stay with one thread; see gui/workers.py); the GUI
thread only draws results and never runs torch. Image files dragged over the window are decoded and
classified while the drag hovers, so a drop is answered at once (Model → Classify while dragging; when
off, they are only decoded and a drop waits for the forward pass). Errors arrive as one line and are shown
in the panel and status bar.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid

from .engine_access import engine_infer, engine_jobs, list_devices, scroll_into_view, weights_choice, weights_of
from ...core.identity import same_structure
from .feature_maps import FeatureMapPanel
from .model_files import ModelFilesMixin
from .drop_zone import ask_images, local_paths, qimage_to_pil
from .predictions import RunPanel
from ..shared.frames import next_frame
from ..shared.settings import set_value, value
from ..shared.workers import ENGINE_LANE, Worker

if TYPE_CHECKING:
    from ...engine import infer, jobs
    from ...engine.loading import WeightsChoice

INSTALL_AFTER_FRAMES = 8  # a trained model is prepared for classifying once its run's end is drawn (~160 ms)


class InferenceController(ModelFilesMixin, QObject):
    """Binds the Run and Feature-maps panels to a SpecDocument; runs the engine on worker threads."""

    firstAnswer = Signal()  # the first image of a new set is about to be shown (install raises the Run dock)
    answerShown = Signal(object)  # engine.infer.ImageResult: a new drop's top-k is painted (thumbnail, preview follow)
    resultAdded = Signal(object)  # engine.infer.ImageResult, in results and the strip
    modelReady = Signal(object)  # engine.infer.Predictor
    featuresShown = Signal(object)  # engine.jobs.NodeView
    exportFinished = Signal(object)  # engine.export.ExportReport
    failed = Signal(str)

    def __init__(self, document, run_panel: RunPanel, feature_panel: FeatureMapPanel, window=None):
        super().__init__(run_panel)
        self.document, self.run, self.features, self.window = document, run_panel, feature_panel, window
        self.predictor: infer.Predictor | None = None
        self.built: infer.BuiltModel | None = None
        self.weights_choice = weights_choice().random()
        self._weights = None  # resolved Weights, reused by rebuilds after edits
        self._weights_label = self.weights_choice.label  # what the model's weights are, as the Run panel says
        self._fallback = None  # (choice, weights, label) to go back to if a new choice of weights fails
        self.sources: list = []
        self.results: list[infer.ImageResult] = []
        self.errors: list[str] = []
        self.last_export = None
        self._waiting: list = []  # sources dropped before a model existed or while classifying
        self._jobs: dict[str, int] = {}  # kind -> jobs whose finished/failed handler has not run yet
        self._feature_again = False
        self._own_model = None
        self._generation = 0
        self._show_next = False  # the next result is the first of a new drop: show it
        self._answered = None  # the result whose top-k the prediction list shows already
        self._features_due = False  # a feature-map refresh is scheduled for after the next paint
        # While a drag hovers, classify its files too (not just decode them): the drop is then answered at once.
        self.answer_ahead = value("run/answerAhead", True) not in (False, "false", "0", 0)
        self._prefetch: Worker | None = None
        self._prefetching: list = []
        bar = run_panel.device_bar
        bar.buildRequested.connect(lambda: self.build())
        bar.deviceChanged.connect(self._on_device)
        run_panel.drop_zone.filesDropped.connect(self.add_sources)
        run_panel.drop_zone.filesHovered.connect(self.hover)
        run_panel.drop_zone.hoverEnded.connect(self.end_hover)
        run_panel.drop_zone.imageDropped.connect(self.add_qimage)
        run_panel.drop_zone.openRequested.connect(self.open_images)
        run_panel.drop_zone.pasteRequested.connect(self.paste)
        run_panel.drop_zone.clearRequested.connect(self.clear)
        run_panel.strip.currentRowChanged.connect(self.show_result)
        run_panel.gradcam_toggle.toggled.connect(lambda _on: self.refresh_features())
        document.selectionChanged.connect(lambda _n: self.refresh_features())
        document.specChanged.connect(self._on_spec)
        document.modelChanged.connect(self._on_model)
        self._start("devices", Worker(list_devices), bar.set_devices)

    # ---- messages --------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        if self.window is not None:
            self.window.statusBar().showMessage(text, 10000)
        if error:
            self.failed.emit(text)

    def busy(self, kind: str | None = None) -> bool:
        """True while engine work (of ``kind``: build, classify, features, devices; "pending": images to classify a
        frame from now) has not been handled yet."""
        due = self._features_due and kind in (None, "features")
        return due or any(n > 0 for k, n in self._jobs.items() if kind is None or k == kind)

    def _start(self, kind: str, worker: Worker, finished, failed=None, progress=None, frames: int = 0) -> Worker:
        """Queue ``worker`` on the engine lane (``frames`` frames from now: busy() meanwhile); its handlers run on
        the GUI thread, not at all once the panel is gone."""
        self._jobs[kind] = self._jobs.get(kind, 0) + 1

        def handle(handler):
            def call(arg) -> None:
                self._jobs[kind] -= 1
                if handler is not None and isValid(self.run):
                    handler(arg)
            return call
        if progress is not None:
            worker.progress.connect(lambda event: progress(event) if isValid(self.run) else None)
        worker.finished.connect(handle(finished))
        worker.failed.connect(handle(failed or (lambda m: self._say(m, error=True))))
        if frames:
            next_frame(self, lambda: worker.start(lane=ENGINE_LANE), frames)
        else:
            worker.start(lane=ENGINE_LANE)
        return worker

    # ---- building --------------------------------------------------------------------------
    def build(self, weights: WeightsChoice | None = None) -> None:
        """Build the document's spec on the selected device (weights: the last choice unless given)."""
        if self.busy("build"):
            return
        if weights is not None:
            self._fallback = (self.weights_choice, self._weights, self._weights_label)
            self.weights_choice, self._weights, self._weights_label = weights, None, weights.label
        bar = self.run.device_bar
        bar.set_weights_label(self._weights_label)
        bar.begin(f"building {self.document.spec.name} on {bar.device_id()}…")
        w = self._weights or self.weights_choice
        self._start_build(Worker(engine_jobs().build_predictor, self.document.spec, bar.device_id(), w))

    def _start_build(self, worker: Worker, frames: int = 0) -> None:
        bar = self.run.device_bar
        self._start("build", worker, self._on_built, self._on_build_failed,
                    lambda e: bar.progress(e.fraction, e.message) if isinstance(e, engine_infer().BuildEvent) else None,
                    frames)

    def _on_build_failed(self, message: str) -> None:
        if self._fallback is not None:  # the weights asked for never arrived: the model keeps what it had
            failed, (self.weights_choice, self._weights, self._weights_label) = self.weights_choice, self._fallback
            self._fallback = None
            self.run.device_bar.set_weights_label(self._weights_label)
            if failed.kind == "pretrained" and not failed.path:
                message = (f"{message.split(';')[0]}. Offline? Download the weights file elsewhere, then choose it "
                           "with Model → Load pretrained… → From a local file.")
        self.run.device_bar.fail(message)
        self._say(message, error=True)
        if self._waiting and self.predictor is None:
            self._waiting.clear()

    def _on_built(self, result) -> None:
        built, predictor, *weights = result
        self._weights = weights[0] if weights else self._weights
        self._fallback = None
        self.built, self._own_model = built, built.model
        self.document.set_model(built)
        graph_view = self.window.graph_view if self.window is not None else None
        if graph_view is not None:
            graph_view.mark_nodes(set(built.reinitialised), "reinitialised")
        note = f"; {len(built.reinitialised)} block(s) re-initialised (marked in the graph)" if built.reinitialised else ""
        note += f"; classifies in {predictor.backend}" + (f" ({predictor.backend_note})" if predictor.backend_note else "")
        self.run.device_bar.done(f"{built.spec.name} on {built.device} — {built.source}{note}")
        self._use(predictor)

    def _use(self, predictor: infer.Predictor) -> None:
        self.predictor = predictor
        self.modelReady.emit(predictor)
        again = self.sources + self._waiting
        self.clear()
        self.add_sources(again)  # the new model classifies every image again

    def clear(self) -> None:
        """Forget the images shown (not the model)."""
        self._generation += 1  # results still on their way belong to what was cleared
        self.sources, self.results, self.errors, self._waiting = [], [], [], []
        self._answered = None
        self.run.show_errors([])
        self.run.strip.clear()
        self.run.preview.set_image(None)
        self.run.predictions.show_message("No image yet")
        self.refresh_features()

    def _on_device(self, device: str) -> None:
        if self.built is None or self.busy("build"):
            return
        self.run.device_bar.begin(f"moving the model to {device}…")
        self._start_build(Worker(engine_jobs().move_built, self.built, device))

    def _on_spec(self, spec) -> None:
        if self.predictor is not None and not same_structure(spec, self.predictor.spec):
            self.run.device_bar.done("The spec was edited — Build model to run it (weights carry over where they fit).")
            # What is shown must be of the spec shown: the old model's maps and Grad-CAM go.
            self.features.show_message("The spec changed: Build model (Ctrl+B) to see this network's feature maps.")
            self.features.show_branches("", [])
            self.run.preview.set_cam(None)

    def _on_model(self, loaded) -> None:
        if loaded is None:
            self.predictor, self.built = None, None
            return
        if loaded.model is self._own_model:
            return
        if not same_structure(loaded.spec, self.document.spec):
            # A run trained small (x0.25, 96 px) classifies now: graph, Inspector and status bar show that network.
            self.document.apply(f"Use the trained network ({loaded.source})", lambda _s: loaded.spec)
        # Someone else (training) installed a model: it is used as it is (the Predictor runs a copy).
        built = loaded
        self.built, self._own_model = built, loaded.model
        self._fallback = None
        self.weights_choice, self._weights_label = weights_choice().random(), loaded.source
        self.run.device_bar.set_weights_label(loaded.source)  # e.g. "trained: last.safetensors"
        self.run.device_bar.begin("preparing the new model for inference…")
        worker = Worker(lambda: (built, engine_infer().Predictor(built), weights_of(built, loaded.source)))
        # A few frames later: the model arrives as its run ends, while the window draws that end, and copying
        # it (Python, on the engine thread) would hold the interpreter the drawing needs.
        self._start_build(worker, frames=INSTALL_AFTER_FRAMES)

    # ---- images ----------------------------------------------------------------------------
    def hover(self, paths: list) -> None:
        """Image files or folders are being dragged over the window: decode (and classify) them before they drop."""
        if self.predictor is None or not paths or paths == self._prefetching and self.busy("prefetch"):
            return
        self.end_hover()
        p, self._prefetching, ahead = self.predictor, paths, self.answer_ahead
        job = Worker(lambda should_stop: p.prefetch(paths, cancel=should_stop, classify=ahead))
        self._prefetch = self._start("prefetch", job, None, lambda _m: None)

    def set_answer_ahead(self, on: bool) -> None:
        """Model → Classify while dragging: whether a hovering drag's files are classified before the drop."""
        self.answer_ahead = bool(on)
        set_value("run/answerAhead", self.answer_ahead)

    def end_hover(self) -> None:
        """The drag left or dropped: stop working ahead (what is decoded or classified stays ready)."""
        if self._prefetch is not None:
            self._prefetch.cancel()
            self._prefetch, self._prefetching = None, []

    def add_sources_next_frame(self, items: list) -> None:
        """``add_sources`` a frame from now (the window first switches to Classify, a frame of its own); busy()
        says so meanwhile."""
        self._jobs["pending"] = self._jobs.get("pending", 0) + 1

        def go() -> None:
            self._jobs["pending"] -= 1
            self.add_sources(items)
        next_frame(self, go)

    def add_sources(self, items: list) -> None:
        """Classify dropped/opened/pasted images (paths, folders, or (name, image) pairs)."""
        items = list(items)
        if not items:
            return
        self.end_hover()
        if self.predictor is None or self.busy("classify"):
            self._waiting += items
            if self.predictor is None:
                self.run.drop_zone.settle()  # a build comes first: no answer soon
                if not self.busy("build"):
                    self.build()
            return
        self.sources += items
        self._show_next = True
        p, gen = self.predictor, self._generation
        worker = Worker(lambda: p.classify(engine_infer().expand_sources(items), batch_size=4, keep_inputs=True))
        self._start("classify", worker, self._on_classified, None,
                    lambda r: self._on_result(r) if gen == self._generation else None)

    def _on_result(self, result: infer.ImageResult) -> None:
        """One image classified. The first of a new drop gets its top-k painted before anything else is
        touched (thumbnail, preview, feature maps), so that the answer is on screen as early as it can be."""
        if not result.ok:
            self.errors.append(result.error)
            self.run.show_errors(self.errors)
            self._say(result.error, error=True)
            return
        first = self._show_next or self.run.strip.currentRow() < 0
        if first:
            self._show_next = False
            if not self.results:
                self.firstAnswer.emit()
            self._answered = result
            shown = self.run.predictions
            if shown.visibleRegion().isEmpty():
                scroll_into_view(shown)  # the Run panel may be scrolled in a short dock
            shown.show_top(result.name, result.top, now=True)  # painted before this returns
            self.answerShown.emit(result)
        self.results.append(result)
        self.run.strip.add_image(result.name, result.thumbnail, str(result.source) if isinstance(result.source, str)
                                 else result.name)
        if first:
            self.run.strip.setCurrentRow(len(self.results) - 1)
            self.run.predictions.describe()
            # All of it, not just some rows, once the layout has settled (the dock may just have been raised).
            QTimer.singleShot(0, lambda: scroll_into_view(self.run.predictions) if isValid(self.run) else None)
            self.run.drop_zone.settle()
        self.resultAdded.emit(result)

    def _on_classified(self, _out) -> None:
        self.run.drop_zone.settle()  # also when nothing was classified (bad files only)
        if self._waiting:
            items, self._waiting = self._waiting, []
            self.add_sources(items)

    def add_qimage(self, image: QImage) -> None:
        """Classify an image that came as pixels (dragged from another app or pasted)."""
        if image.isNull():
            self._say("the dropped image is empty", error=True)
            return
        self.add_sources([(f"pasted image {len(self.sources) + 1}", qimage_to_pil(image))])

    def paste(self) -> None:
        """Paste from the clipboard: an image, or copied image files."""
        mime = QApplication.clipboard().mimeData()
        if local_paths(mime):
            self.add_sources(local_paths(mime))
        elif mime.hasImage():
            self.add_qimage(QImage(mime.imageData()))
        else:
            self._say("nothing to paste: the clipboard holds no image or image file", error=True)

    def open_images(self) -> None:
        """Ask for image files and classify them."""
        self.add_sources(ask_images(self.run))

    def show_result(self, row: int) -> None:
        """Show result ``row`` of the strip: its model input, top-k and feature maps."""
        if not 0 <= row < len(self.results) or self.predictor is None:
            return
        r = self.results[row]
        if r is not self._answered:  # a new drop's answer is shown already
            self._answered = r
            self.run.predictions.show_top(r.name, r.top)
        self.run.preview.set_image(r.preview)  # made on the engine lane: no torch on the GUI thread
        self.run.preview.set_cam(None)
        # Feature maps after the answer is painted: their job would compete with the paint for the cores.
        self._features_due = True
        QTimer.singleShot(0, self._due_features)

    def _due_features(self) -> None:
        if self._features_due and isValid(self.run):
            self._features_due = False
            self.refresh_features()

    def current(self) -> infer.ImageResult | None:
        """The image shown now."""
        row = self.run.strip.currentRow()
        return self.results[row] if 0 <= row < len(self.results) else None

    # ---- feature maps / Grad-CAM -------------------------------------------------------------
    def refresh_features(self) -> None:
        """Recompute the feature maps (and Grad-CAM when on) for the current image and selection."""
        r = self.current()
        if self.predictor is None or r is None:
            self.features.show_message("Build a model and drop an image to see its feature maps.")
            return
        if not same_structure(self.predictor.spec, self.document.spec):  # the model built is not the one shown
            self.features.show_message("The spec changed: Build model (Ctrl+B) to see this network's feature maps.")
            return
        if self.busy("features"):
            self._feature_again = True
            return
        p = self.predictor
        t = engine_jobs().node_target(p.spec, self.document.selection)
        cam = t.cam_module if self.run.gradcam_toggle.isChecked() else None
        worker = Worker(engine_jobs().inspect_node, p, r.input, t.module, t.branches, cam)
        self._start("features", worker, lambda view: self._show_view(view, t) if p is self.predictor
                    else self._feature_done(), self._on_feature_failed)

    def _feature_done(self) -> None:
        if self._feature_again:
            self._feature_again = False
            self.refresh_features()

    def _on_feature_failed(self, message: str) -> None:
        self.features.show_message(message)
        self._say(message, error=True)
        self._feature_done()

    def _show_view(self, view: jobs.NodeView, t: jobs.NodeTarget) -> None:
        if view.maps is not None:
            self.features.show_maps(t.title, view.maps)
        else:
            self.features.show_message(view.note or t.title)
        self.features.show_branches(t.label if view.branches else "", view.branches)
        self.run.preview.set_cam(view.cam)
        self.run.cam_label.setText(f"top class, at {t.cam_label}" if view.cam is not None else "")
        self.featuresShown.emit(view)
        self._feature_done()
