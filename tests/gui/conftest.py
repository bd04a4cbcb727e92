"""Fixtures for the GUI tests: a main window on a throw-away config folder, and the artefacts folder
where tests save screenshots (env TEST_ARTIFACTS_DIR, else test-artifacts/ in the repo root).

Headless runs get two screens (offscreen_screens.json): a 1280x800 laptop where windows open, and a
1920x1080 desktop beside it, so that layouts are checked at both sizes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
SCREENS = Path(__file__).resolve().parent / "offscreen_screens.json"
if os.environ.get("QT_QPA_PLATFORM") == "offscreen":  # before pytest-qt creates the QApplication
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREENS}"


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    """A fresh settings/autosave folder, and no modal dialogs."""
    d = tmp_path / "config"
    monkeypatch.setenv("INCEPTION_STUDIO_CONFIG_DIR", str(d))
    monkeypatch.setenv("INCEPTION_STUDIO_NO_DIALOGS", "1")
    return d


@pytest.fixture
def make_window(qtbot, config_dir):
    """Factory: a shown main window on a preset (closed by qtbot at the end)."""
    from inception_studio.gui import create_main_window
    from inception_studio.gui.app import create_main_window as create_with_options

    def make(spec_name: str | None = None, **kw):
        # the package-level entry point is the one users and the acceptance checks call
        win = create_with_options(spec_name, **kw) if kw else create_main_window(spec_name)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        return win

    return make


@pytest.fixture
def window(make_window):
    """The main window on its default variant."""
    return make_window()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots a person can look at after the run."""
    d = Path(os.environ.get("TEST_ARTIFACTS_DIR") or REPO / "test-artifacts") / "gui"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def make_train_panel(qtbot, tmp_path, config_dir):
    """Factory: a Train panel on GoogLeNet with a small model (width, size) and its monitor, shut down after
    (each test with settings of its own: a panel remembers its data and form)."""
    from inception_studio.core.presets import get_spec
    from inception_studio.gui.shared.document import SpecDocument
    from inception_studio.gui.train.panel import TrainingPanel
    from inception_studio.gui.train.plots import TrainingMonitor

    made = []

    def make(width: float = 0.125, size: int = 48):
        monitor = TrainingMonitor()
        p = TrainingPanel(SpecDocument(get_spec("googlenet")), monitor, dialogs=False)
        qtbot.addWidget(p)
        qtbot.addWidget(monitor)
        p.resize(460, 1200)
        monitor.resize(1000, 520)
        p.form.small.setChecked(True)
        p.form.width.setValue(width)
        p.form.size.setValue(size)
        p.out.setText(str(tmp_path / "run" / "model.safetensors"))
        made.append(p)
        return p

    yield make
    for p in made:
        p.shutdown()


@pytest.fixture
def run_python():
    """Runs ``code`` (with ``args``) in a fresh interpreter on Qt's offscreen platform; the finished process,
    its output as text. For what must happen in a process of its own: start-up, exit, environment."""
    def run(code: str, *args: str, timeout: int = 120, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                              check=False, env={**(os.environ if env is None else env), "QT_QPA_PLATFORM": "offscreen"})
    return run
