"""The log: every module logs through standard ``logging`` under the "inception_studio" logger.

A library user (a notebook) sees nothing unless they configure logging themselves. The CLI and the app
call :func:`setup` once: it sends INFO and above (DEBUG with ``verbose``) to a rotating file in the
config folder (``paths.log_file()``, 1 MiB x 4) and, with ``verbose``, DEBUG to stderr as well.

Errors a user can act on (``StudioError``) stay one line and need no traceback. Anything else is a bug
or an environment problem: :func:`log_unexpected` logs it with its traceback and returns the one line
to show, which names the log file. No Qt.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path

from .errors import one_line
from .paths import log_file

LOGGER = "inception_studio"
MAX_BYTES = 1 << 20
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"

_ours: list[logging.Handler] = []
_file: Path | None = None


class _Stderr(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    @property
    def stream(self):  # noqa: D401 - the logging API's attribute
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup(verbose: bool = False) -> Path | None:
    """Log to the rotating file (and with ``verbose`` DEBUG to stderr); returns the file, None when unwritable.

    Calling it again replaces what an earlier call set up. In a distributed run only rank 0 writes the file.
    """
    global _file
    logger = logging.getLogger(LOGGER)
    for handler in _ours:
        logger.removeHandler(handler)
        handler.close()
    _ours.clear()
    logger.setLevel(logging.DEBUG)
    _file = None
    if os.environ.get("RANK", "0") == "0":
        path = log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                           encoding="utf-8", delay=True)
        except OSError:
            handler = None  # a read-only home: the app still runs, it just keeps no log
        if handler is not None:
            handler.setLevel(logging.DEBUG if verbose else logging.INFO)
            handler.setFormatter(logging.Formatter(FILE_FORMAT))
            _ours.append(handler)
            _file = path
    if verbose:
        stderr = _Stderr()
        stderr.setLevel(logging.DEBUG)
        stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
        _ours.append(stderr)
    for handler in _ours:
        logger.addHandler(handler)
    return _file


def current_file() -> Path | None:
    """The log file :func:`setup` writes to (None before it ran, or when it could not open one)."""
    return _file


def traceback_text(exc: BaseException) -> str:
    """The full traceback of ``exc`` as text (what a "Details…" dialog shows)."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def log_unexpected(exc: BaseException, what: str = "") -> str:
    """Log ``exc`` with its traceback and return the one line for the user, naming the log file when there is one."""
    logging.getLogger(LOGGER).error("%s: unexpected error", what or "inception-studio",
                                    exc_info=(type(exc), exc, exc.__traceback__))
    line = one_line(exc)
    return f"{line} (details in {_file})" if _file is not None else line
