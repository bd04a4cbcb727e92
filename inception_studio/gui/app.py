"""Application start-up: the QApplication (names, high-DPI, Fusion style with a light or dark
palette that follows the system), :func:`create_main_window` for tests and embedding, and
:func:`main` for ``python -m inception_studio`` with no arguments.

Nothing here imports torch: the GUI starts on the analytic core alone.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import import_module
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from ..core.presets import get_spec
from ..desktop import APP_ID, icon_path
from .shared import settings as st
from .shared.theme import apply_theme

LOADING = "Loading torch for the Run and Train panels…"


SWITCH_INTERVAL_S = 0.0005


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, created (with names and theme) if there is none."""
    app = QApplication.instance()
    if app is None:
        # Qt's raster painter hands large fills to a thread pool and waits for it. On two cores that a run
        # keeps busy, that wait is for a core: a workspace's first paint took 20 ms instead of 11.
        os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
        apply_theme()
        # The GUI thread asks for the interpreter back at every call into Python (a slot, a paint); a worker
        # thread running Python (a model copied, a file parsed) keeps it up to the switch interval each time,
        # 5 ms by default, which adds up to frames. 0.5 ms keeps those waits short and costs workers little.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    app.setOrganizationName(st.ORGANIZATION)
    app.setApplicationName(st.APPLICATION)
    app.setApplicationDisplayName(st.APPLICATION)
    QGuiApplication.setDesktopFileName(APP_ID)  # the launcher entry of `inception-studio --install-desktop`
    icon = QIcon(str(icon_path("svg")))
    icon.addFile(str(icon_path("png")))
    app.setWindowIcon(icon)
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
    from .run.install import install as install_inference
    from .train.install import install as install_training

    install_inference(window)
    install_training(window)


def _preload_engine() -> None:
    """Import torch and the engine (seconds, on a worker thread) so the panels install instantly."""
    import_module("inception_studio.engine.infer")
    import_module("inception_studio.engine.train")


# Imported right after start-up, while the user reads the window, rather than on the engine thread in the middle
# of the first classification, a trained model's install or the first export: an import holds the interpreter
# (onnx is ~80 modules, onnxruntime ~0.1 s), and the window then waits for it.
WARM_MODULES = ("torchvision.transforms.v2.functional", "safetensors.torch", "numpy.ctypeslib",
                "inception_studio.engine.jobs", "onnx", "onnxruntime")


def _preload_inference() -> None:
    """Import WARM_MODULES and Pillow's image plugins (a missing optional package is skipped: classification
    then runs in PyTorch, and says so)."""
    from PIL import Image

    Image.preinit()
    for name in WARM_MODULES:
        try:
            import_module(name)
        except ImportError:
            pass


def show_main_window(spec_name: str | None = None, *, dialogs: bool | None = None):
    """The app's start: show the browse-and-edit window at once (no torch), then add the Run and
    Train panels when torch has finished loading on a worker thread. ``window.panelsReady`` fires then."""
    from shiboken6 import isValid

    from .shared.workers import ENGINE_LANE, Worker, freeze_long_lived_objects

    window = create_main_window(spec_name, dialogs=dialogs, panels=False)
    window.show()
    loader = Worker(_preload_engine)

    def ready(_result) -> None:
        if isValid(window) and window.isVisible():  # not for a window the user already closed
            install_panels(window)
            warm = Worker(_preload_inference)
            warm.finished.connect(lambda _r: freeze_long_lived_objects())
            window.panels.provide("inferenceLoader", warm)
            warm.start(lane=ENGINE_LANE)
            if window.statusBar().currentMessage() == LOADING:
                window.statusBar().clearMessage()
            window.panelsReady.emit()

    def failed(message: str) -> None:
        if isValid(window):
            window.statusBar().showMessage(f"Run and Train panels unavailable: {message}", 15000)

    if not window.statusBar().currentMessage():  # (an autosave offer, say, comes first)
        window.statusBar().showMessage(LOADING)
    loader.finished.connect(ready)
    loader.failed.connect(failed)
    window.panels.provide("engineLoader", loader)  # kept alive with the window
    # Let the first paint finish before the import starts competing for the interpreter.
    QTimer.singleShot(250, lambda: loader.start(lane=ENGINE_LANE))  # the thread that will run the engine
    return window


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app and run its event loop; returns the exit code."""
    parser = argparse.ArgumentParser(prog="inception-studio", description="Inception Studio desktop app")
    parser.add_argument("spec", nargs="?", default=None, help="a preset name (e.g. inception_v4) or a spec .json file")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the log (DEBUG) on stderr too")
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    from ..logs import setup as setup_logging

    log_file = setup_logging(verbose=args.verbose)
    from ..engine.allocator import tune_window_process

    tuned = tune_window_process()  # a forward's activations stay mapped for the next one (engine.allocator)
    app = ensure_app([sys.argv[0], *qt_args])
    from ..errors import StudioError
    from .shared.error_details import install_excepthook
    from .shared.workers import collect_garbage_on_gui_thread

    logging.getLogger(__name__).info("starting the app (log: %s; allocator: %s)", log_file, tuned or "as it was")
    install_excepthook()
    collect_garbage_on_gui_thread()

    try:
        window = show_main_window(args.spec)
    except StudioError as exc:
        print(f"inception-studio: {exc}", file=sys.stderr)
        return 2
    if args.spec and args.spec.lower().endswith(".json") and not Path(args.spec).exists():
        window.statusBar().showMessage(f"{args.spec}: no such file", 10000)
    code = app.exec()
    from .shared.workers import Worker

    Worker.stop_all()  # a QThread still running at exit aborts the process (e.g. closed while torch loads)
    return code
