"""The Train workspace's panels: ``install(window)`` registers the Train panel (TrainingPanel: data,
model sizing, recipe, run controls) and the Training Monitor (live plots, feature maps, confusion
matrix), provides the panel as feature ``"training"``, adds the images/s and ETA label in the status
bar and the Train menu.
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from ..shared.frames import next_frame
from .panel import FEATURE_EVERY, TrainingPanel
from .plots import TrainingMonitor

__all__ = ["install", "TrainingPanel", "TrainingMonitor", "FEATURE_EVERY"]


def install(window) -> TrainingPanel:
    """Add the Train and Training Monitor panels and the Train menu to ``window`` (once; again returns the same panel)."""
    existing = window.panels.feature("training")
    if existing is not None:
        return existing
    monitor = TrainingMonitor()
    panel = TrainingPanel(window.document, monitor, dialogs=window.dialogs)
    window.panels.provide("training", panel)
    window.panels.add("training", panel, "Train", "train", scroll=True)
    window.panels.add("trainingMonitor", monitor, "Training Monitor", "train")
    status = QLabel("", objectName="trainingStatusBar")
    window.statusBar().addPermanentWidget(status)
    status.hide()

    def show_status(text: str) -> None:
        if panel.running() and text.startswith("training:"):
            status.setText(text.removeprefix("training: "))
            status.show()
        else:
            window.statusBar().showMessage(text, 10000)

    panel.statusText.connect(show_status)
    panel.runFinished.connect(lambda _d: status.hide())
    show_train = lambda *_a: window.workspaces.switch("train")  # noqa: E731
    # A run started from another workspace: the switch (a layout and a paint of the whole window) comes a frame
    # after the start's own work, so that neither waits for the other.
    panel.runStarted.connect(lambda: next_frame(window, show_train))
    # data the user chose opens Train; the last session's, read back at start-up, leaves the workspace they had
    panel.data_view.dataChanged.connect(lambda _d: None if panel.data_view.from_memory else show_train())
    add = window.action_registry.add
    add("startTrainingAction", "&Start Training", lambda: panel.start() or show_train(), shortcut="Ctrl+Shift+T",
        menu="train")
    add("pauseTrainingAction", "&Pause / Resume", lambda: panel.pause_button.toggle() if panel.running() else None,
        menu="train")
    add("stopTrainingAction", "S&top", panel.stop, menu="train")
    add("resumeTrainingAction", "&Resume from Checkpoint…", panel._ask_resume, menu="train")
    window.action_registry.separator("train")
    add("demoDataAction", "Use &Demo Data", lambda: (show_train(), panel.data_view.load("demo")), menu="train")
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)  # never leave a training thread running at exit
    return panel
