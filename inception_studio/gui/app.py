"""Application start-up: the QApplication (names, high-DPI, Fusion style with a light or dark
palette that follows the system), :func:`create_main_window` for tests and embedding, and
:func:`main` for ``python -m inception_studio`` with no arguments.

Nothing here imports torch: the GUI starts on the analytic core alone.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.presets import get_spec
from . import _pyside_fix  # noqa: F401  (guards a PySide6 6.12 refcount bug; see the module)
from . import settings as st

_theme_hooked = False


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
    app.setStyle("Fusion")
    dark = mode == "dark" or (mode == "system" and system_is_dark())
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    global _theme_hooked
    hints = QGuiApplication.styleHints()
    if not _theme_hooked and hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda _s: apply_theme())  # follow the system while on "system"
        _theme_hooked = True
    return dark


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, created (with names and theme) if there is none."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
        apply_theme()
    app.setOrganizationName(st.ORGANIZATION)
    app.setApplicationName(st.APPLICATION)
    app.setApplicationDisplayName(st.APPLICATION)
    return app


def create_main_window(spec_name: str | None = None, *, dialogs: bool | None = None):
    """The main window on preset ``spec_name`` (or a .json path; default googlenet), not shown, no event loop.

    ``dialogs=False`` (or env CI / INCEPTION_STUDIO_NO_DIALOGS) keeps it from ever opening a modal dialog.
    """
    ensure_app()
    from .main_window import MainWindow

    path = None
    if spec_name and spec_name.lower().endswith(".json"):
        path, spec = spec_name, None
    else:
        spec = get_spec(spec_name) if spec_name else None
    window = MainWindow(spec, dialogs=dialogs)
    if path is not None:
        window.open_file(path)
    return window


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app and run its event loop; returns the exit code."""
    parser = argparse.ArgumentParser(prog="inception-studio", description="Inception Studio desktop app")
    parser.add_argument("spec", nargs="?", default=None, help="a preset name (e.g. inception_v4) or a spec .json file")
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    app = ensure_app([sys.argv[0], *qt_args])
    from ..errors import StudioError

    try:
        window = create_main_window(args.spec)
    except StudioError as exc:
        print(f"inception-studio: {exc}", file=sys.stderr)
        return 2
    if args.spec and args.spec.lower().endswith(".json") and not Path(args.spec).exists():
        window.statusBar().showMessage(f"{args.spec}: no such file", 10000)
    window.show()
    return app.exec()
