"""Panels that only redraw while the user can see them.

Every panel follows every edit and every selection; a panel the user cannot see (a dock tab behind
another, a dock of another workspace) need not redraw each time. ``WhenShown`` wraps a panel's update:
called, it runs now when the panel is on screen, else it notes that it is due and runs once the panel
comes on screen (its dock's tab selected, its workspace opened). Reading a panel's content through its
own accessors should call ``flush()`` first, so what is read is always current.

A tabbed dock's hidden page keeps ``isVisible()`` True (Qt moves it out of sight), so "on screen" also
asks for a non-empty visible region. A widget whose window is not shown at all (made on its own, in a
test, say) updates at once, as it always did.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QDockWidget, QWidget

from .frames import next_frame


def on_screen(widget: QWidget) -> bool:
    """True when ``widget`` is visible and not hidden in a dock tab behind another."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def deferrable(widget: QWidget) -> bool:
    """True when ``widget`` sits in a shown window but the user cannot see it: its update can wait."""
    window = widget.window()
    return window is not widget and window.isVisible() and not on_screen(widget)


class WhenShown(QObject):
    """``update`` run now when ``widget`` is on screen, else once it comes on screen (see the module docstring)."""

    def __init__(self, widget: QWidget, update: Callable[[], object]):
        super().__init__(widget)
        self._widget, self._update = widget, update
        self.pending = False
        self._dock: QDockWidget | None = None
        widget.installEventFilter(self)

    def __call__(self, *_args) -> None:
        """The panel's content changed: update it now, or when it is next seen."""
        if deferrable(self._widget):
            self.pending = True
            self._watch_dock()
            return
        self.pending = False
        self._update()

    def flush(self) -> None:
        """Run a due update now (before the panel's content is read)."""
        if self.pending:
            self.pending = False
            self._update()

    def _due(self) -> None:
        if self.pending and not deferrable(self._widget):
            self.flush()

    def _watch_dock(self) -> None:
        """A dock's tab switch sends no Show event to a page that never stopped being "visible": follow the dock."""
        if self._dock is not None:
            return
        parent = self._widget.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None:
            self._dock = parent
            parent.visibilityChanged.connect(lambda on: next_frame(self, self._due) if on else None)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if self.pending and event.type() in (QEvent.Type.Show, QEvent.Type.Resize):
            # A frame later: after the layout has given it its place, and not in the frame that shows it (a
            # workspace switch paints the whole window; the graph's redraw after a model came is as much again).
            next_frame(self, self._due)
        return False
