"""The Linux launcher: ``inception-studio --install-desktop`` writes a desktop entry and the app icon into
the user's XDG data folder, the entry's command starts this app from anywhere, and
``--uninstall-desktop`` takes them away again."""
from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inception_studio import desktop
from inception_studio.cli import main

ENTRY = Path("applications") / "inception-studio.desktop"
SVG = Path("icons") / "hicolor" / "scalable" / "apps" / "inception-studio.svg"
PNG = Path("icons") / "hicolor" / "256x256" / "apps" / "inception-studio.png"


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_argv(value: str) -> list[str]:
    """Split an Exec value as a launcher does: string escapes first, then the spec's quoting."""
    text = value.replace("\\\\", "\\")
    args, cur, quoted, i, started = [], "", False, 0, False
    while i < len(text):
        c = text[i]
        if quoted and c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
            cur, i = cur + text[i + 1], i + 2
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if started:
                args.append(cur)
            cur, started = "", False
        else:
            cur, started = cur + c, True
        i += 1
    if started:
        args.append(cur)
    return [a.replace("%%", "%") for a in args]


def test_install_desktop_writes_entry_and_icons_into_xdg_data_home(xdg, capsys):
    assert main(["--install-desktop"]) == 0
    out = capsys.readouterr().out
    for rel in (ENTRY, SVG, PNG):
        assert (xdg / rel).is_file() and str(xdg / rel) in out
    entry = read_entry(xdg / ENTRY)
    assert entry["Type"] == "Application" and entry["Name"] == "Inception Studio"
    assert entry["Icon"] == "inception-studio" and entry["Terminal"] == "false"
    assert exec_argv(entry["Exec"])[1:] == ["-m", "inception_studio"]
    assert ET.parse(xdg / SVG).getroot().tag.endswith("svg")
    head = (xdg / PNG).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (256, 256)
    assert (xdg / SVG).read_bytes() == desktop.icon_path("svg").read_bytes()


def test_the_entry_command_starts_this_app_from_any_folder(xdg, tmp_path):
    desktop.install_desktop()
    argv = exec_argv(read_entry(xdg / ENTRY)["Exec"])
    out = subprocess.run([*argv, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage: inception-studio" in out.stdout and "--install-desktop" in out.stdout


@pytest.mark.parametrize("path", ["/opt/my apps/venv/bin/python", '/x/"q"/$HOME/`b`/back\\slash/50%/py', "/plain/python3"])
def test_exec_quoting_round_trips_awkward_paths(path):
    text = desktop.desktop_entry([path, "-m", "inception_studio"])
    value = next(line for line in text.splitlines() if line.startswith("Exec="))[len("Exec="):]
    assert exec_argv(value) == [path, "-m", "inception_studio"]


def test_data_home_falls_back_to_local_share_when_xdg_is_unset_or_relative(tmp_path):
    assert desktop.data_home({"HOME": str(tmp_path)}) == tmp_path / ".local" / "share"
    assert desktop.data_home({"HOME": str(tmp_path), "XDG_DATA_HOME": "rel/dir"}) == tmp_path / ".local" / "share"
    assert desktop.data_home({"HOME": str(tmp_path), "XDG_DATA_HOME": "/abs/dir"}) == Path("/abs/dir")


def test_uninstall_desktop_removes_what_install_wrote(xdg, capsys):
    desktop.install_desktop()
    assert main(["--uninstall-desktop"]) == 0
    assert not any((xdg / rel).exists() for rel in (ENTRY, SVG, PNG))
    capsys.readouterr()
    assert main(["--uninstall-desktop"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_unwritable_data_folder_is_one_line_error(xdg, capsys):
    xdg.parent.mkdir(parents=True, exist_ok=True)
    xdg.write_text("a file where the folder should be")
    assert main(["--install-desktop"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "cannot write" in err


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_entry_passes_desktop_file_validate(xdg):
    desktop.install_desktop()
    out = subprocess.run(["desktop-file-validate", str(xdg / ENTRY)], capture_output=True, text=True)
    assert out.returncode == 0 and "error" not in out.stdout, out.stdout


def test_the_app_window_carries_the_app_icon(qapp):
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QMainWindow

    from inception_studio.gui.app import ensure_app

    ensure_app()
    window = QMainWindow()  # a top-level window shows the application's icon unless it sets its own
    drawn = QIcon(str(desktop.icon_path("svg"))).pixmap(64).toImage()
    assert not window.windowIcon().isNull()
    assert window.windowIcon().pixmap(64).toImage() == drawn
    assert QGuiApplication.desktopFileName() == desktop.APP_ID  # ties the window to the launcher entry
