"""Where the app keeps its files on this machine: the config folder (settings, autosave, the log) and the
cache folder (demo data, ONNX exports), plus the XDG data folder the desktop launcher is written to.

``INCEPTION_STUDIO_CONFIG_DIR`` and ``INCEPTION_STUDIO_CACHE_DIR`` move them (the tests do, so that a run
never touches a user's real files). Without them the config folder is where Qt keeps the app's settings
on Linux (``$XDG_CONFIG_HOME/InceptionStudio/Inception Studio``). No Qt, no torch.
"""
from __future__ import annotations

import os
from pathlib import Path

ORGANIZATION = "InceptionStudio"
APP_NAME = "Inception Studio"
CONFIG_ENV = "INCEPTION_STUDIO_CONFIG_DIR"
CACHE_ENV = "INCEPTION_STUDIO_CACHE_DIR"
LOG_NAME = "inception-studio.log"


def _xdg(variable: str, default: str, environ: dict[str, str] | None = None) -> Path:
    """An XDG base folder: ``$variable`` when it is an absolute path, else ``~/<default>``."""
    env = os.environ if environ is None else environ
    value = env.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / default


def config_dir(create: bool = True) -> Path:
    """The folder for settings, the autosave and the log (created unless ``create`` is False)."""
    env = os.environ.get(CONFIG_ENV)
    path = Path(env).expanduser() if env else _xdg("XDG_CONFIG_HOME", ".config") / ORGANIZATION / APP_NAME
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """The app's cache folder: $INCEPTION_STUDIO_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /inception_studio."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "inception_studio"


def log_file() -> Path:
    """The log file of the CLI and the app (rotated; see inception_studio.logs), in the config folder."""
    return config_dir(create=False) / "logs" / LOG_NAME


def data_home(environ: dict[str, str] | None = None) -> Path:
    """The user's XDG data folder: ``$XDG_DATA_HOME`` when it is an absolute path, else ~/.local/share."""
    return _xdg("XDG_DATA_HOME", os.path.join(".local", "share"), environ)
