"""What the app remembers: QSettings (window layout, graph orientation, recent files, theme), in the
config folder (inception_studio.paths, which also holds the autosave and the log).

Set ``INCEPTION_STUDIO_CONFIG_DIR`` to keep everything in that folder (an INI file), so tests and
CI never touch a user's real settings.

On the GUI thread one QSettings object serves the session: a change is kept in memory and Qt writes the
file from the event loop right after the handler that made it (one write for all the changes of a click:
writing costs ~6 ms, and a click used to write two or three times). ``flush()`` writes at once; the
window's close and the interpreter's exit flush. Other threads get an object of their own (QSettings is
not thread-safe).

``CI`` or ``INCEPTION_STUDIO_NO_DIALOGS`` makes the app never block on a modal dialog.
"""
from __future__ import annotations

import atexit
import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QThread

from ...paths import APP_NAME as APPLICATION
from ...paths import CONFIG_ENV, ORGANIZATION, config_dir

NO_DIALOGS_ENV = "INCEPTION_STUDIO_NO_DIALOGS"
MAX_RECENT = 8
AUTOSAVE_NAME = "autosave.json"


_shared: tuple[str, QSettings] | None = None  # (where it stores, the GUI thread's object)


def _make(env: str) -> QSettings:
    if env:
        return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def settings() -> QSettings:
    """The app's QSettings: an INI file in ``INCEPTION_STUDIO_CONFIG_DIR`` when set, else the platform's store."""
    global _shared
    env = os.environ.get(CONFIG_ENV) or ""
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return _make(env)
    if _shared is None or _shared[0] != env:
        flush()
        _shared = (env, _make(env))
    return _shared[1]


@atexit.register
def flush() -> None:
    """Write the settings changed so far now (at close and exit; Qt otherwise writes from the event loop)."""
    if _shared is not None:
        _shared[1].sync()


def dialogs_allowed(flag: bool | None = None) -> bool:
    """Whether the app may open modal dialogs (never under CI or INCEPTION_STUDIO_NO_DIALOGS)."""
    if flag is not None:
        return flag
    return not (os.environ.get("CI") or os.environ.get(NO_DIALOGS_ENV))


def recent_files() -> list[str]:
    """Recently opened or saved spec files, newest first (missing files dropped)."""
    value = settings().value("recentFiles", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [p for p in (value or []) if isinstance(p, str) and Path(p).exists()]


def add_recent_file(path: str) -> list[str]:
    """Put ``path`` at the top of the recent files and return the new list."""
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_files() if p != path]
    items = items[:MAX_RECENT]
    settings().setValue("recentFiles", items)
    return items


def clear_recent_files() -> None:
    """Forget the recent files."""
    settings().remove("recentFiles")


def value(key: str, default=None):
    """A stored setting (``default`` when absent)."""
    return settings().value(key, default)


def set_value(key: str, val) -> None:
    """Store a setting (written from the event loop, see the module docstring)."""
    settings().setValue(key, val)


def autosave_path() -> Path:
    """Where the current spec is autosaved while it has unsaved changes."""
    return config_dir() / AUTOSAVE_NAME


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename, so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
