"""Fixtures for the GUI tests: a main window on a throw-away config folder, and the artefacts folder
where tests save screenshots (env TEST_ARTIFACTS_DIR, else test-artifacts/ in the repo root)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]


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
