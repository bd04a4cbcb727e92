"""Linux desktop integration: the launcher entry (``inception-studio.desktop``) and the app icon, written
into the user's XDG data folders by ``inception-studio --install-desktop`` (and removed by
``--uninstall-desktop``). The window icon's files live here too (:func:`icon_path`).

No Qt here: installing the launcher must work from the command line alone.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import StudioError
from .paths import APP_NAME, data_home

APP_ID = "inception-studio"  # the desktop file's id, the icon's theme name and the Wayland app id
_ASSETS = Path(__file__).resolve().parent / "assets"
_ICONS = {"svg": "icon.svg", "png": "icon-256.png"}
# Characters that make the Desktop Entry spec require an Exec argument to be double-quoted.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopError(StudioError):
    """The launcher entry or icon could not be written or removed (names the file and why)."""


def icon_path(kind: str = "svg") -> Path:
    """The packaged app icon: ``"svg"`` (scalable) or ``"png"`` (256x256)."""
    return _ASSETS / _ICONS[kind]


def launch_command() -> list[str]:
    """The command a launcher runs: this interpreter (a virtual environment's is kept as is) with ``-m``."""
    return [os.path.abspath(sys.executable), "-m", "inception_studio"]


def quote_exec_arg(arg: str) -> str:
    """One Exec argument, quoted and escaped as the Desktop Entry spec asks (including ``%`` as ``%%``)."""
    if arg and not (_RESERVED & set(arg)):
        quoted = arg
    else:
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{inner}"'
    # the string-value escape applies on top of the quoting: a backslash is written twice again
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(argv: list[str] | None = None) -> str:
    """The text of ``inception-studio.desktop`` for a launch command (default: :func:`launch_command`)."""
    argv = argv or launch_command()
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        f"Name={APP_NAME}",
        "GenericName=CNN Architecture Studio",
        "Comment=Explore, edit, train and run the Inception family of CNNs",
        f"TryExec={quote_exec_arg(argv[0])}",
        "Exec=" + " ".join(quote_exec_arg(a) for a in argv),
        f"Icon={APP_ID}",
        "Terminal=false",
        "StartupNotify=true",
        f"StartupWMClass={APP_NAME}",  # Qt's X11 window class is the application name
        "Categories=Science;ArtificialIntelligence;",
        "Keywords=Inception;GoogLeNet;CNN;neural network;deep learning;PyTorch;",
    ]
    return "\n".join(lines) + "\n"


def _targets(home: Path) -> dict[Path, Path | None]:
    """Each installed file and the packaged file it is copied from (None: generated)."""
    icons = home / "icons" / "hicolor"
    return {
        home / "applications" / f"{APP_ID}.desktop": None,
        icons / "scalable" / "apps" / f"{APP_ID}.svg": icon_path("svg"),
        icons / "256x256" / "apps" / f"{APP_ID}.png": icon_path("png"),
    }


def install_desktop(home: Path | None = None, argv: list[str] | None = None) -> list[Path]:
    """Write the launcher entry and the icons under ``home`` (default :func:`data_home`); the paths written."""
    home = data_home() if home is None else Path(home)
    written = []
    for target, source in _targets(home).items():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            data = desktop_entry(argv).encode("utf-8") if source is None else source.read_bytes()
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise DesktopError(f"{target}: cannot write it ({exc.strerror or exc})") from None
        written.append(target)
    return written


def uninstall_desktop(home: Path | None = None) -> list[Path]:
    """Remove what :func:`install_desktop` wrote under ``home``; the paths removed."""
    home = data_home() if home is None else Path(home)
    removed = []
    for target in _targets(home):
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopError(f"{target}: cannot remove it ({exc.strerror or exc})") from None
        removed.append(target)
    return removed


def cli_desktop(uninstall: bool = False) -> int:
    """``inception-studio --install-desktop`` / ``--uninstall-desktop``: do it and print the files."""
    if uninstall:
        removed = uninstall_desktop()
        print("\n".join(f"removed {p}" for p in removed) or "nothing to remove: the launcher was not installed")
        return 0
    for p in install_desktop():
        print(f"wrote {p}")
    print(f"{APP_NAME} is in the application menu; it runs {' '.join(launch_command())}")
    return 0
