"""Keyboard: no two actions share a keystroke (on a US layout Ctrl+Shift+= *is* Ctrl++), undo/redo work from
an editor field, the search box leaves the view's keys to the view, and the variant list opens what its
highlight moves to."""
from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QListWidget, QSpinBox

from inception_studio.core.presets import list_variants

# The character a US keyboard types for Shift + key: Shift+= arrives as "+", so they are one keystroke.
_SHIFTED = dict(zip("=-1234567890[];',./\\`", "+_!@#$%^&*(){}:\"<>?|~"))


def keystroke(seq: QKeySequence) -> str:
    """One key combination as the keyboard produces it ("Ctrl+Shift+=" and "Ctrl++" are both "Ctrl++")."""
    text = seq.toString(QKeySequence.SequenceFormat.PortableText)
    mods, _, key = text.rpartition("+") if not text.endswith("++") else (text[:-2], "+", "+")
    parts = [m for m in mods.split("+") if m]
    if "Shift" in parts and key in _SHIFTED:
        parts.remove("Shift")
        key = _SHIFTED[key]
    return "+".join(sorted(parts) + [key])


def test_keystroke_normalises_us_layout_shift_symbols():
    assert keystroke(QKeySequence("Ctrl+Shift+=")) == keystroke(QKeySequence("Ctrl++"))
    assert keystroke(QKeySequence("Ctrl+Shift+-")) == keystroke(QKeySequence("Ctrl+_"))
    assert keystroke(QKeySequence("Ctrl+Shift+Z")) != keystroke(QKeySequence("Ctrl+Z"))


def test_no_two_actions_share_a_shortcut(make_window):
    win = make_window()  # with the Run and Train panels and their menus
    owners: dict[tuple, list[str]] = defaultdict(list)
    for action in win.findChildren(QAction):
        window_wide = action.shortcutContext() in (Qt.ShortcutContext.WindowShortcut,
                                                   Qt.ShortcutContext.ApplicationShortcut)
        scope = "window" if window_wide else id(action.parent())
        for seq in action.shortcuts():
            owners[(scope, keystroke(seq))].append(action.objectName() or action.text())
    assert owners, "no shortcuts found"
    shared = {k: v for k, v in owners.items() if len(v) > 1}
    assert not shared, shared
    for key in ("undoAction", "redoAction", "zoomInAction", "expandAllAction", "quitAction", "buildModelAction",
                "exploreWorkspaceAction", "classifyWorkspaceAction", "trainWorkspaceAction"):
        assert win.action(key).shortcuts(), f"{key} has no shortcut"
    assert QKeySequence("Ctrl+Q") in win.action("quitAction").shortcuts()


def test_undo_and_redo_from_an_editor_field(qtbot, make_window):
    win = make_window("googlenet")
    spin = win.findChild(QSpinBox, "num_classes")
    win.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    spin.selectAll()
    qtbot.keyClicks(spin, "10")
    qtbot.keyClick(spin, Qt.Key.Key_Return)  # the state the issue names: a value typed, Enter pressed
    assert win.document.spec.num_classes == 10
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.document.spec.num_classes == 1000 and spin.value() == 1000 and spin.hasFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.document.spec.num_classes == 10 and spin.value() == 10
    qtbot.keyClick(spin, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # nothing left to redo: no change
    assert win.document.spec.num_classes == 10
    spin.selectAll()
    qtbot.keyClicks(spin, "7")  # typed, not applied yet: Ctrl+Z takes back the typing first
    qtbot.keyClick(spin, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.document.spec.num_classes == 10


def test_search_box_leaves_the_view_its_keys(qtbot, make_window):
    win = make_window("inception_v4")
    win.activateWindow()
    win.document.select("b:Mixed_3a")
    before = set(win.graph_view.visible_ids())
    win.search.setFocus()
    qtbot.waitUntil(win.search.hasFocus)
    qtbot.keyClick(win.search, Qt.Key.Key_Plus)  # expands the selected block, types nothing
    assert win.search.text() == "" and "b:Mixed_3a" not in win.graph_view.visible_ids()
    assert set(win.graph_view.visible_ids()) > before - {"b:Mixed_3a"}
    qtbot.keyClick(win.search, Qt.Key.Key_Minus)  # an empty box: "-" is the view's too
    assert win.search.text() == "" and "b:Mixed_3a" in win.graph_view.visible_ids()
    qtbot.keyClicks(win.search, "Inception-A")  # but a name with a dash can still be typed
    assert win.search.text() == "Inception-A"
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    assert win.document.selection.startswith("b:inception_a")
    zoom = win.graph_view.transform().m11()
    qtbot.keyClick(win.search, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # Ctrl+= zooms, from the box
    assert win.graph_view.transform().m11() > zoom and win.search.text() == "Inception-A"
    qtbot.keyClick(win.search, Qt.Key.Key_Escape)
    assert win.graph_view.hasFocus()


def test_variant_list_opens_what_its_highlight_moves_to(qtbot, make_window):
    win = make_window("googlenet")
    lst = win.findChild(QListWidget, "variantList")
    win.activateWindow()
    lst.setFocus()
    qtbot.waitUntil(lst.hasFocus)
    names = list_variants()
    row = names.index("googlenet")
    qtbot.keyClick(lst, Qt.Key.Key_Down)
    assert win.document.spec.name == names[row + 1] and lst.currentRow() == row + 1
    qtbot.keyClick(lst, Qt.Key.Key_Down)
    assert win.document.spec.name == names[row + 2]
    qtbot.keyClick(lst, Qt.Key.Key_Up)
    assert win.document.spec.name == names[row + 1]
    QApplication.processEvents()
    assert names[row + 1] in win.windowTitle() or win.document.spec.title in win.windowTitle()
