"""The graph's search box: types a block name, Enter finds the next match, and never swallows the
view's keys: + (never in a block's name) always reaches the graph, and so does - once a match has been
found or while the box is empty ("Inception-A" can still be typed); Escape and the Down arrow hand
the focus back to the graph.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

# Keys the graph view answers (expand / collapse the selected block).
ALWAYS_VIEW = {Qt.Key.Key_Plus, Qt.Key.Key_Equal}  # never in a node's label
VIEW_WHEN_DONE = {Qt.Key.Key_Minus}  # in labels ("Inception-A"): the view's after a find or in an empty box


class SearchBox(QLineEdit):
    """A line edit for finding graph nodes that forwards the view's keys to ``view``."""

    def __init__(self, view: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self._view = view
        self.setObjectName("graphSearch")
        self.setPlaceholderText("Find block… (Enter: next match)")
        self.setToolTip("Find a block by name: Enter finds the next match, Esc returns to the graph")
        self.setClearButtonEnabled(True)
        self.setMaximumWidth(240)
        self._found = False  # Enter found a match and nothing was typed since
        self.returnPressed.connect(lambda: setattr(self, "_found", True))
        self.textEdited.connect(lambda _t: setattr(self, "_found", False))

    def is_view_key(self, event: QKeyEvent) -> bool:
        """Whether ``event`` is a key for the graph view rather than for the text."""
        if event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier):
            return False
        key = event.key()
        return key in ALWAYS_VIEW or key in VIEW_WHEN_DONE and (self._found or not self.text())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if self.is_view_key(event):
                event.ignore()  # not for the text: let the window's +/- shortcuts fire
                return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self.is_view_key(event):
            self._view.keyPressEvent(event)  # no shortcut took it: the view's own +/- handling
            return
        if key in (Qt.Key.Key_Escape, Qt.Key.Key_Down):
            self._view.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        super().keyPressEvent(event)
