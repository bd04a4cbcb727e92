"""The Model and File menu's model files for the Run panel's controller: load a checkpoint or pretrained
weights, go back to random ones, export ONNX. A mixin of InferenceController (controller.py), which owns
the state these change (the weights choice, the built model) and the engine lane they run on."""
from __future__ import annotations

from pathlib import Path

from ...core.identity import base_preset, same_structure
from ...core.names import safe_filename
from .device_bar import ask_checkpoint, ask_onnx_path, ask_pretrained, show_report
from .engine_access import resolve_weights, weights_choice
from ..shared.workers import Worker


class ModelFilesMixin:
    """Weights in (checkpoint, pretrained, random) and ONNX out, for InferenceController."""

    # ---- weights (Model menu) ----------------------------------------------------------------
    def load_checkpoint(self, path: str) -> None:
        """Use a checkpoint: its spec becomes the document's (undoable) and its weights are built on the device."""
        worker = Worker(resolve_weights, weights_choice().checkpoint(path))
        self.run.device_bar.begin(f"reading {Path(path).name}…")

        def loaded(weights) -> None:
            if weights.spec is not None and not same_structure(weights.spec, self.document.spec):
                self.document.apply(f"Load checkpoint {Path(path).name}", lambda _s: weights.spec)
            choice = weights_choice().checkpoint(path)
            self.weights_choice, self._weights, self._weights_label, self._fallback = choice, weights, choice.label, None
            self.build()
        self._start("build", worker, loaded, self._on_build_failed)

    def load_checkpoint_dialog(self) -> None:
        """Model → Load checkpoint…"""
        if path := ask_checkpoint(self.run):
            self.load_checkpoint(path)

    def load_pretrained_dialog(self) -> None:
        """Model → Load pretrained…"""
        from ...core.sources import pretrained_sources
        spec = self.document.spec
        if choice := ask_pretrained(self.run, (pretrained_sources(base_preset(spec) or spec) or [""])[0]):
            self.load_pretrained(*choice)

    def load_pretrained(self, source: str, path: str = "") -> None:
        """Pretrained ImageNet weights (downloaded, or from a local file), carried over to the current spec;
        if they cannot be had, the model keeps the weights it had and the panel says so."""
        self.build(weights_choice().pretrained(source, path or None))

    def use_random(self) -> None:
        """Forget loaded weights: the next build starts from random initialisation."""
        self.weights_choice, self._weights, self._fallback = weights_choice().random(), None, None
        self._weights_label = self.weights_choice.label
        self.run.device_bar.set_weights_label(self._weights_label)

    # ---- ONNX export -----------------------------------------------------------------------
    def export_onnx_dialog(self) -> None:
        """File → Export ONNX…: ask for a path, then export."""
        if path := ask_onnx_path(self.run, f"{safe_filename(self.document.spec.name)}.onnx"):
            self.export_onnx(path)

    def export_onnx(self, path: str) -> None:
        """Export the built model (or a random-init build of the spec) and report onnxruntime parity.

        In a child process (the weights go by a file, written on the engine lane): the exporter holds the
        interpreter for seconds at a time, which would freeze the window."""
        from ..shared.process_worker import ProcessWorker
        loaded = self.document.model
        spec = loaded.spec if loaded is not None else self.document.spec
        model = loaded.model if loaded is not None else None

        def weights() -> dict:
            from ...engine.training.remote import save_weights
            return {"weights": save_weights(model)}
        # A process of its own: the warm one is the next training run's (taken here, a Train right after the
        # export started cold, seconds late and sharing its cores with the torch import).
        job = ProcessWorker("inception_studio.engine.jobs_remote:export_file", spec, str(path), what="export",
                            prepare=weights if model is not None else None, standby=False)
        self.run.device_bar.begin(f"exporting {Path(path).name}…")
        self._start("build", job, self._on_exported, self._on_build_failed)

    def _on_exported(self, report) -> None:
        self.last_export = report
        text = report.summary()
        self.run.device_bar.done(text)
        self._say(text)
        self.exportFinished.emit(report)
        if self.window is not None:
            show_report(self.window, "ONNX export", text)
