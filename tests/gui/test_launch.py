"""The README's launch forms open the app: ``inception-studio inception_v4``, ``inception-studio my_spec.json``
and ``bash run.sh app inception_v4`` (each in a process of its own, headless, closed once its window shows)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inception_studio.cli import opens_app
from inception_studio.core.presets import get_spec

REPO = Path(__file__).resolve().parents[2]
# Loaded at interpreter start (sitecustomize): once the main window is on screen, print its title and quit.
PROBE = """
import sys, threading, time

def _watch():
    for _ in range(1200):
        time.sleep(0.05)
        # Only once the app's window module is in: PySide's classes are set up on first use, and this thread
        # touching one while the main thread set up another deadlocked (seen once, in run.sh's platform check).
        if "inception_studio.gui.main_window" not in sys.modules:
            continue
        qw = sys.modules["PySide6.QtWidgets"]
        app = qw.QApplication.instance()
        if app is None or not app.property("probe_armed") is None:
            continue
        from PySide6.QtCore import QTimer
        app.setProperty("probe_armed", True)

        def check():
            wins = [w for w in qw.QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()]
            if not wins:
                QTimer.singleShot(50, app, check)
                return
            print("WINDOW:", wins[0].windowTitle(), flush=True)
            sys.path.insert(0, "@REPO@")
            from tests.gui.remote_jobs import page_faults
            seen = page_faults()
            print("FAULTS:", seen["faults"], seen["rounds"] * seen["pages"], flush=True)
            wins[0].close()
            app.quit()
        QTimer.singleShot(0, app, check)  # runs on the GUI thread
        return

threading.Thread(target=_watch, daemon=True).start()
"""


def _launch(cmd: list[str], tmp_path: Path, config_dir: Path) -> subprocess.CompletedProcess:
    probe = tmp_path / "probe"
    probe.mkdir(exist_ok=True)
    (probe / "sitecustomize.py").write_text(PROBE.replace("@REPO@", str(REPO)))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(probe), "PYTHON": sys.executable,
           "INCEPTION_STUDIO_CONFIG_DIR": str(config_dir), "INCEPTION_STUDIO_NO_DIALOGS": "1"}
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False, env=env)


def test_which_arguments_open_the_app():
    assert opens_app([]) and opens_app(["inception_v4"]) and opens_app(["my_spec.json"])
    assert not opens_app(["variants"]) and not opens_app(["summary", "inception_v4"]) and not opens_app(["--help"])


@pytest.mark.parametrize("form", ["variant", "spec file", "run.sh"])
def test_readme_launch_forms_open_the_window(tmp_path, config_dir, form):
    script = Path(sys.executable).parent / "inception-studio"
    console = [str(script)] if script.exists() else [sys.executable, "-m", "inception_studio"]
    if form == "variant":
        cmd, title = [*console, "inception_v4"], "Inception-v4"
    elif form == "spec file":
        (tmp_path / "my_spec.json").write_text(get_spec("inception_v3").to_json())
        cmd, title = [*console, "my_spec.json"], "my_spec.json"
    else:
        cmd, title = ["bash", str(REPO / "run.sh"), "app", "inception_v4"], "Inception-v4"
    out = _launch(cmd, tmp_path, config_dir)
    assert "invalid choice" not in out.stderr and out.returncode == 0, out.stderr[-2000:]
    shown = [line for line in out.stdout.splitlines() if line.startswith("WINDOW:")]
    assert shown and title in shown[0], out.stdout
    if sys.platform.startswith("linux"):
        # The app's allocator keeps what a forward frees for the next one (engine.allocator): a page touched
        # again is not faulted in again (a default process faulted each of them in each round).
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith("FAULTS:"))
        faults, touched = (int(v) for v in line.split()[1:])
        assert faults < 0.05 * touched, out.stdout
