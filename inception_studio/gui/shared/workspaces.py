"""The three workspaces (Explore, Classify, Train): which panels each shows, its designed layout, and
the one place where dock layouts are saved and restored.

Each workspace's layout is remembered on its own (settings ``workspace/<key>/state``, Qt's saveState
bytes, only ever read back by ``restoreState``) and the current workspace under ``workspace/current``.
A saved layout that leaves one of its workspace's panels hidden (an older version, a panel added since)
is not used: the designed layout is, so no panel can be lost across restarts. Reset forgets the saved
layout of the current workspace and applies the designed one.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QWidget

from . import settings as st
from .registry import WORKSPACE_KEYS, PanelRegistry

STATE_VERSION = 3  # bump when the designed layouts change so that old saved layouts are dropped
L, R, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
           Qt.DockWidgetArea.BottomDockWidgetArea)


@dataclass(frozen=True)
class Column:
    """One dock area of a designed layout: groups of tabbed panels split along the area, with their
    relative sizes, and the area's extent (width for left/right, height for bottom) as a fraction of
    the window's."""

    area: Qt.DockWidgetArea
    groups: tuple[tuple[str, ...], ...]
    sizes: tuple[int, ...]
    extent: float


@dataclass(frozen=True)
class Workspace:
    """A workspace: key, title, shortcut, whether the graph is shown, and its designed layout.
    Panels of the workspace that the design doesn't name are tabbed with the panel ``extra``."""

    key: str
    title: str
    shortcut: str
    tip: str
    graph: bool
    columns: tuple[Column, ...]
    extra: str


WORKSPACES: dict[str, Workspace] = {w.key: w for w in (
    Workspace("explore", "Explore", "Ctrl+1", "Browse and edit the architecture: graph, editor, inspector, "
              "statistics, block table, compare", True,
              (Column(L, (("variants",), ("history",)), (68, 32), 0.20),
               Column(R, (("editor",), ("inspector", "stats")), (56, 44), 0.30),
               Column(B, (("table", "compare"),), (1,), 0.28)), "inspector"),
    Workspace("classify", "Classify", "Ctrl+2", "Run the model on images: top-5, feature maps, per-branch "
              "view, Grad-CAM", True,
              (Column(L, (("run",),), (1,), 0.33),
               Column(R, (("featureMaps",),), (1,), 0.36)), "featureMaps"),
    Workspace("train", "Train", "Ctrl+3", "Train on a folder of images: data, recipe, live plots, feature "
              "maps, confusion matrix", False,
              (Column(L, (("training",),), (1,), 0.36),
               Column(R, (("trainingMonitor",),), (1,), 0.64)), "trainingMonitor"),
)}
assert tuple(WORKSPACES) == WORKSPACE_KEYS


def _state_key(workspace: str) -> str:
    return f"workspace/{workspace}/state"


COVER_NAME = "workspaceCover"


