"""Block editor: every editable number of the spec as a field named by its core.edits path.

Each spin box's objectName is the dotted path it edits (``input_size``, ``width_mult``,
``stage.inception_b.count``, ``stage.inception_b.block.*.branch.1.op.0.width``...), so tests and
scripts find "the count of stage inception_b" by name. A change runs ``document.apply_path`` (an
undoable edit); a rejected edit shows the core's one-line message under the field and the field
returns to the last valid value. The block section edits the block selected in the graph; in a
stage of identical blocks it edits them all (``*``) unless "this block only" is ticked.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.branches import KERNEL_CHOICES, kernel_choice
from ...core.edits import MAX_COUNT, width_path
from ...core.spec import ArchSpec, Stage
from ...errors import StudioError
from ..shared.visible import WhenShown

ERROR_STYLE = "color: #d0342c;"


@dataclass(frozen=True)
class Field:
    """One editable value: its path, widget kind, label, range and current value."""

    path: str
    kind: str  # "int" | "float" | "bool" | "choice" | "text" (a heading row)
    label: str
    value: object = None
    lo: float = 0
    hi: float = 0
    step: float = 1
    choices: tuple[str, ...] = ()
    tip: str = ""

    def key(self) -> tuple:
        """What decides the widget (not its value)."""
        return (self.path, self.kind, self.label, self.lo, self.hi, self.choices)


def locate(spec: ArchSpec, node_id: str) -> tuple[Stage, int | None] | None:
    """(stage, block index) for a selected node; index None for a selected stage."""
    if node_id.startswith("s:"):
        try:
            return spec.stage(node_id[2:]), None
        except Exception:  # noqa: BLE001 - a stale selection after an edit: nothing to edit
            return None
    if not node_id.startswith("b:"):
        return None
    name = node_id.split("/")[0][2:]
    for stage, i, block in spec.iter_blocks():
        if block.name == name:
            return stage, i
    return None


def network_fields(spec: ArchSpec) -> list[Field]:
    """The network-wide settings."""
    fields = [
        Field("input_size", "int", "Input size (px)", spec.input_size, 1, 4096, tip="Square input side in pixels"),
        Field("in_channels", "int", "Input channels", spec.in_channels, 1, 64, tip="3 for RGB, 1 for grey"),
        Field("num_classes", "int", "Classes", spec.num_classes, 1, 100_000),
        Field("width_mult", "float", "Width multiplier", spec.width_mult, 0.05, 16, 0.05,
              tip="Every conv width relative to the preset (1.0 = as published)"),
        Field("dropout", "float", "Head dropout", spec.head.dropout, 0, 0.99, 0.05),
        Field("bn", "bool", "Batch norm", spec.bn),
    ]
    if spec.aux:
        fields.append(Field("aux", "bool", "Aux heads", spec.aux_enabled, tip="Auxiliary classifiers (training only)"))
    residual = [b for _, _, b in spec.iter_blocks() if b.kind == "residual"]
    if residual:
        fields.append(Field("residual_scale", "float", "Residual scale (all)", residual[0].scale, 0.01, 10, 0.05,
                            tip="Scale of the residual branch sum in every residual block"))
    return fields


def stage_fields(spec: ArchSpec) -> list[Field]:
    """Block counts of the repeatable stages (and residual scales per stage)."""
    out = []
    for st in spec.stages:
        if st.repeatable:
            out.append(Field(f"stage.{st.name}.count", "int", f"{st.label} ×", st.count, 0, MAX_COUNT,
                             tip=f"Number of {st.label} blocks"))
        if st.blocks and all(b.kind == "residual" for b in st.blocks):
            out.append(Field(f"stage.{st.name}.scale", "float", f"{st.label} scale", st.blocks[0].scale, 0.01, 10, 0.05))
    return out


def block_fields(stage: Stage, index: int | None, star: bool) -> list[Field]:
    """Widths, kernels and scale of one block (``star``: of every block in the stage)."""
    block = stage.blocks[index or 0]
    bi = None if star else index
    b = "*" if bi is None else str(bi)
    out: list[Field] = []
    if block.kind == "residual":
        out.append(Field(f"stage.{stage.name}.block.{b}.scale", "float", "Residual scale", block.scale, 0.01, 10, 0.05))
    for j, br in enumerate(block.branches):
        title = f"branch {j}" + (f" ({br.role})" if br.role else "") if block.kind != "seq" else "layers"
        out.append(Field(f"#branch{j}", "text", title))
        if kernel_choice(br) is not None:
            out.append(Field(f"stage.{stage.name}.block.{b}.branch.{j}.kernel", "choice", "kernel", kernel_choice(br),
                             choices=KERNEL_CHOICES, tip="Same receptive field as one nxn conv, stacked 3x3 convs, "
                                                         "or 1xn then nx1"))
        for k, op in enumerate(br.ops):
            if op.is_conv:
                out.append(Field(width_path(stage.name, bi, j, k), "int", f"{op.kind} {op.kernel_text}", op.out, 1, 16384))
        for f, tail in enumerate(br.fork):
            for k, op in enumerate(tail):
                if op.is_conv:
                    out.append(Field(width_path(stage.name, bi, j, k, fork=f), "int", f"  ↳ {op.kind} {op.kernel_text}",
                                     op.out, 1, 16384))
    return out


class BlockEditor(QScrollArea):
    """Edits the document's spec through core.edits paths (objectName ``blockEditor``)."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("blockEditor")
        self.setWidgetResizable(True)
        self.document = document
        self.only = False  # "this block only" for the current selection
        self._selection = ""
        self._key: tuple = ()
        self.widgets: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.banner: QLabel | None = None
        self.only_box: QCheckBox | None = None
        self._update = WhenShown(self, self.refresh)  # in another workspace: catches up when shown
        document.specChanged.connect(lambda _s: (self.clear_errors(), self._update()))
        document.selectionChanged.connect(self._on_selection)
        document.editFailed.connect(self.show_error)
        document.editUnchanged.connect(self.show_unchanged)
        self._keys = UndoKeys(self)
        self.refresh()

    # ---- model -> fields -------------------------------------------------------------------
    def _sections(self) -> list[tuple[str, list[Field], bool]]:
        spec = self.document.spec
        tail = [("Stages", stage_fields(spec), False), ("Network", network_fields(spec), False)]
        where = locate(spec, self.document.selection)
        if where is None or not where[0].blocks:
            hint = Field("#hint", "text", "Select a block or a stage in the graph to edit its branch widths and kernels.")
            return [("Block", [hint], False)] + tail
        stage, index = where
        if index is None:
            title, star, offer = f"{stage.label}: all {stage.count} blocks", True, False
        else:
            block = stage.blocks[index]
            identical = stage.count > 1 and all(other.structure == block.structure for other in stage.blocks)
            star = identical and not self.only
            title = f"{block.label}" + (f" (all {stage.count} identical blocks of {stage.label})" if star else "")
            offer = identical
        return [(title, block_fields(stage, index, star), offer)] + tail

    def refresh(self, clear_errors: bool = False) -> None:
        """Show the current spec's values; rebuild the fields only if their set changed."""
        sections = self._sections()
        key = tuple((tuple(f.key() for f in fs), offer) for _t, fs, offer in sections)
        if key != self._key:
            self._build(sections)
            self._key = key
        else:  # same fields: show the new values (and titles) in place, keeping focus where it is
            for box, (title, fields, _) in zip(self.boxes, sections):
                box.setTitle(title)
                for f in fields:
                    self._set_value(f)
        if clear_errors:
            self.clear_errors()

    def _on_selection(self, node_id: str) -> None:
        if node_id.split("/")[0] != self._selection.split("/")[0]:
            self.only = False
        self._selection = node_id
        self._update()

    # ---- widgets ---------------------------------------------------------------------------
    def _build(self, sections) -> None:
        old = self.takeWidget()
        if old is not None:
            old.setParent(None)  # out of the window's tree now (findChild must not see stale fields)
            old.deleteLater()  # ...and deleted later: we may be inside one of its signal handlers
        self.widgets, self.errors = {}, {}
        root = QWidget()
        root.setObjectName("blockEditorFields")
        lay = QVBoxLayout(root)
        self.banner = QLabel()
        self.banner.setObjectName("editError")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.hide()
        lay.addWidget(self.banner)
        self.only_box = None
        self.boxes: list[QGroupBox] = []
        for title, fields, offer in sections:
            box = QGroupBox(title)
            self.boxes.append(box)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            if offer:
                self.only_box = QCheckBox("this block only")
                self.only_box.setObjectName("thisBlockOnly")
                self.only_box.setToolTip("Unticked: a change applies to every identical block of the stage (*)")
                self.only_box.setChecked(self.only)
                self.only_box.toggled.connect(self._on_only)
                form.addRow(self.only_box)
            for f in fields:
                self._add_field(form, f)
            lay.addWidget(box)
        lay.addStretch(1)
        self.setWidget(root)

    def _add_field(self, form: QFormLayout, f: Field) -> None:
        if f.kind == "text":
            lab = QLabel(f"<b>{f.label}</b>" if f.path.startswith("#branch") else f.label)
            lab.setWordWrap(True)
            form.addRow(lab)
            return
        if f.kind == "int":
            w = QSpinBox()
            w.setRange(int(f.lo), int(f.hi))
            w.setKeyboardTracking(False)  # apply on Enter / arrows / focus-out, not per keystroke
            w.valueChanged.connect(lambda v, p=f.path: self._apply(p, int(v)))
        elif f.kind == "float":
            w = QDoubleSpinBox()
            w.setDecimals(3)
            w.setRange(f.lo, f.hi)
            w.setSingleStep(f.step)
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, p=f.path: self._apply(p, round(float(v), 6)))
        elif f.kind == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda v, p=f.path: self._apply(p, bool(v)))
        else:
            w = QComboBox()
            w.addItems(list(f.choices))
            w.activated.connect(lambda i, p=f.path, c=f.choices: self._apply(p, c[i]))
        w.setObjectName(f.path)
        w.installEventFilter(self._keys)  # Ctrl+Z / Ctrl+Shift+Z undo the spec, not the field's text
        if isinstance(w, QAbstractSpinBox):
            w.lineEdit().installEventFilter(self._keys)
        w.setToolTip(f"{f.tip}\n{f.path}" if f.tip else f.path)
        self.widgets[f.path] = w
        self._set_value(f)
        err = QLabel()
        err.setObjectName(f"error:{f.path}")
        err.setWordWrap(True)
        err.setStyleSheet(ERROR_STYLE)
        err.hide()
        self.errors[f.path] = err
        col = QWidget()
        v = QVBoxLayout(col)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        v.addWidget(w)
        v.addWidget(err)
        form.addRow(f.label, col)

    def _set_value(self, f: Field) -> None:
        w = self.widgets.get(f.path)
        if w is None:
            return
        w.blockSignals(True)  # showing a value is not an edit
        if isinstance(w, QSpinBox):
            w.setValue(int(f.value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(f.value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(f.value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(f.choices.index(f.value) if f.value in f.choices else -1)
        w.blockSignals(False)

    # ---- edits and errors ------------------------------------------------------------------
    def _apply(self, path: str, value) -> None:
        self.document.apply_path(path, value)

    def _on_only(self, on: bool) -> None:
        self.only = on
        self.refresh()

    def show_error(self, path: str, message: str) -> None:
        """Show a rejected edit's message next to its field (and on top), and restore the field."""
        if self.banner is not None:
            self.banner.setText(message)
            self.banner.show()
        err = self.errors.get(path)
        if err is not None:
            err.setText(message)
            err.show()
        for _, fields, _ in self._sections():  # back to the last valid value
            for f in fields:
                if f.path == path:
                    self._set_value(f)

    def show_unchanged(self, path: str, message: str) -> None:
        """An edit left the spec as it was: say why next to its field, and show the field's real value."""
        self.show_error(path, kernel_note(self.document.spec, path) or f"{path}: {message}")

    def clear_errors(self) -> None:
        """Hide every error message."""
        if self.banner is not None:
            self.banner.hide()
        for err in self.errors.values():
            err.hide()

    def error_text(self, path: str | None = None) -> str:
        """The message shown for ``path`` (or the banner), "" when none is shown."""
        lab = self.banner if path is None else self.errors.get(path)
        return lab.text() if lab is not None and not lab.isHidden() else ""

    def field(self, path: str) -> QWidget | None:
        """The widget editing ``path`` (None if not shown)."""
        return self.widgets.get(path)


def kernel_note(spec: ArchSpec, path: str) -> str:
    """Why a kernel choice changed nothing: the branch's field is 3x3, so one 3x3 is the only way to build it."""
    parts = path.split(".")
    if len(parts) != 7 or parts[0] != "stage" or parts[-1] != "kernel":
        return ""
    try:
        stage = spec.stage(parts[1])
        block = stage.blocks[0 if parts[3] == "*" else int(parts[3])]
        branch = block.branches[int(parts[5])]
    except (ValueError, IndexError, StudioError):
        return ""
    spatial = [op for op in branch.ops if op.kind == "conv" and op.k != (1, 1)]
    n = 1 + sum(op.k[0] - 1 for op in spatial)
    if n != 3:
        return ""
    name = f" (the paper's \"{branch.role}\" column)" if branch.role else ""
    return (f"This branch{name} covers a 3x3 field: stacked 3x3 convolutions or 1x3 + 3x1 of a 3x3 field are "
            "the single 3x3 it already has — nothing changed. Widen the field by editing a 5x5 or 7x7 branch.")


class UndoKeys(QObject):
    """Event filter for editor fields: undo/redo keys reach the window's Undo/Redo (the spec's history)
    unless the field holds typed text not yet applied, which its own undo takes back first."""

    SEQUENCES = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            redo = QKeySequence(event.keyCombination()) in (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))
            if (redo or any(event.matches(k) for k in self.SEQUENCES)) and not _typing(obj):
                event.ignore()  # not the field's: the window's shortcut fires
                return True
        return False


def _typing(w) -> bool:
    """Whether ``w`` (a field or its line edit) shows text that differs from its applied value."""
    box = w.parentWidget() if isinstance(w, QLineEdit) and isinstance(w.parentWidget(), QAbstractSpinBox) else w
    if isinstance(box, QAbstractSpinBox):
        return box.text() != box.textFromValue(box.value())
    return False
