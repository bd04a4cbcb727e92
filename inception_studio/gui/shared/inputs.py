"""Input widgets for forms inside scroll areas: the mouse wheel scrolls the panel, not the value under
the pointer. A spin box or combo box takes wheel steps only once it has the keyboard focus (clicked or
tabbed into), so scrolling down a long form never changes a setting by accident."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox


class _FocusWheel:
    """Mixin: wheel events go to the value only with focus; otherwise to the scroll area behind."""

    def _setup_wheel(self) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class SpinBox(_FocusWheel, QSpinBox):
    """QSpinBox that leaves the wheel to the scroll area until focused."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._setup_wheel()


class DoubleSpinBox(_FocusWheel, QDoubleSpinBox):
    """QDoubleSpinBox that leaves the wheel to the scroll area until focused."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._setup_wheel()


class ComboBox(_FocusWheel, QComboBox):
    """QComboBox that leaves the wheel to the scroll area until focused."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._setup_wheel()
