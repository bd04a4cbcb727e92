"""The window's actions and menus, made one way: :class:`ActionRegistry` creates every action under a
key (its objectName), with its shortcut shown in the tooltip, and puts it in a menu found by key, never
by its visible text. ``build_window_actions`` adds the main window's own actions, menus and toolbar.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QIcon,
    QKeySequence,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle

from . import settings as st

# Menu keys in menu-bar order, with their titles.
MENUS = (("file", "&File"), ("edit", "&Edit"), ("view", "&View"), ("model", "&Model"), ("train", "&Train"),
         ("tools", "&Tools"), ("help", "&Help"))


def text_icon(text: str, color: QColor | None = None) -> QIcon:
    """A small icon drawn from a glyph (no image files to ship)."""
    pm = QPixmap(64, 64)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    f = QFont()
    f.setPixelSize(40)
    f.setBold(True)
    p.setFont(f)
    p.setPen(color or QColor(70, 110, 170))
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return QIcon(pm)


def _sequences(shortcut) -> list[QKeySequence]:
    if shortcut is None or shortcut == "":
        return []
    items = shortcut if isinstance(shortcut, list | tuple) else [shortcut]
    out: list[QKeySequence] = []
    for k in items:  # a standard key may have no binding on some platforms: drop empties and repeats
        seq = k if isinstance(k, QKeySequence) else QKeySequence(k)
        if not seq.isEmpty() and seq not in out:
            out.append(seq)
    return out


class ActionRegistry(QObject):
    """Every action of one main window by key, and its menus by key (created in menu-bar order)."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self._window = window
        self._actions: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}

    def add(self, key: str, text: str, slot=None, *, shortcut=None, tip: str = "", icon: QIcon | None = None,
            menu: str = "", before: str = "", checkable: bool = False, checked: bool = False,
            action: QAction | None = None) -> QAction:
        """Create action ``key`` (or adopt ``action``), window-wide shortcut(s), tooltip with the keys; append it
        to menu ``menu`` (before action ``before`` when given). A key is added once."""
        if key in self._actions:
            raise ValueError(f"action {key!r} exists already")
        a = action or QAction(text, self._window)
        a.setObjectName(key)
        if shortcut is not None:
            a.setShortcuts(_sequences(shortcut))
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
        plain = text.replace("&", "").rstrip("…")
        a.setToolTip((tip or plain) + (f" ({keys})" if keys else ""))
        a.setStatusTip(tip or plain)
        if icon is not None:
            a.setIcon(icon)
        if checkable:
            a.setCheckable(True)
            a.setChecked(checked)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        self._window.addAction(a)  # shortcuts work with the menu bar hidden too
        self._actions[key] = a
        if menu:
            m = self.menu(menu)
            anchor = self._actions.get(before)
            m.insertAction(anchor, a) if anchor is not None and anchor in m.actions() else m.addAction(a)
        return a

    def __getitem__(self, key: str) -> QAction:
        return self._actions[key]

    def get(self, key: str) -> QAction | None:
        """Action ``key``, or None."""
        return self._actions.get(key)

    def all(self) -> dict[str, QAction]:
        """Every registered action by key."""
        return dict(self._actions)

    def menu(self, key: str) -> QMenu:
        """The menu-bar menu ``key`` ("file", "model", "train"...), created in its place when missing."""
        if key in self._menus:
            return self._menus[key]
        order = [k for k, _ in MENUS]
        if key not in order:
            raise KeyError(f"unknown menu {key!r}")
        bar = self._window.menuBar()
        menu = QMenu(dict(MENUS)[key], bar)
        menu.setObjectName(f"{key}Menu")
        after = [self._menus[k] for k in order[order.index(key) + 1:] if k in self._menus]
        if after:
            bar.insertMenu(after[0].menuAction(), menu)
        else:
            bar.addMenu(menu)
        self._menus[key] = menu
        return menu

    def separator(self, menu: str) -> None:
        """A separator at the end of menu ``menu``."""
        self.menu(menu).addSeparator()


