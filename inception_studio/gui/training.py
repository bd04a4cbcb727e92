"""The Train panels in the main window: ``install(window)`` adds the Train dock (TrainingPanel: data,
model sizing, recipe, run controls), the Training Monitor dock (live plots, feature maps, confusion
matrix), the images/s and ETA label in the status bar, and a Train menu.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel

from .settings import value
from .training_panel import FEATURE_EVERY, TrainingPanel
from .training_plots import TrainingMonitor

__all__ = ["install", "TrainingPanel", "TrainingMonitor", "FEATURE_EVERY"]


def install(window) -> TrainingPanel:
    """Add the Train and Training Monitor docks and a Train menu to ``window`` (once; again returns the same panel)."""
    if getattr(window, "training", None) is not None:
        return window.training
    monitor = TrainingMonitor()
    panel = TrainingPanel(window.document, monitor, dialogs=getattr(window, "dialogs", True))
    panel_dock = window.add_panel(panel, "Train", "trainingDock", Qt.DockWidgetArea.RightDockWidgetArea, scroll=True)
    monitor_dock = window.add_panel(monitor, "Training Monitor", "trainingMonitorDock",
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
    # First start: Train beside the block editor, the monitor beside the block table (wide, for the
    # plots); a layout the user saved wins.
    saved = value("window/state")
    saved = bytes(saved.data()) if hasattr(saved, "data") else b""
    for dock, beside in ((panel_dock, "inspector_dock"), (monitor_dock, "table_dock")):
        if dock.objectName().encode("utf-16-be") not in saved and getattr(window, beside, None) is not None:
            window.tabifyDockWidget(getattr(window, beside), dock)
    for dock in ("inspector_dock", "table_dock"):
        if getattr(window, dock, None) is not None:
            getattr(window, dock).raise_()  # the app opens on its own panels; Train is one tab away
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
    panel.runStarted.connect(lambda: (monitor_dock.show(), monitor_dock.raise_()))
    panel.data_view.dataChanged.connect(lambda _d: (panel_dock.show(), panel_dock.raise_()))
    menu = window.menu_named("Train")
    menu.setObjectName("trainMenu")

    def act(text: str, slot, shortcut: str = "", name: str = "") -> QAction:
        a = menu.addAction(text)
        a.triggered.connect(slot)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.setObjectName(name)
        return a

    act("&Start Training", lambda: (panel_dock.show(), panel.start()), "Ctrl+Shift+T", "startTrainingAction")
    act("&Pause / Resume", lambda: panel.pause_button.toggle() if panel.running() else None, "", "pauseTrainingAction")
    act("S&top", panel.stop, "", "stopTrainingAction")
    act("&Resume from Checkpoint…", panel._ask_resume, "", "resumeTrainingAction")
    menu.addSeparator()
    act("Use &Demo Data", lambda: (panel_dock.show(), panel.data_view.load("demo")), "", "demoDataAction")
    act("Show Training &Panels", lambda: (panel_dock.show(), monitor_dock.show(), panel_dock.raise_(),
                                          monitor_dock.raise_()), "", "showTrainingAction")
    window.training = panel
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)  # never leave a training thread running at exit
    return panel
