"""The document's life on disk: open and save spec files (.json), recent files, the "save changes?"
prompt, and the autosave that lets the next start restore unsaved work after a crash.

Autosave writes ``{"path": <file it came from>, "spec": <spec JSON>}`` every few seconds while there
are unsaved changes that it has not written yet, to a file of this instance and document
(gui/shared/autosave.py), and removes it once the work is saved (or undone back to the saved state). The
timer's writes (each with an fsync: 5-40 ms) go on a thread of their own, never the GUI thread's. Only
the autosaves of instances that are gone are offered back. Spec files are read through core.spec_json
(regular files of bounded size, every field checked). Under CI / INCEPTION_STUDIO_NO_DIALOGS nothing here
opens a modal dialog.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ...core.files import read_limited
from ...core.identity import base_preset
from ...core.names import printable, safe_filename
from ...core.presets import get_spec
from ...core.spec import ArchSpec
from ...core.spec import read_spec_file as read_spec_json
from ...core.spec_json import MAX_SPEC_BYTES, parse_json
from ...errors import SpecError, StudioError
from . import settings as st
from .autosave import AutosaveStore
from .derived import summary_of

AUTOSAVE_MS = 4000
SPEC_FILTER = "Inception Studio spec (*.json);;All files (*)"


def read_spec_file(path: str | Path) -> ArchSpec:
    """Load and check a spec file (bounded, every field checked); SpecError naming the file and the reason."""
    spec = read_spec_json(path)
    try:
        summary_of(spec)  # shapes must work out at its input size, or every panel would fail on it
    except StudioError as exc:
        raise SpecError(f"{printable(Path(path).name, 80)}: {exc}") from None
    return spec


class FileSession(QObject):
    """Open/save/recent/autosave for one SpecDocument inside a window."""

    recentChanged = Signal(list)
    message = Signal(str)  # one line for the status bar
    _autosaveFailed = Signal(str)  # from the writer thread

    def __init__(self, document, parent: QWidget, dialogs: bool):
        super().__init__(parent)
        self.document, self.window, self.dialogs = document, parent, dialogs
        self.store = AutosaveStore()
        # Replaceable for tests: returns "save", "discard" or "cancel".
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self._autosave_later)
        self.timer.start()
        self._written: tuple | None = None  # (file, spec, its path) of the last autosave
        self._writer: threading.Thread | None = None
        self._autosaveFailed.connect(self.message)
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
        self._adopt(spec, path)
        self.message.emit(f"Opened {printable(Path(path).name, 80)}")
        return True

    def open_paths(self, paths: list[str | Path]) -> bool:
        """Open the first of several spec files that reads; one message names the others and every failure.

        The window holds one spec: the rest are not opened, and a failure leaves the current spec as it was.
        """
        if len(paths) == 1:
            return self.open_path(paths[0])
        errors: list[str] = []
        for i, path in enumerate(paths):
            try:
                spec = read_spec_file(path)
            except StudioError as exc:
                errors.append(str(exc))
                continue
            if not self.maybe_save():
                return False
            self._adopt(spec, path)
            text = f"Opened {printable(Path(path).name, 80)}"
            if rest := [printable(Path(p).name, 80) for p in paths[i + 1:]]:
                text += f"; not opened (the window holds one spec): {', '.join(rest)}"
            if errors:
                self.fail("; ".join([text, *errors]))
            else:
                self.message.emit(text)
            return True
        self.fail("; ".join(["No dropped spec opened", *errors]))
        return False

    def _adopt(self, spec: ArchSpec, path: str | Path) -> None:
        self.store.new_document()  # the work left in the previous document keeps its own autosave
        self.document.replace_spec(spec, str(Path(path).resolve()))
        self.recentChanged.emit(st.add_recent_file(str(path)))

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
        self.store.new_document()
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
            suggested = str(Path(self._folder()) / f"{safe_filename(self.document.spec.name)}.json")
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

    def _autosave_text(self) -> str:
        return json.dumps({"path": self.document.path, "spec": self.document.spec.to_dict()})

    def autosave_now(self) -> bool:
        """Write this document's autosave now if there are unsaved changes; True if written."""
        self._wait_for_writer()
        if not self.document.dirty:
            return False
        text = self._autosave_text()
        try:
            self.store.write(text)
        except OSError as exc:
            self.message.emit(f"autosave failed: {exc.strerror or exc}")
            return False
        self._written = (self.store.current, self.document.spec, self.document.path)
        return True

    def _autosave_later(self) -> None:
        """The timer's autosave: only what changed since the last one (a spec is a new object after each change:
        no serialising to find out, ~6 ms for Inception-ResNet-v2), written on a thread of its own."""
        if not self.document.dirty or (self._writer is not None and self._writer.is_alive()):
            return
        what = (self.store.current, self.document.spec, self.document.path)
        if self._written is not None and all(a is b or a == b for a, b in zip(what, self._written)):
            return
        path, text = what[0], self._autosave_text()

        def write() -> None:
            try:
                self.store.write(text, path)
            except OSError as exc:
                self._autosaveFailed.emit(f"autosave failed: {exc.strerror or exc}")
        self._written = what
        self._writer = threading.Thread(target=write, name="autosave", daemon=True)
        self._writer.start()

    def _wait_for_writer(self) -> None:
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def remove_autosave(self) -> None:
        """Forget this document's autosave (the work is saved or deliberately discarded)."""
        self._wait_for_writer()
        self._written = None
        self.store.remove()

    def close(self) -> None:
        """The window closes: stop autosaving; what is left becomes the next start's to offer."""
        self.timer.stop()
        self._wait_for_writer()
        self.store.release()

    def pending_autosave(self) -> Path | None:
        """The newest autosave left by an instance that is gone (a running one's never), if any."""
        orphans = self.store.orphans()
        return orphans[0] if orphans else None

    def discard_autosave(self, path: Path) -> None:
        """Delete an orphaned autosave (claimed first, so a file another instance took is left to it)."""
        claimed = self.store.claim(path)
        if claimed is not None:
            claimed.unlink(missing_ok=True)

    def restore_autosave(self, path: Path | None = None) -> bool:
        """Bring back autosaved work as an undoable change on top of the file (or preset) it started from."""
        p = path or self.pending_autosave()
        claimed = self.store.claim(p) if p is not None else None
        if claimed is None:
            self.message.emit("No autosaved spec to restore")
            return False
        try:
            data = parse_json(read_limited(claimed, MAX_SPEC_BYTES), "autosave")
            if not isinstance(data, dict) or not isinstance(data.get("path", ""), str):
                raise SpecError("autosave: not an autosave file")
            spec = ArchSpec.from_dict(data.get("spec"))
            summary_of(spec)
        except (OSError, StudioError) as exc:
            kept = self.store.set_aside(claimed)
            self.fail(f"autosave: cannot restore ({printable(str(exc), 160)}); kept as {kept.name}")
            return False
        origin = data.get("path") or ""
        base = None
        if origin and Path(origin).is_file():
            try:
                base = read_spec_file(origin)
            except StudioError:
                origin = ""
        if base is None:
            base = base_preset(spec)  # the preset it is, or was edited from
        self.document.replace_spec(base or spec, origin if base is not None else "")
        self.document.apply("Restore autosaved changes", lambda _s: spec)
        self.autosave_now()  # replace_spec() cleared it; keep it until the restored work is saved
        self.message.emit("Restored the autosaved spec (not yet saved)")
        return True
