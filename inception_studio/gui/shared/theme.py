"""The app's look: the Fusion style with a light or dark palette that follows the system (or the
user's View → Theme choice, remembered)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

from . import settings as st

_theme_hooked = False


class _FusionStyle(QProxyStyle):
    """Fusion, with its standard icons made once. Fusion loads a dock's float and close buttons from image files
    each time a dock is laid out or shown (every workspace switch, ~2 ms a dock); one palette, one set of icons."""

    def __init__(self) -> None:
        super().__init__("Fusion")
        self._icons: dict[int, QIcon] = {}

    def standardIcon(self, standard_icon: QStyle.StandardPixmap, option=None, widget=None) -> QIcon:  # noqa: N802
        key = int(standard_icon.value) if hasattr(standard_icon, "value") else int(standard_icon)
        icon = self._icons.get(key)
        if icon is None:
            icon = self._icons[key] = super().standardIcon(standard_icon, option, widget)
        return icon


_style: _FusionStyle | None = None  # kept alive here: the application does not own a Python reference


def _dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: QColor(45, 47, 52), QPalette.ColorRole.WindowText: QColor(225, 228, 232),
        QPalette.ColorRole.Base: QColor(33, 35, 39), QPalette.ColorRole.AlternateBase: QColor(41, 44, 49),
        QPalette.ColorRole.ToolTipBase: QColor(55, 58, 64), QPalette.ColorRole.ToolTipText: QColor(230, 232, 235),
        QPalette.ColorRole.Text: QColor(225, 228, 232), QPalette.ColorRole.Button: QColor(52, 55, 61),
        QPalette.ColorRole.ButtonText: QColor(225, 228, 232), QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: QColor(64, 128, 214), QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 170, 255), QPalette.ColorRole.PlaceholderText: QColor(150, 155, 165),
        QPalette.ColorRole.Mid: QColor(80, 84, 92), QPalette.ColorRole.Dark: QColor(25, 26, 29),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 124, 132))
    return p


def system_is_dark() -> bool:
    """Whether the platform asks for a dark colour scheme (Qt 6.5+ style hints)."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme and scheme() == Qt.ColorScheme.Dark)


def apply_theme(mode: str | None = None) -> bool:
    """Use the Fusion style with a light or dark palette ("system" follows the platform); True if dark."""
    app = QApplication.instance()
    if app is None:
        return False
    mode = mode or str(st.value("theme", "system"))
    global _style
    _style = _FusionStyle()  # a fresh icon cache for the palette chosen below
    app.setStyle(_style)
    dark = mode == "dark" or (mode == "system" and system_is_dark())
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    global _theme_hooked
    hints = QGuiApplication.styleHints()
    if not _theme_hooked and hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda _s: apply_theme())  # follow the system while on "system"
        _theme_hooked = True
    return dark
