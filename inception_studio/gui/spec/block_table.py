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
_DISPLAY, _SORT = int(Qt.ItemDataRole.DisplayRole), int(SORT_ROLE)
_ALIGN, _TIP = int(Qt.ItemDataRole.TextAlignmentRole), int(Qt.ItemDataRole.ToolTipRole)
_ROLES = frozenset((_DISPLAY, _SORT, _ALIGN, _TIP))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
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


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive rows."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class BlockTableModel(QAbstractTableModel):
    """Rows of :func:`table_lines` as a Qt model."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.columns: list[str] = []
        self.lines: list[_Line] = []

    def set_spec(self, spec: ArchSpec) -> int | None:
        """Recompute the rows for ``spec``; the view hears of the rows that changed only (a count edit: the
        rows of the blocks it added or removed, and the numbers of those after them), or of a new table when
        the columns changed. Returns the first row that changed (None: none did)."""
        columns, lines = table_lines(spec, summary_of(spec))
        if columns != self.columns:
            self.beginResetModel()
            self.columns, self.lines = columns, lines
            self.endResetModel()
            return 0
        old = self.lines
        head = 0  # rows standing for the same node at the start, then at the end
        while head < min(len(old), len(lines)) and old[head].node == lines[head].node:
            head += 1
        tail = 0
        while tail < min(len(old), len(lines)) - head and old[-1 - tail].node == lines[-1 - tail].node:
            tail += 1
        gone, added = len(old) - head - tail, len(lines) - head - tail
        if gone > added:
            self.beginRemoveRows(QModelIndex(), head + added, head + gone - 1)
            self.lines = old[:head + added] + old[head + gone:]
            self.endRemoveRows()
        elif added > gone:
            self.beginInsertRows(QModelIndex(), head + gone, head + added - 1)
            self.lines = old[:head + gone] + lines[head + gone:head + added] + old[head + gone:]
            self.endInsertRows()
        changed = [r for r, (a, b) in enumerate(zip(self.lines, lines))
                   if a.cells != b.cells or a.keys != b.keys or a.node != b.node]
        self.lines = lines
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(columns) - 1))
        return min(([head] if gone or added else []) + changed[:1], default=None)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.lines)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # Asked for every visible cell and role on each paint: plain ints, the common role first.
        if role not in _ROLES or not index.isValid():
            return None
        line, col = self.lines[index.row()], self.columns[index.column()]
        if role == _DISPLAY:
            return line.cells.get(col, "")
        if role == _SORT:
            return line.keys.get(col, -1)
        if role == _ALIGN:
            return None if col in ("type", "patch size/stride") else _RIGHT
        if col in ("params", "ops"):  # the tooltip: the exact number
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
        self._quiet_layout = False  # see refresh
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
        rows, bottom = self.source.rowCount(), self._last_row_shown()
        first = self.source.set_spec(self.document.spec)
        if self.source.columns != self._columns:  # widths follow the content when the columns change
            self._columns = list(self.source.columns)
            self.resizeColumnsToContents()
        # Rows that came or went below the ones on screen change the scroll range, not the picture.
        below = first is not None and bottom is not None and first > bottom
        self._quiet_layout = below and rows != self.source.rowCount()
        try:
            self._on_selection(self.document.selection)
            self.executeDelayedItemsLayout()
        finally:
            self._quiet_layout = False

    def _last_row_shown(self) -> int | None:
        """The last row on screen, in the model's order (None: sorted, or room left below the last row)."""
        if self.proxy.sortColumn() >= 0:
            return None
        row = self.rowAt(self.viewport().height() - 1)
        return row if row >= 0 else None

    def doItemsLayout(self) -> None:
        if not self._quiet_layout:
            super().doItemsLayout()  # ...and a repaint of every row on screen
            return
        self.updateGeometries()
        if not self.verticalHeader().updatesEnabled():  # as QTableView does after rows went
            self.verticalHeader().setUpdatesEnabled(True)

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
