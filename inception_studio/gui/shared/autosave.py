"""Autosave files: one per running instance and per document, offered back only when their instance is gone.

Each window's session is an *instance* (process id + a random tag). While it runs it holds a
``QLockFile`` ``autosave/<instance>.lock`` and writes each document's unsaved work to
``autosave/<instance>.<document>.json``, so two running instances never write the same file, and a
document opened after another does not overwrite the first one's unsaved work. A starting instance
offers back only files whose instance no longer holds its lock (it crashed, was killed, or closed
leaving work for the next start); it *claims* one by renaming it to a name of its own before
restoring or discarding it, so two instances starting together never take the same file. A live
instance's files are never offered, moved or deleted by another.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from PySide6.QtCore import QLockFile

from . import settings as st

LEGACY_NAME = "autosave.json"  # the single file earlier versions wrote: an orphan of no instance


class AutosaveStore:
    """The autosave files of one instance, and the orphans of instances that are gone."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else st.config_dir() / "autosave"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.instance = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._lock = QLockFile(str(self.folder / f"{self.instance}.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self.locked = self._lock.tryLock(0)
        self._doc = 1

    # ---- this instance's files -------------------------------------------------------------
    @property
    def current(self) -> Path:
        """The autosave file of the document open now."""
        return self.folder / f"{self.instance}.{self._doc}.json"

    def new_document(self) -> None:
        """A different document is about to be opened: its work goes to a file of its own."""
        self._doc += 1

    def write(self, text: str, path: Path | None = None) -> None:
        """Write the current document's autosave (atomically); ``path``: a ``current`` taken earlier."""
        st.atomic_write_text(path or self.current, text)

    def remove(self) -> None:
        """Forget the current document's autosave (saved, discarded, or undone to the saved state)."""
        self.current.unlink(missing_ok=True)

    def release(self) -> None:
        """This instance ends: its remaining autosaves become orphans for the next start to offer."""
        if self.locked:
            self._lock.unlock()
            self.locked = False

    # ---- other instances' files ------------------------------------------------------------
    def _alive(self, instance: str) -> bool:
        if instance == self.instance:
            return True
        lock = QLockFile(str(self.folder / f"{instance}.lock"))
        lock.setStaleLockTime(0)
        if lock.tryLock(0):  # nobody holds it (a dead process's lock is stale and removed): gone
            lock.unlock()
            return False
        return True

    def orphans(self) -> list[Path]:
        """Autosaves of instances that are gone, newest first (never a running instance's)."""
        found: list[tuple[int, Path]] = []
        candidates = list(self.folder.glob("*.json"))
        legacy = self.folder.parent / LEGACY_NAME
        if legacy.is_file():
            candidates.append(legacy)
        alive: dict[str, bool] = {}
        for f in candidates:
            instance = "" if f == legacy else f.name.split(".")[0]
            if instance and alive.setdefault(instance, self._alive(instance)):
                continue
            with contextlib.suppress(OSError):
                found.append((f.stat().st_mtime_ns, f))
        return [f for _, f in sorted(found, key=lambda t: t[0], reverse=True)]

    def claim(self, orphan: Path) -> Path | None:
        """Make ``orphan`` this instance's next document file (None if another instance took it first,
        or if it belongs to an instance that is still running)."""
        instance = "" if orphan.name == LEGACY_NAME else orphan.name.split(".")[0]
        if instance and self._alive(instance):
            return None
        self.new_document()
        try:
            os.rename(orphan, self.current)  # atomic: of two instances, one wins and the other gets an error
        except OSError:
            return None
        return self.current

    def set_aside(self, path: Path) -> Path:
        """Keep an unreadable autosave out of the way (never offered again, never deleted)."""
        target = path.with_name(path.name + ".unreadable")
        with contextlib.suppress(OSError):
            os.replace(path, target)
        return target
