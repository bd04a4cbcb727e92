"""Application start-up: the QApplication (names, high-DPI, Fusion style with a light or dark
palette that follows the system), :func:`create_main_window` for tests and embedding, and
:func:`main` for ``python -m inception_studio`` with no arguments.

Nothing here imports torch: the GUI starts on the analytic core alone.
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.presets import get_spec
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


def create_main_window(spec_name: str | None = None, *, dialogs: bool | None = None, panels: bool = True):
    """The main window on preset ``spec_name`` (or a .json path; default googlenet), not shown, no event loop.

    ``dialogs=False`` (or env CI / INCEPTION_STUDIO_NO_DIALOGS) keeps it from ever opening a modal dialog;
    ``panels=False`` leaves out the Run and Train panels (the browse-and-edit window alone).
    """
    ensure_app()
    from .main_window import MainWindow

    path = None
    if spec_name and spec_name.lower().endswith(".json"):
        path, spec = spec_name, None
    else:
        spec = get_spec(spec_name) if spec_name else None
    window = MainWindow(spec, dialogs=dialogs)
    if panels:
        install_panels(window)  # imports torch: the app's own start (show_main_window) defers this
    if path is not None:
        window.open_file(path)
    return window


def install_panels(window) -> None:
    """Add the Run (inference) and Train panels to ``window`` (each only once)."""
    from .inference import install as install_inference
    from .training import install as install_training

    install_inference(window)
    install_training(window)
    if not getattr(window, "_restored", False):  # first start: keep the Block Editor usable beside the new tabs
        window.resizeDocks([window.editor_dock, window.inspector_dock], [470, 330], Qt.Orientation.Vertical)


def _preload_engine() -> None:
    """Import torch and the engine (seconds, on a worker thread) so the panels install instantly."""
    import_module("inception_studio.engine.infer")
    import_module("inception_studio.engine.train")


def show_main_window(spec_name: str | None = None, *, dialogs: bool | None = None):
    """The app's start: show the browse-and-edit window at once (no torch), then add the Run and
    Train panels when torch has finished loading on a worker thread. ``window.panelsReady`` fires then."""
    from shiboken6 import isValid

    from .workers import ENGINE_LANE, Worker

    window = create_main_window(spec_name, dialogs=dialogs, panels=False)
    window.show()
    loader = Worker(_preload_engine)

    def ready(_result) -> None:
        if isValid(window) and window.isVisible():  # not for a window the user already closed
            install_panels(window)
            window.panelsReady.emit()

    def failed(message: str) -> None:
        if isValid(window):
            window.statusBar().showMessage(f"Run and Train panels unavailable: {message}", 15000)

    loader.finished.connect(ready)
    loader.failed.connect(failed)
    window.panel_loader = loader
    # Let the first paint finish before the import starts competing for the interpreter.
    QTimer.singleShot(250, lambda: loader.start(lane=ENGINE_LANE))  # the thread that will run the engine
    return window


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app and run its event loop; returns the exit code."""
    parser = argparse.ArgumentParser(prog="inception-studio", description="Inception Studio desktop app")
    parser.add_argument("spec", nargs="?", default=None, help="a preset name (e.g. inception_v4) or a spec .json file")
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    app = ensure_app([sys.argv[0], *qt_args])
    from ..errors import StudioError
    from .workers import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()

    try:
        window = show_main_window(args.spec)
    except StudioError as exc:
        print(f"inception-studio: {exc}", file=sys.stderr)
        return 2
    if args.spec and args.spec.lower().endswith(".json") and not Path(args.spec).exists():
        window.statusBar().showMessage(f"{args.spec}: no such file", 10000)
    code = app.exec()
    from .workers import Worker

    Worker.stop_all()  # a QThread still running at exit aborts the process (e.g. closed while torch loads)
    return code
