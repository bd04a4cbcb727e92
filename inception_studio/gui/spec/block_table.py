"""The per-block table laid out like the papers' (GoogLeNet Table 1): type, patch size/stride,
output size HxWxC, depth, the branch-width columns (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
pool proj), params and ops. Sortable; copies as CSV or Markdown; a row click selects the block.
"""
from __future__ import annotations

import csv
import io

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from ...core.analysis import PAPER_COLUMNS, Row, Summary, format_shape, human
from ...core.spec import ArchSpec
from ..shared.derived import summary_of
from ..shared.visible import WhenShown

SORT_ROLE = Qt.ItemDataRole.UserRole
FIXED_HEAD = ("#", "type", "patch size/stride", "output size", "depth")
FIXED_TAIL = ("params", "ops")


def _type(row: Row) -> str:
    if row.kind in ("inception", "residual", "reduction") and row.kind not in row.label.lower():
        return f"{row.kind} ({row.label})"
    return row.label


class _Line:
    """One displayed row: texts for each column, numbers to sort by, and the graph node it stands for."""

    __slots__ = ("cells", "keys", "node")

    def __init__(self, cells: dict[str, str], keys: dict[str, float | str], node: str):
        self.cells, self.keys, self.node = cells, keys, node


def table_lines(spec: ArchSpec, s: Summary) -> tuple[list[str], list[_Line]]:
    """Column names and rows of the paper-style table for ``spec`` (pure; no widgets)."""
    lines: list[_Line] = []
    extra_cols: list[str] = []

    def add(kind: str, patch: str, out, depth: int | None, cols: dict[str, int], params: int, macs: int, node: str):
        cells = {"type": kind, "patch size/stride": patch, "output size": format_shape(out) if out else "",
                 "depth": "" if depth is None else str(depth), "params": human(params) if params else "",
                 "ops": human(macs) if macs else ""}
        keys: dict[str, float | str] = {"type": kind, "patch size/stride": patch, "output size": out[0] * out[1] * out[2] if out else 0,
                                        "depth": depth or 0, "params": params, "ops": macs}
        for c, v in cols.items():
            cells[c], keys[c] = str(v), v
            if c not in PAPER_COLUMNS and c not in extra_cols:
                extra_cols.append(c)
        n = len(lines) + 1
        cells["#"], keys["#"] = str(n), n
        lines.append(_Line(cells, keys, node))

    last_out = (spec.in_channels, spec.input_size, spec.input_size)
    for row in s.rows:
        if row.kind == "head":
            _head_lines(spec, row, last_out, add)
        elif row.kind == "aux":
            add(f"aux classifier ({row.name})", "", row.output, None, {}, row.params, row.macs, f"aux:{row.name}")
        else:
            add(_type(row), row.patch, row.output, row.depth, dict(row.columns), row.params, row.macs, f"b:{row.name}")
            last_out = row.output
    present = [c for c in PAPER_COLUMNS if any(c in ln.cells for ln in lines)]
    # Keep the paper's six columns even when empty for this variant only if some row fills one.
    columns = list(FIXED_HEAD) + present + extra_cols + list(FIXED_TAIL)
    return columns, lines


def _head_lines(spec: ArchSpec, row: Row, last_out, add) -> None:
    c, h, w = last_out
    n = spec.num_classes
    drop = spec.head.dropout
    if spec.head.kind == "conv":  # NIN: 1x1 conv to the classes, then global average pooling
        add("conv 1x1 (classes)", "1x1/1", (n, h, w), 1, {}, row.params, row.macs, "head")
        add("avg pool", f"{h}x{w}/1", (n, 1, 1), 0, {}, 0, 0, "head")
    else:
        add("avg pool", f"{h}x{w}/1", (c, 1, 1), 0, {}, 0, 0, "head")
        if drop:
            add(f"dropout ({drop:.0%})", "", (c, 1, 1), 0, {}, 0, 0, "head")
        add("linear", "", (n, 1, 1), 1, {}, row.params, row.macs, "head")
    add("softmax", "", (n, 1, 1), 0, {}, 0, 0, "head")


