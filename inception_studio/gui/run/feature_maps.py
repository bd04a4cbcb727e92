"""FeatureMapPanel (``featureMapView``): a graph node's activations for the current image.

Two views: the node's channels as a paged grid of small images (colormap, per-channel or shared
normalisation, click a channel to enlarge it, click again to go back), and — for an Inception
block — what each branch (1x1, 3x3, 5x5, pool, ...) responds to, as the mean activation map of
each branch side by side. The activations are computed by the engine in a worker (controller.py);
this file only draws them.

Each view is one pyqtgraph ViewBox holding an image item per tile, placed side by side: a ViewBox
costs ~15 ms of the GUI thread to make (its context menu is a small form), an image item well under
one, so a new grid of 64 channels is drawn within a frame.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)


COLORMAPS = ("viridis", "inferno", "magma", "plasma", "cividis", "turbo", "grey")
PAGE_SIZES = (16, 36, 64)
GAP = 0.08  # the space between tiles, as a fraction of a tile
BRANCH_GAP = 0.3  # room above each branch's map for its name


def _grid_columns(count: int, view) -> int:
    """Grid columns that make ``count`` square-ish tiles fill ``view`` (a wide, short view gets a wide grid)."""
    aspect = max(view.width(), 1) / max(view.height(), 1)
    return max(1, min(count, round(math.sqrt(count * aspect))))


def _place(items, cols: int, h: int, w: int, gap: float = GAP) -> None:
    """Put ``items`` on a grid of ``cols`` columns of h x w tiles (row-major, rows going down)."""
    dx, dy = w * (1 + gap), h * (1 + gap)
    for i, item in enumerate(items):
        item.setPos((i % cols) * dx, (i // cols) * dy)


def _lut(name: str) -> np.ndarray | None:
    if name == "grey":
        return None
    return pg.colormap.get(name).getLookupTable(nPts=256)


def _levels(a: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(a)), float(np.max(a))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _take(pool: list, count: int, make, box: pg.ViewBox) -> list:
    """The first ``count`` items of ``pool``, made (in ``box``, hidden) when there are fewer; the rest hidden.
    Items are kept, never made again: an image item costs ~0.3 ms to make, with a name ~2 ms."""
    while len(pool) < count:
        item = make()
        item.hide()
        box.addItem(item)
        pool.append(item)
    for item in pool[count:]:
        item.hide()
    return pool[:count]


def _named_image() -> pg.ImageItem:
    """A branch's image item with its name above it (drawn at a fixed size, on the black view)."""
    item = pg.ImageItem(axisOrder="row-major")
    pg.TextItem("", anchor=(0, 1), color=(230, 230, 230)).setParentItem(item)
    return item


class _Tile(pg.ImageItem):
    """One channel's image; a click reports its channel index."""

    def __init__(self, on_click):
        super().__init__(axisOrder="row-major")
        self.channel = -1
        self._on_click = on_click

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.channel >= 0:
            ev.accept()
            self._on_click(self.channel)


