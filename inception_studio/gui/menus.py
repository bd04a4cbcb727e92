"""The main window's actions, menus and toolbar (with their shortcuts and tooltips), kept apart so
main_window.py stays about the window itself. Each function sets the actions on the window it is given.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
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
from PySide6.QtWidgets import QLineEdit, QStyle

from . import settings as st


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



def act(win, text: str, slot, shortcut=None, tip: str = "", icon: QIcon | None = None, name: str = "") -> QAction:
    """A window action with its shortcut(s) shown in the tooltip."""
    a = QAction(text, win)
    if shortcut is not None:
        a.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
    keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
    a.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else ""))
    a.setStatusTip(tip or text.replace("&", ""))
    if icon is not None:
        a.setIcon(icon)
    if name:
        a.setObjectName(name)
    a.triggered.connect(slot)
    win.addAction(a)  # shortcuts work with the menu bar hidden too
    return a


def build_actions(win) -> None:
    """Every action of the main window (File, Edit, View, Tools, Help)."""
    sp = win.style().standardIcon
    S = QKeySequence.StandardKey
    gv = win.graph_view
    win.open_action = act(win, "&Open Spec…", win.session.open_dialog, S.Open, "Open a saved spec (.json)",
                                 sp(QStyle.StandardPixmap.SP_DialogOpenButton), "actionOpen")
    win.save_action = act(win, "&Save", win.session.save, S.Save, "Save the spec",
                                 sp(QStyle.StandardPixmap.SP_DialogSaveButton), "actionSave")
    win.save_as_action = act(win, "Save &As…", lambda: win.session.save_as(), S.SaveAs, name="actionSaveAs")
    win.restore_action = act(win, "Restore Autosaved Spec", win.session.restore_autosave,
                                    tip="Bring back unsaved work from the last session", name="actionRestore")
    win.export_png_action = act(win, "Export Graph as &PNG…", lambda: win.export_graph("png"),
                                       "Ctrl+E", name="actionExportPng")
    win.export_svg_action = act(win, "Export Graph as S&VG…", lambda: win.export_graph("svg"),
                                       "Ctrl+Shift+E", name="actionExportSvg")
    win.quit_action = act(win, "&Quit", win.close, S.Quit, name="actionQuit")
    stack = win.document.undo_stack
    win.undo_action = stack.createUndoAction(win, "&Undo")
    win.undo_action.setShortcuts([QKeySequence(S.Undo)])
    win.undo_action.setIcon(sp(QStyle.StandardPixmap.SP_ArrowBack))
    win.redo_action = stack.createRedoAction(win, "&Redo")
    win.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    win.redo_action.setIcon(sp(QStyle.StandardPixmap.SP_ArrowForward))
    for a in (win.undo_action, win.redo_action):
        win.addAction(a)
    win.find_action = act(win, "&Find Block…", win._focus_search, S.Find, "Find a node by its label")
    win.expand_all_action = act(win, "E&xpand All", gv.expand_all, "Ctrl+Shift+=",
                                       "Open every block and run", text_icon("⊞"), "actionExpandAll")
    win.collapse_all_action = act(win, "&Collapse All", gv.collapse_all, "Ctrl+Shift+-",
                                         "One node per block, runs folded", text_icon("⊟"), "actionCollapseAll")
    win.expand_action = act(win, "Expand Selected", lambda: gv.expand(win.document.selection), "+")
    win.collapse_action = act(win, "Collapse Selected", lambda: gv.collapse(win.document.selection), "-")
    win.fit_action = act(win, "&Fit to Window", gv.fit, "Ctrl+0", icon=text_icon("⤢"), name="actionFit")
    win.zoom_in_action = act(win, "Zoom &In", lambda: gv.zoom(1.25), S.ZoomIn, icon=text_icon("+"))
    win.zoom_out_action = act(win, "Zoom &Out", lambda: gv.zoom(0.8), S.ZoomOut, icon=text_icon("−"))
    win.lr_action = act(win, "&Left to Right Layout", win._toggle_orientation, "Ctrl+L",
                               "Lay the graph out left to right (else top to bottom)", text_icon("⇉"), "actionLayoutLR")
    win.lr_action.setCheckable(True)
    win.compare_action = act(win, "&Compare with Preset", win.show_compare, "Ctrl+D",
                                    "Compare this spec with its preset or another spec", name="actionCompare")
    win.reset_layout_action = act(win, "Reset Panel Layout", lambda: win.reset_layout())
    win.about_action = act(win, "&About", win._about)


def build_menus(win) -> None:
    """The menu bar."""
    mb = win.menuBar()
    f = mb.addMenu("&File")
    f.addActions([win.open_action])
    win.recent_menu = f.addMenu("Open &Recent")
    win.recent_menu.aboutToShow.connect(lambda: fill_recent(win))
    f.addActions([win.save_action, win.save_as_action, win.restore_action])
    f.addSeparator()
    f.addActions([win.export_png_action, win.export_svg_action])
    f.addSeparator()
    f.addAction(win.quit_action)
    e = mb.addMenu("&Edit")
    e.addActions([win.undo_action, win.redo_action])
    e.addSeparator()
    e.addAction(win.find_action)
    v = mb.addMenu("&View")
    v.addActions([win.expand_all_action, win.collapse_all_action, win.expand_action, win.collapse_action])
    v.addSeparator()
    v.addActions([win.fit_action, win.zoom_in_action, win.zoom_out_action, win.lr_action])
    v.addSeparator()
    theme = v.addMenu("&Theme")
    group = QActionGroup(win)
    current = st.value("theme", "system")
    for mode in ("system", "light", "dark"):
        a = theme.addAction(mode.capitalize())
        a.setCheckable(True)
        a.setChecked(mode == current)
        a.triggered.connect(lambda _c=False, m=mode: win.set_theme(m))
        group.addAction(a)
    win._panels_menu = v.addMenu("&Panels")
    v.addAction(win.reset_layout_action)
    t = mb.addMenu("&Tools")
    t.addAction(win.compare_action)
    mb.addMenu("&Help").addAction(win.about_action)


def build_toolbar(win) -> None:
    """The main toolbar with the undo/redo buttons (objectNames undoButton, redoButton) and the search box."""
    tb = win.addToolBar("Main")
    tb.setObjectName("mainToolBar")
    tb.addActions([win.open_action, win.save_action])
    tb.addSeparator()
    tb.addActions([win.undo_action, win.redo_action])
    tb.widgetForAction(win.undo_action).setObjectName("undoButton")
    tb.widgetForAction(win.redo_action).setObjectName("redoButton")
    tb.addSeparator()
    tb.addActions([win.expand_all_action, win.collapse_all_action, win.fit_action, win.zoom_in_action,
                   win.zoom_out_action, win.lr_action])
    tb.addSeparator()
    win.search = QLineEdit()
    win.search.setObjectName("graphSearch")
    win.search.setPlaceholderText("Find block… (Enter: next match)")
    win.search.setClearButtonEnabled(True)
    win.search.setMaximumWidth(260)
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