class BlockTableModel(QAbstractTableModel):
    """Rows of :func:`table_lines` as a Qt model."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[str] = []
        self.lines: list[_Line] = []

    def set_spec(self, spec: ArchSpec) -> None:
        """Recompute the rows for ``spec``."""
        self.beginResetModel()
        self.columns, self.lines = table_lines(spec, summary_of(spec))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.lines)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        line, col = self.lines[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return line.cells.get(col, "")
        if role == SORT_ROLE:
            return line.keys.get(col, -1)
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in ("type", "patch size/stride"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col in ("params", "ops"):
            raw = line.keys.get(col, 0)
            return f"{raw:,}" if raw else None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None


class BlockTable(QTableView):
    """The paper-style per-block table (objectName ``blockTable``), bound to the document."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("blockTable")
        self.document = document
        self.source = BlockTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # forward order until the user sorts
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        # Interactive + one explicit fit per spec: ResizeToContents re-measures every cell on each
        # selection change, which costs tens of ms on Inception-ResNet-v2.
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._columns: list[str] = []
        self.setToolTip("Click a header to sort (# restores the network's order); right-click to copy")
        self.copy_csv_action = QAction("Copy as CSV", self)
        self.copy_csv_action.triggered.connect(self.copy_csv)
        self.copy_md_action = QAction("Copy as Markdown", self)
        self.copy_md_action.triggered.connect(self.copy_markdown)
        self.copy_csv_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_csv_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.addAction(self.copy_csv_action)
        self.clicked.connect(self._on_clicked)
        self._update = WhenShown(self, self.refresh)  # a tab behind Compare catches up when shown
        document.specChanged.connect(self._update)
        document.selectionChanged.connect(lambda node: self._on_selection(node) if not self._update.pending else None)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the rows for the document's spec (keeps the sort)."""
        self.source.set_spec(self.document.spec)
        if self.source.columns != self._columns:  # widths follow the content when the columns change
            self._columns = list(self.source.columns)
            self.resizeColumnsToContents()
        self._on_selection(self.document.selection)

    def contextMenuEvent(self, event) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_csv_action)
        menu.addAction(self.copy_md_action)
        menu.exec(event.globalPos())

    # ---- selection -------------------------------------------------------------------------
    def _on_clicked(self, index: QModelIndex) -> None:
        line = self.source.lines[self.proxy.mapToSource(index).row()]
        self.document.select(line.node)

    def _on_selection(self, node_id: str) -> None:
        block = node_id.split("/")[0] if node_id else ""
        for r, line in enumerate(self.source.lines):
            if line.node == block:
                idx = self.proxy.mapFromSource(self.source.index(r, 0))
                if idx.row() != self.currentIndex().row():
                    self.blockSignals(True)
                    self.selectRow(idx.row())
                    self.blockSignals(False)
                self.scrollTo(idx)
                return
        self.clearSelection()

    # ---- export ----------------------------------------------------------------------------
    def rows(self) -> list[list[str]]:
        """Header and rows as shown (current sort order)."""
        self._update.flush()
        cols = self.source.columns
        out = [list(cols)]
        for r in range(self.proxy.rowCount()):
            out.append([self.proxy.index(r, c).data() or "" for c in range(len(cols))])
        return out

    def to_csv(self) -> str:
        """The table as CSV text."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(self.rows())
        return buf.getvalue()

    def to_markdown(self) -> str:
        """The table as a Markdown (GitHub) table."""
        rows = self.rows()
        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        sep = "|" + "|".join("---" if c in ("type", "patch size/stride") else "---:" for c in rows[0]) + "|"
        return "\n".join([line(rows[0]), sep] + [line(r) for r in rows[1:]]) + "\n"

    def copy_csv(self) -> None:
        """Put the table on the clipboard as CSV."""
        QGuiApplication.clipboard().setText(self.to_csv())

    def copy_markdown(self) -> None:
        """Put the table on the clipboard as Markdown."""
        QGuiApplication.clipboard().setText(self.to_markdown())
