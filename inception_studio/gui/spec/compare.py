"""Compare the current spec (A) with another (B: a preset, or a spec file): totals, per-stage deltas,
and the blocks that differ highlighted in both graphs (A in the main view, B in this panel).

:func:`diff_specs` is pure (no Qt): blocks are matched by name, and a block differs when it is
missing on the other side or its structure (kind, branches, widths, scale) is not the same.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.analysis import human
from ...core.identity import base_preset
from ...core.memory import format_bytes
from ...core.presets import list_variants
from ...core.spec import ArchSpec
from ..shared.derived import preset, summary_of
from ..graph.view import GraphView

TRAIN_BATCH = 32


@dataclass(frozen=True)
class StageDelta:
    """One stage on both sides (0 where a side lacks it)."""

    name: str
    label: str
    count_a: int
    count_b: int
    params_a: int
    params_b: int
    macs_a: int
    macs_b: int


@dataclass(frozen=True)
class SpecDiff:
    """What differs between two specs."""

    blocks_a: frozenset[str]  # graph ids (b:<name>) of A's blocks that differ from B
    blocks_b: frozenset[str]
    stages: tuple[StageDelta, ...]
    totals: tuple[tuple[str, int, int], ...]  # (what, A, B)


def diff_specs(a: ArchSpec, b: ArchSpec) -> SpecDiff:
    """Blocks that differ (by name and structure), per-stage and total deltas of A vs B."""
    blocks_a = {blk.name: blk for _, _, blk in a.iter_blocks()}
    blocks_b = {blk.name: blk for _, _, blk in b.iter_blocks()}
    da = frozenset(f"b:{n}" for n, blk in blocks_a.items() if n not in blocks_b or blocks_b[n].structure != blk.structure)
    db = frozenset(f"b:{n}" for n, blk in blocks_b.items() if n not in blocks_a or blocks_a[n].structure != blk.structure)
    sa, sb = summary_of(a), summary_of(b)
    st_a = {s.name: s for s in sa.stages}
    st_b = {s.name: s for s in sb.stages}
    names = [s.name for s in sa.stages] + [s.name for s in sb.stages if s.name not in st_a]
    stages = []
    for n in names:
        x, y = st_a.get(n), st_b.get(n)
        label = (x or y).label
        stages.append(StageDelta(n, label, x.count if x else 0, y.count if y else 0, x.params if x else 0,
                                 y.params if y else 0, x.macs if x else 0, y.macs if y else 0))
    totals = (
        ("params", sa.params_main, sb.params_main),
        ("multiply-adds", sa.macs, sb.macs),
        ("memory, inference (batch 1)", sa.memory_bytes(1), sb.memory_bytes(1)),
        (f"memory, training (batch {TRAIN_BATCH})", sa.memory_bytes(TRAIN_BATCH, True), sb.memory_bytes(TRAIN_BATCH, True)),
        ("blocks", sum(1 for _ in a.iter_blocks()), sum(1 for _ in b.iter_blocks())),
    )
    return SpecDiff(da, db, tuple(stages), totals)


def _fmt(what: str, v: int) -> str:
    if what.startswith("memory"):
        return format_bytes(v)
    return str(v) if what == "blocks" else human(v)


def _delta(what: str, a: int, b: int) -> str:
    d = a - b
    sign = "+" if d > 0 else "−" if d < 0 else "±"
    mag = format_bytes(abs(d)) if what.startswith("memory") else (str(abs(d)) if what == "blocks" else human(abs(d)))
    pct = f" ({100.0 * d / b:+.1f}%)" if b else ""
    return f"{sign}{mag}{pct}"


def _item(text: str, right: bool = True) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


class ComparePanel(QWidget):
    """Side-by-side comparison of the document's spec with a preset or a spec file (objectName ``comparePanel``)."""

    openFileRequested = Signal()  # the user picked "Open spec file…" in the combo

    def __init__(self, document, main_view: GraphView | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("comparePanel")
        self.document, self.main_view = document, main_view
        self.other: ArchSpec | None = None
        self.other_label = ""
        self.diff: SpecDiff | None = None
        self.active = True
        self._shown_b: ArchSpec | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare with:"))
        self.combo = QComboBox()
        self.combo.setObjectName("compareWith")
        self.combo.addItem("the preset it came from", "")
        for v in list_variants():
            self.combo.addItem(self._preset(v).title, v)
        self.combo.addItem("Open spec file…", "__file__")
        self.combo.activated.connect(self._on_combo)
        # long preset titles must not make the panel (and the window's bottom row) wider than the screen
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        top.addWidget(self.combo, 1)
        self.highlight = QCheckBox("highlight differences")
        self.highlight.setObjectName("compareHighlight")
        self.highlight.setChecked(True)
        self.highlight.toggled.connect(lambda _on: self._mark())
        top.addWidget(self.highlight)
        self.summary = QLabel()
        self.summary.setObjectName("compareSummary")
        self.summary.setWordWrap(True)
        self.totals = self._table("compareTotals", ["", "A (current)", "B", "A − B"])
        self.stages = self._table("compareStages", ["stage", "blocks A", "blocks B", "params A", "params B", "Δ params",
                                                    "mult-adds A", "mult-adds B", "Δ mult-adds"])
        self.graph_b = GraphView(None, object_name="compareGraph")
        self.graph_b.setToolTip("B: blocks that differ from A are outlined (dashed orange)")
        self.graph_b_title = QLabel()
        tables = QWidget()
        tl = QVBoxLayout(tables)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(top)
        tl.addWidget(self.summary)
        tl.addWidget(self.totals)
        tl.addWidget(self.stages, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.graph_b_title)
        rl.addWidget(self.graph_b, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(tables)
        split.addWidget(right)
        split.setSizes([700, 560])  # proportions: B's graph gets a good share
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self._stale = True  # computed when first shown (it starts as a tab behind the Block Table)
        document.specChanged.connect(lambda _s: self._on_spec())

    def _on_spec(self) -> None:
        # A hidden panel only notes that it is out of date; it catches up when shown.
        if self.active:
            self.refresh()
        else:
            self._stale = True

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        t = QTableWidget(0, len(headers))
        t.setObjectName(name)
        t.setHorizontalHeaderLabels(headers)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        return t

    # ---- choosing B ------------------------------------------------------------------------
    def _on_combo(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == "__file__":
            self.openFileRequested.emit()
            return
        self.other, self.other_label = (None, "") if not data else (self._preset(data), self._preset(data).title)
        self.refresh()

    def _preset(self, name: str) -> ArchSpec:
        return preset(name)

    def compare_with_preset(self, name: str) -> None:
        """Compare with the preset called ``name``."""
        self.combo.setCurrentIndex(max(0, self.combo.findData(name)))
        self.other, self.other_label = self._preset(name), self._preset(name).title
        self.refresh()

    def set_other(self, spec: ArchSpec, label: str) -> None:
        """Compare with ``spec`` (e.g. a spec file), shown as ``label``."""
        self.other, self.other_label = spec, label
        self.refresh()

    def _b(self) -> tuple[ArchSpec | None, str]:
        if self.other is not None:
            return self.other, self.other_label
        base = base_preset(self.document.spec)  # the preset it is, or was edited from
        if base is not None:
            return self._preset(base.name), f"{base.title} (preset)"
        return None, ""

    # ---- drawing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the comparison for the current spec and B."""
        self._stale = False
        a = self.document.spec
        b, label = self._b()
        if b is None:
            self.diff = None
            self.summary.setText("Choose a spec to compare with.")
            self._mark()
            return
        d = self.diff = diff_specs(a, b)
        self.totals.setRowCount(len(d.totals))
        for r, (what, x, y) in enumerate(d.totals):
            for c, text in enumerate((what, _fmt(what, x), _fmt(what, y), _delta(what, x, y))):
                self.totals.setItem(r, c, _item(text, c > 0))
        self.stages.setRowCount(len(d.stages))
        for r, s in enumerate(d.stages):
            cells = (s.label, str(s.count_a), str(s.count_b), human(s.params_a), human(s.params_b),
                     _delta("params", s.params_a, s.params_b), human(s.macs_a), human(s.macs_b),
                     _delta("macs", s.macs_a, s.macs_b))
            for c, text in enumerate(cells):
                self.stages.setItem(r, c, _item(text, c > 0))
        p = d.totals[0]
        m = d.totals[1]
        self.summary.setText(f"<b>A</b> {a.title}{' (edited)' if self.document.dirty else ''} vs <b>B</b> {label}: "
                             f"params {_delta('params', p[1], p[2])}, multiply-adds {_delta('macs', m[1], m[2])}; "
                             f"{len(d.blocks_a)} block(s) of A and {len(d.blocks_b)} of B differ.")
        self.graph_b_title.setText(f"<b>B</b>: {label}")
        if b is not self._shown_b:
            self._shown_b = b
            self.graph_b.show_spec(b)
            self.graph_b.fit()
        self._mark()
        first = next((n for n in self.graph_b.graph.order if n in d.blocks_b), None)
        if first and self.highlight.isChecked():
            self.graph_b.center_on_node(first)

    def set_active(self, on: bool) -> None:
        """Show the highlights while the panel is visible; clear them from the main graph otherwise."""
        self.active = on
        if on and self._stale:
            self.refresh()
        else:
            self._mark()

    def _mark(self) -> None:
        show = self.active and self.highlight.isChecked() and self.diff is not None
        if self.main_view is not None:
            if show:
                self.main_view.mark_nodes(set(self.diff.blocks_a), "diff")
            else:
                self.main_view.clear_marks("diff")
        if show:
            self.graph_b.mark_nodes(set(self.diff.blocks_b), "diff")
        else:
            self.graph_b.clear_marks("diff")
