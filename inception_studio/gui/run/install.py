"""Puts the Run and Feature-maps panels in the Classify workspace: ``install(window)`` registers both
panels, provides the controller as feature ``"inference"``, connects the window's image drops (a drop
of images opens Classify), and adds File → Export ONNX… and the Model menu.
"""
from __future__ import annotations

from PySide6.QtGui import QKeySequence

from .controller import InferenceController
from .feature_maps import FeatureMapPanel
from .predictions import RunPanel


def install(window) -> InferenceController:
    """Add the Run and Feature-maps panels, image drops and the Model menu to ``window``.

    Installing twice returns the controller installed first.
    """
    ctrl = window.panels.feature("inference")
    if ctrl is not None:
        return ctrl
    run_panel, feature_panel = RunPanel(), FeatureMapPanel()
    ctrl = InferenceController(window.document, run_panel, feature_panel, window)
    window.panels.provide("inference", ctrl)
    window.panels.add("run", run_panel, "Run", "classify", scroll=True)
    window.panels.add("featureMaps", feature_panel, "Feature maps", "classify")

    def to_classify(_paths=None) -> None:  # the user's action picks the workspace: images -> Classify
        window.workspaces.switch("classify")

    def dropped(paths: list) -> None:
        if window.workspaces.current == "classify":
            ctrl.add_sources(paths)
            return
        to_classify()  # a layout and a paint of the whole window: the images go in a frame later
        ctrl.add_sources_next_frame(paths)

    ctrl.firstAnswer.connect(to_classify)
    window.imagesDropped.connect(dropped)
    window.imagesHovered.connect(ctrl.hover)
    window.hoverEnded.connect(ctrl.end_hover)
    add_menus(window, ctrl)
    return ctrl


def add_menus(window, ctrl: InferenceController) -> None:
    """File → Export ONNX… (before Quit) and the Model menu, wired to ``ctrl``."""
    add = window.action_registry.add
    add("exportOnnxAction", "Export ONNX…", ctrl.export_onnx_dialog, menu="file", before="quitAction",
        tip="Export the model to ONNX and check it against onnxruntime")
    add("buildModelAction", "Build model", lambda: ctrl.build(), shortcut="Ctrl+B", menu="model",
        tip="Build the spec as a torch model on the chosen device")
    add("loadCheckpointAction", "Load checkpoint…", ctrl.load_checkpoint_dialog, menu="model")
    add("loadPretrainedAction", "Load pretrained…", ctrl.load_pretrained_dialog, menu="model",
        tip="ImageNet weights, downloaded or from a local file")
    add("randomWeightsAction", "Use random weights", ctrl.use_random, menu="model")
    window.action_registry.separator("model")
    add("openImagesAction", "Open images…", lambda: (window.workspaces.switch("classify"), ctrl.open_images()),
        shortcut="Ctrl+Shift+O", menu="model", tip="Classify image files")
    add("answerAheadAction", "Classify while dragging", ctrl.set_answer_ahead, menu="model", checkable=True,
        checked=ctrl.answer_ahead,
        tip="Run the model on dragged image files before they are dropped, so a drop is answered at once")
    # Ctrl+V: text fields keep it for themselves (their ShortcutOverride wins).
    add("pasteImageAction", "Classify pasted image", ctrl.paste, shortcut=QKeySequence.StandardKey.Paste,
        menu="model")