def build_window_actions(win) -> None:
    """The main window's own actions in the File, Edit, View, Tools and Help menus."""
    reg: ActionRegistry = win.action_registry
    sp = win.style().standardIcon
    S = QKeySequence.StandardKey
    gv = win.graph_view
    icon = lambda name: sp(getattr(QStyle.StandardPixmap, name))  # noqa: E731
    reg.add("openAction", "&Open Spec…", win.session.open_dialog, shortcut=S.Open, tip="Open a saved spec (.json)",
            icon=icon("SP_DialogOpenButton"), menu="file")
    win.recent_menu = reg.menu("file").addMenu("Open &Recent")
    win.recent_menu.setObjectName("recentMenu")
    win.recent_menu.aboutToShow.connect(lambda: fill_recent(win))
    reg.add("saveAction", "&Save", win.session.save, shortcut=S.Save, tip="Save the spec",
            icon=icon("SP_DialogSaveButton"), menu="file")
    reg.add("saveAsAction", "Save &As…", lambda: win.session.save_as(), shortcut=S.SaveAs, menu="file")
    reg.add("restoreAutosaveAction", "Restore Autosaved Spec", win.session.restore_autosave,
            tip="Bring back unsaved work from the last session", menu="file")
    reg.separator("file")
    reg.add("exportPngAction", "Export Graph as &PNG…", lambda: win.export_graph("png"), shortcut="Ctrl+E", menu="file")
    reg.add("exportSvgAction", "Export Graph as S&VG…", lambda: win.export_graph("svg"), shortcut="Ctrl+Shift+E",
            menu="file")
    reg.separator("file")
    reg.add("quitAction", "&Quit", win.close, shortcut=[S.Quit, "Ctrl+Q"], menu="file")
    stack = win.document.undo_stack
    reg.add("undoAction", "&Undo", shortcut=S.Undo, icon=icon("SP_ArrowBack"), menu="edit",
            action=stack.createUndoAction(win, "&Undo"))
    reg.add("redoAction", "&Redo", shortcut=["Ctrl+Shift+Z", "Ctrl+Y"], icon=icon("SP_ArrowForward"), menu="edit",
            action=stack.createRedoAction(win, "&Redo"))
    reg.separator("edit")
    reg.add("findAction", "&Find Block…", win.focus_search, shortcut=S.Find, tip="Find a node by its label",
            menu="edit")
    reg.add("expandAllAction", "E&xpand All", gv.expand_all, shortcut="Ctrl+Shift+X",
            tip="Open every block and run", icon=text_icon("⊞"), menu="view")
    reg.add("collapseAllAction", "&Collapse All", gv.collapse_all, shortcut="Ctrl+Shift+C",
            tip="One node per block, runs folded", icon=text_icon("⊟"), menu="view")
    reg.add("expandSelectedAction", "Expand Selected", lambda: gv.expand(win.document.selection), shortcut="+",
            menu="view")
    reg.add("collapseSelectedAction", "Collapse Selected", lambda: gv.collapse(win.document.selection),
            shortcut="-", menu="view")
    reg.separator("view")
    reg.add("fitAction", "&Fit to Window", gv.fit, shortcut="Ctrl+0", icon=text_icon("⤢"), menu="view")
    reg.add("zoomInAction", "Zoom &In", lambda: gv.zoom(1.25), shortcut=[S.ZoomIn, "Ctrl+="], icon=text_icon("+"),
            menu="view")
    reg.add("zoomOutAction", "Zoom &Out", lambda: gv.zoom(0.8), shortcut=S.ZoomOut, icon=text_icon("−"), menu="view")
    reg.add("layoutLRAction", "&Left to Right Layout", win.set_orientation_checked, shortcut="Ctrl+L",
            tip="Lay the graph out left to right (else top to bottom)", icon=text_icon("⇉"), menu="view",
            checkable=True)
    reg.separator("view")
    _theme_menu(win, reg.menu("view").addMenu("&Theme"))
    win.panels_menu = reg.menu("view").addMenu("&Panels")
    win.panels_menu.setObjectName("panelsMenu")
    win.panels_menu.aboutToShow.connect(win.fill_panels_menu)
    reg.add("compareAction", "&Compare with Preset", win.show_compare, shortcut="Ctrl+D",
            tip="Compare this spec with its preset or another spec", menu="tools")
    reg.add("aboutAction", "&About", win.about, menu="help")


def _theme_menu(win, theme: QMenu) -> None:
    group = QActionGroup(win)
    current = st.value("theme", "system")
    for mode in ("system", "light", "dark"):
        a = theme.addAction(mode.capitalize())
        a.setObjectName(f"theme{mode.capitalize()}Action")
        a.setCheckable(True)
        a.setChecked(mode == current)
        a.triggered.connect(lambda _c=False, m=mode: win.set_theme(m))
        group.addAction(a)


def build_toolbar(win) -> None:
    """The main toolbar: workspace tabs, open/save, undo/redo (objectNames undoButton, redoButton), view
    actions and the search box (``win.search``)."""
    from ..graph.search import SearchBox

    reg: ActionRegistry = win.action_registry
    tb = win.addToolBar("Main")
    tb.setObjectName("mainToolBar")
    tb.setMovable(False)
    tb.addWidget(win.workspace_tabs)
    tb.addSeparator()
    tb.addActions([reg["openAction"], reg["saveAction"]])
    tb.addSeparator()
    tb.addActions([reg["undoAction"], reg["redoAction"]])
    tb.widgetForAction(reg["undoAction"]).setObjectName("undoButton")
    tb.widgetForAction(reg["redoAction"]).setObjectName("redoButton")
    tb.addSeparator()
    tb.addActions([reg[k] for k in ("expandAllAction", "collapseAllAction", "fitAction", "zoomInAction",
                                    "zoomOutAction", "layoutLRAction")])
    tb.addSeparator()
    win.search = SearchBox(win.graph_view)
    win.search.returnPressed.connect(win.find)
    tb.addWidget(win.search)


def fill_recent(win) -> None:
    """Fill File > Open Recent (called each time it opens)."""
    win.recent_menu.clear()
    files = st.recent_files()
    for p in files:
        a = win.recent_menu.addAction(Path(p).name)
        a.setToolTip(p)
        a.triggered.connect(lambda _c=False, path=p: win.open_file(path))
    if not files:
        win.recent_menu.addAction("(none)").setEnabled(False)
    else:
        win.recent_menu.addSeparator()
        win.recent_menu.addAction("Clear Recent Files", st.clear_recent_files)
