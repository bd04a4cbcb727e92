"""The window's panel registry: every dock panel is added here under a key and a workspace, and
features (the inference controller, the training panel...) are provided here under a name.

Nothing is patched onto the window: other code asks ``window.panels.widget("inspector")``,
``window.panels.dock("run")`` or ``window.panels.feature("inference")``. Where a panel goes in its
workspace is the workspace manager's business (gui/shared/workspaces.py), told by ``panelAdded``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

WORKSPACE_KEYS = ("explore", "classify", "train")


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area, so a dock holding it can be made small."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


@dataclass(frozen=True)
class Panel:
    """A registered panel: its key, title, workspace, the panel widget and the dock holding it."""

    key: str
    title: str
    workspace: str
    widget: QWidget
    dock: QDockWidget


class PanelRegistry(QObject):
    """Panels by key (each in one workspace) and feature objects by name, for one main window."""

    panelAdded = Signal(str)  # key

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self._window = window
        self._panels: dict[str, Panel] = {}
        self._features: dict[str, object] = {}

    def add(self, key: str, widget: QWidget, title: str, workspace: str, *, scroll: bool = False,
            object_name: str = "") -> QDockWidget:
        """Add ``widget`` as a dock panel of ``workspace`` (objectName ``<key>Dock``); returns its dock.

        ``scroll=True`` puts a tall panel in a scroll area so it doesn't force its column's height.
        A key is added once; adding it again raises ValueError.
        """
        if key in self._panels:
            raise ValueError(f"panel {key!r} is registered already")
        if workspace not in WORKSPACE_KEYS:
            raise ValueError(f"unknown workspace {workspace!r} (one of {', '.join(WORKSPACE_KEYS)})")
        dock = QDockWidget(title, self._window)
        dock.setObjectName(object_name or f"{key}Dock")
        # Workspaces decide what is shown: a panel can be moved, tabbed or floated, never closed and lost.
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setWidget(scrolled(widget) if scroll else widget)
        dock.hide()
        self._window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        self._panels[key] = Panel(key, title, workspace, widget, dock)
        self.panelAdded.emit(key)
        return dock

    def get(self, key: str) -> Panel | None:
        """The registered panel ``key`` (None when not added, e.g. before torch has loaded)."""
        return self._panels.get(key)

    def widget(self, key: str) -> QWidget | None:
        """The panel widget registered as ``key`` (not its scroll area or dock)."""
        p = self._panels.get(key)
        return p.widget if p else None

    def dock(self, key: str) -> QDockWidget | None:
        """The dock holding panel ``key``."""
        p = self._panels.get(key)
        return p.dock if p else None

    def in_workspace(self, workspace: str) -> list[Panel]:
        """The panels of ``workspace``, in the order they were added."""
        return [p for p in self._panels.values() if p.workspace == workspace]

    def __contains__(self, key: object) -> bool:
        return key in self._panels

    def __iter__(self) -> Iterator[Panel]:
        return iter(list(self._panels.values()))

    def provide(self, name: str, obj: object) -> None:
        """Make a feature object (e.g. the inference controller) findable as ``name``."""
        self._features[name] = obj

    def feature(self, name: str):
        """The feature object provided as ``name``, or None."""
        return self._features.get(name)