def _cover(panel: QWidget) -> QWidget:
    """The plain patch of window colour that hides ``panel``'s contents until its turn to be painted (made
    once, as a child of the panel on top of its own children, and larger than any panel: Qt clips it to the
    panel, so it needs no resizing). Qt does not paint what an opaque sibling on top covers."""
    cover = panel.findChild(QWidget, COVER_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    if cover is None:
        cover = QWidget(panel)
        cover.setObjectName(COVER_NAME)
        cover.setAutoFillBackground(True)
        cover.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        cover.setGeometry(QRect(0, 0, 1 << 15, 1 << 15))
        cover.hide()
    return cover


class WorkspaceManager(QObject):
    """Switches the window between workspaces, lays panels out and remembers each workspace's layout."""

    switched = Signal(str)  # the new workspace's key

    def __init__(self, window: QMainWindow, panels: PanelRegistry):
        super().__init__(window)
        self._window, self._panels = window, panels
        saved = str(st.value("workspace/current", "explore"))
        self._current = saved if saved in WORKSPACES else "explore"
        self._shown = False  # dock sizes only take once the window has its real size
        self._covered: list[QWidget] = []  # covers still over the panels of the last switch, next to go first
        self._uncoverer = QTimer(self, singleShot=True, interval=0)  # a timer: fires after those due before
        self._uncoverer.timeout.connect(self._uncover_next)
        window.setCorner(Qt.Corner.BottomLeftCorner, L)
        window.setCorner(Qt.Corner.BottomRightCorner, R)
        panels.panelAdded.connect(self._on_added)

    @property
    def current(self) -> str:
        """The key of the workspace shown."""
        return self._current

    def start(self) -> None:
        """Show the current workspace (its saved layout, else the designed one): call once the window is shown."""
        self._shown = True
        self._show(self._current)

    def switch(self, key: str) -> None:
        """Show workspace ``key`` ("explore", "classify", "train"), saving the layout of the one it leaves."""
        if key not in WORKSPACES:
            raise KeyError(f"unknown workspace {key!r}")
        if key == self._current:
            return
        if self._shown:
            self.save()
        self._current = key
        st.set_value("workspace/current", key)
        if self._shown:
            self._show(key)
            self._paint_in_turns(key)
        self.switched.emit(key)

    def reset(self) -> None:
        """Forget the current workspace's saved layout and apply its designed one."""
        s = st.settings()
        s.remove(_state_key(self._current))
        s.sync()
        self.apply_designed(self._current)

    def save(self) -> None:
        """Remember the current workspace's layout (not a stand-in while its panels are still loading)."""
        if self._shown and not self.missing(self._current):
            st.set_value(_state_key(self._current), self._window.saveState(STATE_VERSION))

    def saved_state(self, key: str) -> QByteArray | None:
        """The saved layout of workspace ``key`` (None when there is none)."""
        state = st.value(_state_key(key))
        return state if isinstance(state, QByteArray) and not state.isEmpty() else None

    def reveal(self, key: str) -> None:
        """Switch to the workspace of panel ``key`` and bring that panel to the front."""
        panel = self._panels.get(key)
        if panel is None:
            return
        self.switch(panel.workspace)
        panel.dock.show()
        panel.dock.raise_()

    # ---- layout ----------------------------------------------------------------------------
    def _show(self, key: str) -> None:
        # Nothing is painted while this runs (paints wait for the event loop), so the window's updates are
        # left on: turning them off and on again made Qt repaint the whole window (menu, tool and status bars
        # too) and walk every widget twice; a switch took ~7 ms more of the GUI thread (measured).
        ws = self._window
        # The docks it leaves are hidden first: the saved layout then only records their new sizes (sent when
        # they are shown again) instead of laying their contents out for nothing, twice per switch.
        self._hide_others(key)
        central = ws.centralWidget()  # first: the docks are sized around it
        if central is not None:
            central.setVisible(WORKSPACES[key].graph)
        state = self.saved_state(key)
        if self.missing(key):  # its panels still loading (torch): a stand-in layout, the real one when all came
            self.apply_designed(key)
        elif state is None or not ws.restoreState(state, STATE_VERSION):
            self.apply_designed(key)
        else:
            for p in self._panels.in_workspace(key):
                if p.dock.isHidden():  # not in the saved layout (added since): where the design puts it
                    self._place(key, p.key)
        self._hide_others(key)

    def _paint_in_turns(self, key: str) -> None:
        """Let the panels of the workspace just shown be painted one per paint pass.

        The first paint of a whole workspace (~80 widgets, much of it text shaping) took 13-25 ms of the GUI
        thread on top of the switch's own layout work, so one event-loop turn held the loop 25-40 ms (issue
        16's limit is 33). Each panel is now covered by a plain patch until the paint pass before has been
        made: the switch's own pass paints the layout, the graph and the covers, and each pass after it one
        more panel, with the event loop free in between. For a frame or two the user sees the panels'
        frames and titles, then their contents (never stale pixels: a panel whose updates were switched off
        instead showed the old workspace's pixels)."""
        for cover in self._covered:  # left from a switch the user made before they were all gone
            cover.hide()
        self._covered = [_cover(p.dock.widget()) for p in self._panels.in_workspace(key)
                         if p.dock.isVisible() and p.dock.widget() is not None]
        for cover in self._covered:
            cover.show()
            cover.raise_()
        if self._covered:
            self._window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if obj is self._window and event.type() == QEvent.Type.UpdateRequest and not self._uncoverer.isActive():
            self._uncoverer.start()  # once per pass, after it (and after the timers that fell due meanwhile)
        return False

    def _uncover_next(self) -> None:
        while self._covered:  # one panel on screen per pass; the ones behind another's tab cost nothing
            cover = self._covered.pop(0)
            on_screen = not cover.visibleRegion().isEmpty()
            cover.hide()
            if on_screen:
                break
        if not self._covered:
            self._window.removeEventFilter(self)

    def missing(self, key: str) -> list[str]:
        """The panels workspace ``key``'s design names that are not registered yet."""
        return [k for c in WORKSPACES[key].columns for g in c.groups for k in g if k not in self._panels]

    def _place(self, key: str, panel: str) -> None:
        """Put one panel where workspace ``key``'s design has it, leaving the others where they are."""
        ws, win = WORKSPACES[key], self._window
        dock = self._panels.dock(panel)
        named = {k for c in ws.columns for g in c.groups for k in g}
        for col in ws.columns:
            for group in col.groups:
                if panel in group or (panel not in named and ws.extra in group):
                    beside = [self._panels.dock(k) for k in group if k != panel and k in self._panels]
                    beside = [d for d in beside if not d.isHidden() and not d.isFloating()]
                    dock.setFloating(False)
                    if beside:
                        win.tabifyDockWidget(beside[0], dock)
                    else:
                        win.addDockWidget(col.area, dock)
                    dock.show()
                    return

    def _hide_others(self, key: str) -> None:
        for p in self._panels:
            if p.workspace != key:
                p.dock.hide()

    def apply_designed(self, key: str) -> None:
        """Lay workspace ``key``'s panels out as designed (sizes relative to the window's)."""
        win, ws = self._window, WORKSPACES[key]
        self._hide_others(key)
        mine = {p.key: p.dock for p in self._panels.in_workspace(key)}
        named = {k for c in ws.columns for g in c.groups for k in g}
        placed: list[tuple[Column, list[list]]] = []
        for col in ws.columns:
            groups = []
            for group in col.groups:
                docks = [mine[k] for k in group if k in mine]
                if ws.extra in group:
                    docks += [d for k, d in mine.items() if k not in named]
                if docks:
                    groups.append(docks)
            placed.append((col, groups))
            prev = None
            for docks in groups:
                for i, dock in enumerate(docks):
                    dock.setFloating(False)
                    if prev is None:
                        win.addDockWidget(col.area, dock)
                    elif i == 0:
                        orient = Qt.Orientation.Horizontal if col.area == B else Qt.Orientation.Vertical
                        win.splitDockWidget(prev, dock, orient)
                    else:
                        win.tabifyDockWidget(docks[0], dock)
                    dock.show()
                    prev = docks[0] if i else dock
                docks[0].raise_()
        self._size(placed)

    def _size(self, placed) -> None:
        win = self._window
        for col, groups in placed:
            if not groups:
                continue
            across = Qt.Orientation.Vertical if col.area == B else Qt.Orientation.Horizontal
            extent = win.height() if col.area == B else win.width()
            win.resizeDocks([groups[0][0]], [int(extent * col.extent)], across)
            if len(groups) > 1:
                along = Qt.Orientation.Horizontal if col.area == B else Qt.Orientation.Vertical
                total = win.width() if col.area == B else win.height()
                sizes = [int(total * s / sum(col.sizes[:len(groups)])) for s in col.sizes[:len(groups)]]
                win.resizeDocks([g[0] for g in groups], sizes, along)

    def _on_added(self, key: str) -> None:
        panel = self._panels.get(key)
        if panel.workspace != self._current or not self._shown:
            panel.dock.hide()
            return
        self._show(self._current)  # the saved layout has it (it was saved with it), else the designed one