class FeatureMapPanel(QWidget):
    """Channels of the selected node (paged grid, colormap, normalisation, enlarge) and a per-branch view."""

    channelClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("featureMapView")
        self.maps: np.ndarray | None = None  # C x H x W float32 of the node shown
        self.branches: list[tuple[str, np.ndarray]] = []
        self._branch_block = ""
        self.enlarged = -1
        self.title = QLabel("Select a conv, a block or a branch in the graph.", objectName="featureTitle")
        self.title.setWordWrap(True)
        self.tabs = QTabWidget(objectName="featureTabs")
        self.tabs.addTab(self._channels_tab(), "Channels")
        self.tabs.addTab(self._branches_tab(), "Branches")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.tabs, 1)

        self._pool: list[_Tile] = []  # every tile made so far, in the grid's box; the surplus hidden
        _take(self._pool, PAGE_SIZES[0], self._new_tile, self._grid_box)  # with the panel, not the first maps
        self._tiles: list[_Tile] = []  # the page's tiles: the first of the pool
        self._cols = 0
        self._branch_pool: list[pg.ImageItem] = []  # every branch item made so far; the surplus hidden
        self._branch_items: list[pg.ImageItem] = []  # the shown block's: the first of the pool
        self._branch_labels: list[str] = []
        self.colormap.currentTextChanged.connect(lambda _t: self._redraw())
        self.per_channel.toggled.connect(lambda _b: self._redraw())
        self.page_size.currentTextChanged.connect(lambda _t: self._relayout())
        self.page.valueChanged.connect(lambda _v: self._redraw())
        self.prev_button.clicked.connect(lambda: self.page.setValue(self.page.value() - 1))
        self.next_button.clicked.connect(lambda: self.page.setValue(self.page.value() + 1))
        self._update_paging()

    def _channels_tab(self) -> QWidget:
        """The Channels tab: colormap, normalisation and paging controls over the grid (or one channel enlarged)."""
        self.colormap = QComboBox(objectName="colormapCombo")
        self.colormap.addItems(COLORMAPS)
        self.per_channel = QCheckBox("Normalise each channel", objectName="perChannelNorm")
        self.per_channel.setChecked(True)
        self.per_channel.setToolTip("On: each channel uses its own range. Off: one range for all channels, "
                                    "so strong and weak channels can be compared")
        self.page_size = QComboBox(objectName="pageSize")
        self.page_size.addItems([str(n) for n in PAGE_SIZES])
        self.prev_button = QPushButton("◀", objectName="prevPage")
        self.next_button = QPushButton("▶", objectName="nextPage")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(32)
        self.page = QSpinBox(objectName="pageSpin")
        self.page.setMinimum(1)
        self.page_label = QLabel("", objectName="pageLabel")

        controls = QHBoxLayout()
        controls.addWidget(self.colormap)
        controls.addWidget(self.per_channel)
        controls.addStretch(1)
        controls.addWidget(QLabel("per page"))
        controls.addWidget(self.page_size)
        controls.addWidget(self.prev_button)
        controls.addWidget(self.page)
        controls.addWidget(self.next_button)

        self.grid = pg.GraphicsLayoutWidget()
        self.grid.setObjectName("channelGrid")
        self._grid_box = self.grid.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.big = pg.GraphicsLayoutWidget()
        self.big.setObjectName("channelLarge")
        self._big_view = self.big.addViewBox(lockAspect=True, invertY=True)
        self._big_item = _Tile(lambda _c: self.show_grid())
        self._big_view.addItem(self._big_item)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.big)
        channels = QWidget()
        cl = QVBoxLayout(channels)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(controls)
        cl.addWidget(self.page_label)
        cl.addWidget(self.stack, 1)
        return channels

    def _branches_tab(self) -> QWidget:
        """The Branches tab: each branch's mean activation side by side."""
        self.branch_view = pg.GraphicsLayoutWidget()
        self.branch_view.setObjectName("branchView")
        self._branch_box = self.branch_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.branch_note = QLabel("Select an Inception block to compare its branches.", objectName="branchNote")
        self.branch_note.setWordWrap(True)
        branches = QWidget()
        bl = QVBoxLayout(branches)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.branch_note)
        bl.addWidget(self.branch_view, 1)
        return branches

    # ---- input -----------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """Clear the views and show ``text`` instead."""
        self.title.setText(text)
        self.maps = None
        self.show_branches("", [])
        self._relayout()

    def show_maps(self, title: str, maps: np.ndarray) -> None:
        """Show a node's activations: CxHxW (a vector C is shown as a 1xC strip)."""
        a = np.asarray(maps, dtype=np.float32)
        if a.ndim == 1:
            a = a[None, None, :]
        elif a.ndim == 2:
            a = a[None]
        self.maps = a
        self.title.setText(title)
        self.enlarged = -1
        self.stack.setCurrentWidget(self.grid)
        self.page.blockSignals(True)
        self.page.setValue(1)
        self.page.blockSignals(False)
        self._relayout()

    def show_branches(self, block: str, branches: list[tuple[str, np.ndarray]]) -> None:
        """Show each branch's mean activation map side by side; no branches: ``block`` is shown as a note."""
        self.branches = list(branches)
        self._branch_block = block
        labels = [label for label, _ in self.branches]
        self._branch_items = _take(self._branch_pool, len(labels), _named_image, self._branch_box)
        if not self.branches:
            self._branch_labels = []
            self.branch_note.setText(block or "Select an Inception block to compare its branches.")
            return
        self.branch_note.setText(f"{block}: mean activation of each branch (bright = strong response)")
        if labels != self._branch_labels:
            self._branch_labels = labels
            for item, label in zip(self._branch_items, labels):
                item.setToolTip(label)
                item.childItems()[0].setText(label)
        lut = _lut(self.colormap.currentText())
        for item, (_label, m) in zip(self._branch_items, self.branches):
            m = np.asarray(m, dtype=np.float32)
            item.setImage(m, levels=_levels(m), lut=lut)
            item.show()
        self._arrange_branches()

    def _arrange_branches(self) -> None:
        """The branches' maps on the grid that shows them largest, each name above its map."""
        if not self._branch_items:
            return
        h = max(int(np.shape(m)[-2]) for _l, m in self.branches)
        w = max(int(np.shape(m)[-1]) for _l, m in self.branches)
        n = len(self._branch_items)
        cols = self._branch_columns(n, h, w)
        _place(self._branch_items, cols, h, w, BRANCH_GAP)
        rows = -(-n // cols)  # the names sit above their maps: the range starts a gap above the first row
        self._branch_box.setRange(QRectF(0, -BRANCH_GAP * h, (cols + (cols - 1) * BRANCH_GAP) * w,
                                         (rows + rows * BRANCH_GAP) * h), padding=0.02)

    def _branch_columns(self, n: int, h: int, w: int) -> int:
        """The columns that show the maps largest while each name (fixed-size text) fits above its map."""
        view = self.branch_view
        name_px = max(self.fontMetrics().horizontalAdvance(label) for label in self._branch_labels) + 8
        best, best_scale = 1, 0.0
        for cols in range(1, n + 1):
            rows = -(-n // cols)
            scale = min(view.width() / ((cols + (cols - 1) * BRANCH_GAP) * w), view.height() / (rows * (1 + BRANCH_GAP) * h))
            if (cols == 1 or scale * w * (1 + BRANCH_GAP) >= name_px) and scale > best_scale:
                best, best_scale = cols, scale
        return best

    # ---- paging ----------------------------------------------------------------------------
    @property
    def per_page(self) -> int:
        """Channels shown per page."""
        return int(self.page_size.currentText())

    @property
    def pages(self) -> int:
        """How many pages the current node's channels take."""
        return max(1, math.ceil((0 if self.maps is None else self.maps.shape[0]) / self.per_page))

    def visible_channels(self) -> list[int]:
        """Channel indices on the current page."""
        if self.maps is None:
            return []
        start = (self.page.value() - 1) * self.per_page
        return list(range(start, min(start + self.per_page, self.maps.shape[0])))

    def _update_paging(self) -> None:
        self.page.blockSignals(True)
        self.page.setMaximum(self.pages)
        self.page.blockSignals(False)
        self.prev_button.setEnabled(self.page.value() > 1)
        self.next_button.setEnabled(self.page.value() < self.pages)
        vis = self.visible_channels()
        if vis and self.maps is not None:
            c, h, w = self.maps.shape
            self.page_label.setText(f"channels {vis[0] + 1}–{vis[-1] + 1} of {c} ({h}x{w}); click one to enlarge")
        else:
            self.page_label.setText("")

    def _relayout(self) -> None:
        """As many tiles as the page shows (kept when the count is the same), then drawn and placed."""
        want = min(self.per_page, self.maps.shape[0]) if self.maps is not None else 0
        self._tiles = _take(self._pool, want, self._new_tile, self._grid_box)
        self._cols = self._columns()
        self._redraw()

    def _new_tile(self) -> _Tile:
        return _Tile(self._enlarge)

    def _columns(self) -> int:
        """Grid columns that make square-ish tiles fill the area (a wide, short dock gets a wide grid)."""
        return _grid_columns(min(self.per_page, self.maps.shape[0]) if self.maps is not None else self.per_page,
                             self.grid)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._tiles and self._columns() != self._cols:
            self._cols = self._columns()
            self._arrange()
        self._arrange_branches()

    def _arrange(self) -> None:
        """The tiles on a grid of ``_cols`` columns, the view fitted to them."""
        if self._tiles:
            _place(self._tiles, self._cols, *self.maps.shape[1:])
            self._grid_box.autoRange(padding=0.02)

    def _redraw(self) -> None:
        self._update_paging()
        if self.maps is None:
            return
        lut = _lut(self.colormap.currentText())
        vis = self.visible_channels()
        shared = None if self.per_channel.isChecked() else _levels(self.maps)
        for k, tile in enumerate(self._tiles):
            if k < len(vis):
                m = self.maps[vis[k]]
                tile.channel = vis[k]
                tile.setImage(m, levels=shared or _levels(m), lut=lut)
                tile.setToolTip(f"channel {vis[k] + 1}: min {m.min():.3g}, max {m.max():.3g}")
                tile.show()
            else:
                tile.channel = -1
                tile.hide()
        self._arrange()
        if self.enlarged >= 0:
            self._enlarge(self.enlarged)
        if self.branches:
            self.show_branches(self._branch_block, self.branches)

    # ---- enlarge ---------------------------------------------------------------------------
    def _enlarge(self, channel: int) -> None:
        if self.maps is None or not 0 <= channel < self.maps.shape[0]:
            return
        self.enlarged = channel
        m = self.maps[channel]
        shared = None if self.per_channel.isChecked() else _levels(self.maps)
        self._big_item.setImage(m, levels=shared or _levels(m), lut=_lut(self.colormap.currentText()))
        self._big_item.channel = channel
        self._big_view.autoRange(padding=0.02)
        self.page_label.setText(f"channel {channel + 1} of {self.maps.shape[0]} — click it to go back to the grid")
        self.stack.setCurrentWidget(self.big)
        self.channelClicked.emit(channel)

    def show_grid(self) -> None:
        """Leave the enlarged channel and show the grid again."""
        self.enlarged = -1
        self.stack.setCurrentWidget(self.grid)
        self._update_paging()
