"""Engine jobs the GUI runs in a child process (``engine.remote``), where they cannot hold the GUI's
interpreter: exporting ONNX. Weights come in by file (``training.remote.save_weights``). No Qt."""
from __future__ import annotations

from .export import ExportReport


def export_file(spec, path: str, weights: str | None = None) -> ExportReport:
    """Build ``spec`` (with the weights in the file ``weights``, deleted after, else random ones) and export
    it to ONNX at ``path``, checked against onnxruntime."""
    from ..core.build import build_model
    from .export import export_onnx
    from .training.remote import read_weights

    model = build_model(spec)
    if weights:
        model.load_state_dict(read_weights(weights, remove=True))
    return export_onnx(model.float().eval(), spec, path)
