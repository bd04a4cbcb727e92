"""The document's life on disk: open and save spec files (.json), recent files, the "save changes?"
prompt, and the autosave that lets the next start restore unsaved work after a crash.

Autosave writes ``{"path": <file it came from>, "spec": <spec JSON>}`` to the config folder every
few seconds while there are unsaved changes, and removes it once the work is saved (or undone back
to the saved state). Under CI / INCEPTION_STUDIO_NO_DIALOGS nothing here opens a modal dialog.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..core.presets import get_spec, list_variants
from ..core.spec import ArchSpec
from ..errors import SpecError, StudioError
from . import settings as st
from .derived import summary_of

AUTOSAVE_MS = 4000
SPEC_FILTER = "Inception Studio spec (*.json);;All files (*)"


def read_spec_file(path: str | Path) -> ArchSpec:
    """Load and check a spec file; SpecError naming the file and the reason otherwise."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{p.name}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{p.name}: not a text file") from None
    try:
        spec = ArchSpec.from_json(text)
        summary_of(spec)  # shapes must work out at its input size, or every panel would fail on it
    except StudioError as exc:
        raise SpecError(f"{p.name}: {exc}") from None
    except ValueError as exc:  # bad JSON
        raise SpecError(f"{p.name}: not a valid spec file ({exc})") from None
    return spec


class FileSession(QObject):
    """Open/save/recent/autosave for one SpecDocument inside a window."""

    recentChanged = Signal(list)
    message = Signal(str)  # one line for the status bar

    def __init__(self, document, parent: QWidget, dialogs: bool):
        super().__init__(parent)
        self.document, self.window, self.dialogs = document, parent, dialogs
        # Replaceable for tests: returns "save", "discard" or "cancel".
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()
        document.dirtyChanged.connect(self._on_dirty)

    # ---- open ------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open a spec file (after offering to save changes); False and a message on failure."""
        if not self.maybe_save():
            return False
        try:
            spec = read_spec_file(path)
        except StudioError as exc:
            self.fail(str(exc))
            return False
        self.document.replace_spec(spec, str(Path(path).resolve()))
        self.recentChanged.emit(st.add_recent_file(str(path)))
        self.message.emit(f"Opened {Path(path).name}")
        return True

    def open_dialog(self) -> bool:
        """Ask for a spec file and open it."""
        if not self.dialogs:
            self.message.emit("Open: file dialogs are off (CI / INCEPTION_STUDIO_NO_DIALOGS)")
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Open spec", self._folder(), SPEC_FILTER)
        return self.open_path(path) if path else False

    def open_variant(self, name: str) -> bool:
        """Start over from the preset ``name`` (after offering to save changes)."""
        if not self.maybe_save():
            return False
        self.document.replace_spec(get_spec(name), "")
        self.message.emit(f"{get_spec(name).title}: preset loaded")
        return True

    # ---- save ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current file, or ask for one."""
        return self.write(self.document.path) if self.document.path else self.save_as()

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save to ``path`` (asked for when None)."""
        if path is None:
            if not self.dialogs:
                self.message.emit("Save As: file dialogs are off (CI / INCEPTION_STUDIO_NO_DIALOGS)")
                return False
            suggested = str(Path(self._folder()) / f"{self.document.spec.name}.json")
            path, _ = QFileDialog.getSaveFileName(self.window, "Save spec", suggested, SPEC_FILTER)
            if not path:
                return False
            if not Path(path).suffix:
                path += ".json"
        return self.write(path)

    def write(self, path: str | Path) -> bool:
        """Write the spec JSON atomically to ``path`` and mark the document saved."""
        path = Path(path)
        try:
            st.atomic_write_text(path, self.document.spec.to_json())
        except OSError as exc:
            self.fail(f"{path.name}: cannot save ({exc.strerror or exc})")
            return False
        self.document.mark_saved(str(path.resolve()))
        self.recentChanged.emit(st.add_recent_file(str(path)))
        self.remove_autosave()
        self.message.emit(f"Saved {path.name}")
        return True

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes; True if it is fine to go on (saved, discarded, or no dialogs)."""
        if not self.document.dirty:
            return True
        if not self.dialogs:
            self.autosave_now()  # nobody to ask: keep the work where a restart will offer it back
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.remove_autosave()
            return True
        return False

    def _ask_unsaved(self) -> str:
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"{self.document.spec.title} has unsaved changes. Save them?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        result = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(result), "cancel")

    def _folder(self) -> str:
        recent = st.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def fail(self, text: str) -> None:
        """Report a failure: the status bar always, a (modal) box only when dialogs are allowed."""
        self.message.emit(text)
        if self.dialogs:
            QMessageBox.warning(self.window, "Inception Studio", text)

    # ---- autosave --------------------------------------------------------------------------
    def _on_dirty(self, dirty: bool) -> None:
        if not dirty:
            self.remove_autosave()

    def autosave_now(self) -> bool:
        """Write the autosave now if there are unsaved changes; True if written."""
        if not self.document.dirty:
            return False
        data = {"path": self.document.path, "spec": self.document.spec.to_dict()}
        try:
            st.atomic_write_text(st.autosave_path(), json.dumps(data))
        except OSError as exc:
            self.message.emit(f"autosave failed: {exc.strerror or exc}")
            return False
        return True

    def remove_autosave(self) -> None:
        """Forget the autosave (the work is saved or deliberately discarded)."""
        st.autosave_path().unlink(missing_ok=True)

    @staticmethod
    def pending_autosave() -> Path | None:
        """The autosave left by an earlier session, if any."""
        p = st.autosave_path()
        return p if p.exists() else None

    def restore_autosave(self) -> bool:
        """Bring back autosaved work as an undoable change on top of the file (or preset) it started from."""
        p = self.pending_autosave()
        if p is None:
            self.message.emit("No autosaved spec to restore")
            return False
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            spec = ArchSpec.from_dict(data["spec"])
            summary_of(spec)
        except (OSError, ValueError, KeyError, TypeError, StudioError) as exc:
            self.fail(f"autosave {p.name}: cannot restore ({exc})")
            return False
        origin = data.get("path") or ""
        base = None
        if origin and Path(origin).exists():
            try:
                base = read_spec_file(origin)
            except StudioError:
                origin = ""
        if base is None and spec.name in list_variants():
            base = get_spec(spec.name)
        self.document.replace_spec(base or spec, origin if base is not None else "")
        self.document.apply("Restore autosaved changes", lambda _s: spec)
        self.autosave_now()  # replace_spec() cleared it; keep it until the restored work is saved
        self.message.emit("Restored the autosaved spec (not yet saved)")
        return True
