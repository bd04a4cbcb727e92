"""SpecDocument: the one object every widget binds to — the current spec, its undo stack, the
selection, the file it came from, and the model built from it (for inference and training).

Edits are pure functions ``spec -> spec`` from core.edits; the document runs them, pushes the
result on a QUndoStack (undo = the previous spec), and reports a SpecError instead of applying it.
Every spec it holds says truthfully what it is (core.identity: an edited preset is "<name>_edited").
An edit that changes nothing is reported too (``editUnchanged``), never silently dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from ...core import edits
from ...core.identity import with_identity
from ...core.spec import ArchSpec
from ...errors import StudioError

if TYPE_CHECKING:  # torch loads after the window opens: the model's record is only named here
    from ...engine.building import BuiltModel


class _SpecCommand(QUndoCommand):
    """One undoable change of spec."""

    def __init__(self, doc: SpecDocument, old: ArchSpec, new: ArchSpec, text: str):
        super().__init__(text)
        self._doc, self._old, self._new = doc, old, new

    def redo(self) -> None:
        self._doc._set(self._new)

    def undo(self) -> None:
        self._doc._set(self._old)


class SpecDocument(QObject):
    """Current spec + undo stack + selection + file + loaded model, with change signals."""

    specChanged = Signal(object)  # ArchSpec
    selectionChanged = Signal(str)  # graph node id, "" for none
    editFailed = Signal(str, str)  # path (or edit name), one-line message
    editUnchanged = Signal(str, str)  # path (or edit name), why the spec is the same after it
    dirtyChanged = Signal(bool)
    pathChanged = Signal(str)
    modelChanged = Signal(object)  # engine.building.BuiltModel | None

    def __init__(self, spec: ArchSpec, parent: QObject | None = None):
        super().__init__(parent)
        self._spec = spec
        self._selection = ""
        self._path = ""
        self._model: BuiltModel | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirtyChanged.emit(not clean)

    # ---- spec ------------------------------------------------------------------------------
    @property
    def spec(self) -> ArchSpec:
        """The current (always valid) spec."""
        return self._spec

    def _set(self, spec: ArchSpec) -> None:
        self._spec = spec
        self.specChanged.emit(spec)

    def apply(self, text: str, fn: Callable[[ArchSpec], ArchSpec], key: str = "") -> bool:
        """Run an edit; on success push it (undoable) and return True, else emit editFailed."""
        try:
            new = with_identity(fn(self._spec))
        except StudioError as exc:
            self.editFailed.emit(key or text, str(exc))
            return False
        if new == self._spec:
            self.editUnchanged.emit(key or text, "nothing changed: the spec already is that")
            return True
        self.undo_stack.push(_SpecCommand(self, self._spec, new, text))
        return True

    def apply_path(self, path: str, value) -> bool:
        """Apply the edit named by a dotted path (core.edits.apply_edit)."""
        return self.apply(f"{path} = {value}", lambda s: edits.apply_edit(s, path, value), key=path)

    def replace_spec(self, spec: ArchSpec, path: str = "", text: str = "Open") -> None:
        """Start over with a new spec (a variant chosen, a file opened): clears history."""
        self.undo_stack.clear()
        self._path = path
        self._set(with_identity(spec))
        self.undo_stack.setClean()
        self.pathChanged.emit(path)
        self.dirtyChanged.emit(False)
        self.select("")

    # ---- file ------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The file this spec was opened from or saved to ("" if none)."""
        return self._path

    @property
    def dirty(self) -> bool:
        """True when there are changes since open/save."""
        return not self.undo_stack.isClean()

    def mark_saved(self, path: str) -> None:
        """Record a save to ``path``."""
        self._path = path
        self.undo_stack.setClean()
        self.pathChanged.emit(path)

    # ---- selection -------------------------------------------------------------------------
    @property
    def selection(self) -> str:
        """Selected graph node id ("" for none)."""
        return self._selection

    def select(self, node_id: str) -> None:
        """Select a graph node (emits selectionChanged when it changes)."""
        if node_id != self._selection:
            self._selection = node_id
            self.selectionChanged.emit(node_id)

    # ---- model -----------------------------------------------------------------------------
    @property
    def model(self) -> BuiltModel | None:
        """The model built for inference or installed by training, if any (the engine's BuiltModel)."""
        return self._model

    def set_model(self, loaded: BuiltModel | None) -> None:
        """Install a built model (or None) and tell the panels."""
        self._model = loaded
        self.modelChanged.emit(loaded)
