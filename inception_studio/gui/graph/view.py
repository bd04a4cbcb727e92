"""GraphView: the block graph of a spec in a QGraphicsView — expand/collapse, pan, zoom, search,
highlight marks, top-to-bottom or left-to-right layout, and PNG/SVG export.

The view owns only presentation state (which blocks and runs are expanded, the orientation, the
marks); the graph and its layout come from the spec via core.graph and graph_layout. Bound to a
SpecDocument it redraws on every edit and follows (and sets) the document's selection.
"""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QToolTip, QWidget

from ...core.graph import BlockGraph
from ...core.spec import ArchSpec
from ...errors import StudioError
from ..shared.derived import graph_of
from ..shared.visible import WhenShown
from .drawing import Drawing
from .items import FrameItem, NodeItem, Theme, node_tooltip
from .names import DETAIL_SCALE, paint_names, place_names
from .node_item import SYMBOL_SCALE
from .view_tools import SearchMarksExportMixin
from .overview import Overview
from .layout import ORIENTATIONS, Layout, all_expandable, layout_graph, reveal_keys, run_keys

MIN_SCALE, MAX_SCALE = 0.005, 4.0


class GraphView(SearchMarksExportMixin, QGraphicsView):
    """Interactive drawing of a spec's block graph (objectName ``graphView`` in the main window)."""

    expandedChanged = Signal()  # the user opened or closed a block or run

    def __init__(self, document=None, parent: QWidget | None = None, object_name: str = "graphView"):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.document = document
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("")
        self._orientation = "TB"
        self._expanded: set[str] = set()
        self._marks: dict[str, set[str]] = {}
        self._spec: ArchSpec | None = None
        self._graph: BlockGraph | None = None
        self._layout: Layout | None = None
        self._theme: Theme | None = None
        self._fitted = False  # showing the whole graph since the last Fit: a resize fits again
        self.names_written = 0  # names the last paint wrote over a zoomed-out drawing (graph/names.py)
        self._names: list[tuple[QRectF, str]] = []  # ...and where: (viewport rectangle, name)
        # place_names for the last few (drawing, theme, view) it was asked for: the view has one size in the
        # Explore workspace and another in Classify, and a switch would otherwise place every name again.
        self._names_recent: list[tuple[tuple, list[tuple[QRectF, str]]]] = []
        self._items: dict[str, NodeItem | FrameItem] = {}
        self._drawing = Drawing(self.scene())  # every drawn item by what it stands for (see _rebuild)
        self._selected = ""
        self._search: tuple[str, int] = ("", -1)
        self._press: QPoint | None = None
        self._cache: OrderedDict[tuple, tuple[BlockGraph, Layout]] = OrderedDict()
        self._tiles: dict = {}  # each block's laid-out tile, for layout_graph (kept while the theme is)
        self.overview = Overview(self)
        self._follow: WhenShown | None = None
        if document is not None:
            # The Train workspace hides the graph: an edit (the trained network installed) is drawn when it shows.
            self._follow = WhenShown(self, lambda: self.show_spec(document.spec))
            document.specChanged.connect(self._follow)
            document.selectionChanged.connect(self._on_selection)
            self.show_spec(document.spec)

    # ---- content ---------------------------------------------------------------------------
    @property
    def graph(self) -> BlockGraph | None:
        """The graph being drawn."""
        if self._follow is not None:
            self._follow.flush()
        return self._graph

    @property
    def layout_result(self) -> Layout | None:
        """The current layout (boxes, frames, routes)."""
        if self._follow is not None:
            self._follow.flush()
        return self._layout

    def show_spec(self, spec: ArchSpec) -> None:
        """Draw ``spec``; keeps the expanded blocks unless it is a different variant."""
        family = lambda sp: sp.based_on or sp.name  # noqa: E731 - an edited preset is still that variant
        new_variant = self._spec is None or family(self._spec) != family(spec)
        self._spec = spec
        self._graph = graph_of(spec)
        if new_variant:
            self._expanded.clear()
        self._rebuild()
        if new_variant:
            self.fit()

    def _layout_for(self) -> Layout:
        # Cached per (graph, expanded set, orientation): undo/redo and toggling back are instant.
        key = (id(self._graph), frozenset(self._expanded), self._orientation)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is self._graph:
            self._cache.move_to_end(key)
            return hit[1]
        if len(self._tiles) > 8192:  # blocks of many variants seen: start again
            self._tiles.clear()
        layout = layout_graph(self._graph, key[1], self._orientation, measure=self._theme.measure, memo=self._tiles)
        self._cache[key] = (self._graph, layout)  # holding the graph keeps its id from being reused
        while len(self._cache) > 32:
            self._cache.popitem(last=False)
        return layout

    def _rebuild(self, reuse: bool = True) -> None:
        """Draw the current layout. The items of the last drawing are matched to it by what they stand for
        (graph/drawing.py): an edit redoes only what it changed, the rest is kept or moved."""
        if self._graph is None:
            return
        theme = Theme.from_palette(self.palette())
        scene = self.scene()
        if not (reuse and self._theme is not None and theme == self._theme):
            if theme != self._theme:  # other fonts: boxes are measured again
                self._cache.clear()
                self._tiles.clear()
            self._theme = theme
            scene.clear()
            self._drawing.forget()
        layout = self._layout = self._layout_for()
        self._items = self._drawing.sync(layout, self._graph, self._theme)
        rect = QRectF(0, 0, layout.width, layout.height)
        if rect != scene.sceneRect():
            scene.setSceneRect(rect)
        self.overview.invalidate()
        self._apply_marks()
        self._apply_selection()
        self._renamed()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._graph is not None:
            item = self.item_at(event.pos())
            if isinstance(item, NodeItem):  # written now, from the graph drawn now (not kept on every item)
                QToolTip.showText(event.globalPos(), node_tooltip(self._graph, item.box), self.viewport())
                return True
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._rebuild(reuse=False)
        super().changeEvent(event)

    # ---- expand / collapse -----------------------------------------------------------------
    @property
    def expanded(self) -> frozenset[str]:
        """The expanded block ids and run keys."""
        return frozenset(self._expanded)

    def set_expanded(self, keys: set[str] | frozenset[str]) -> None:
        """Replace the expanded set and redraw, keeping the selected node where it was on screen."""
        keys = set(keys)
        if keys == self._expanded:
            return
        # keep the selected node where it is on screen while the drawing changes around it
        before = self._items.get(self._owner(self._selected))
        anchor = self.mapFromScene(before.pos()) if before is not None else None
        self._expanded = keys
        self._rebuild()
        after = self._items.get(self._owner(self._selected))
        if anchor is not None and after is not None:
            delta = self.mapFromScene(after.pos()) - anchor
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self.expandedChanged.emit()

    def toggle(self, key: str) -> None:
        """Expand a collapsed block or run (by block id or run key), or collapse an expanded one."""
        self.set_expanded(self._expanded ^ {key})

    def expand(self, node_id: str) -> None:
        """Open one level at ``node_id``: its collapsed run first, else its block."""
        if self._graph is None or not node_id:
            return
        own = self._owner(node_id)
        if own and own.startswith("run:") and own not in self._expanded:
            self.set_expanded(self._expanded | {own})
            return
        block = self._graph.block_of(node_id)
        if block and block not in self._expanded:
            self.set_expanded(self._expanded | reveal_keys(self._graph, block) | {block})

    def collapse(self, node_id: str) -> None:
        """Close one level at ``node_id``: its expanded block first, else its unfolded run."""
        if self._graph is None or not node_id:
            return
        block = self._graph.block_of(node_id)
        if block and block in self._expanded:
            self.set_expanded(self._expanded - {block})
            return
        run = run_keys(self._graph).get(block or "")
        if run and run in self._expanded:
            self.set_expanded(self._expanded - {run})

    def expand_all(self) -> None:
        """Expand every run and every block."""
        if self._graph is not None:
            self.set_expanded(all_expandable(self._graph))

    def collapse_all(self) -> None:
        """Collapse everything back to one node per block (and per run)."""
        self.set_expanded(set())

    # ---- orientation / zoom ----------------------------------------------------------------
    @property
    def orientation(self) -> str:
        """"TB" (top to bottom) or "LR" (left to right)."""
        return self._orientation

    def set_orientation(self, orientation: str) -> None:
        """Lay the graph out top-to-bottom ("TB") or left-to-right ("LR") and fit it."""
        if orientation not in ORIENTATIONS:
            raise StudioError(f"layout: orientation must be TB or LR, got {orientation!r}")
        if orientation != self._orientation:
            self._orientation = orientation
            self._rebuild()
            self.fit()

    def fit(self) -> None:
        """Fit the whole graph in the window (not magnified past 1.2). Zoomed out, the names stay readable:
        the view writes stage and block names at screen size (graph/names.py), details come back closer."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        vp = self.viewport().rect()
        scale = max(MIN_SCALE, min((vp.width() - 4) / rect.width(), (vp.height() - 4) / rect.height(), 1.2))
        self.scale(scale, scale)
        self.centerOn(rect.center())
        self._fitted = True
        self._zoomed()

    def _zoomed(self) -> None:
        """The scale changed: what the items write is shown only close enough to be read (graph/drawing.py)."""
        scale = self.transform().m11()
        self._drawing.show_details(scale >= DETAIL_SCALE, scale > SYMBOL_SCALE)
        self.overview.moved()

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (clamped to a sane range)."""
        current = self.transform().m11()
        target = max(MIN_SCALE, min(MAX_SCALE, current * factor))
        self.scale(target / current, target / current)
        self._fitted = False
        self._zoomed()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:  # e.g. the window's layout settling after start-up, a workspace switch
            self.fit()
        self.overview.moved()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self._theme is not None:
            self._names = self._placed_names()
            exposed = QRectF(self.mapFromScene(rect).boundingRect()).adjusted(-2, -2, 2, 2)
            self.names_written = paint_names(painter, self._names, self._theme, exposed)

    def _placed_names(self) -> list[tuple[QRectF, str]]:
        """place_names for the drawing and the view as they are (the last four are kept)."""
        key = (self._layout, self._theme, self.viewportTransform(), self.viewport().size())
        for old, placed in self._names_recent:
            if key[0] is old[0] and key[1] is old[1] and key[2:] == old[2:]:
                return placed
        placed = place_names(self, self._layout, self._theme)
        self._names_recent = [(key, placed), *self._names_recent[:3]]
        return placed

    def _renamed(self) -> None:
        """The drawing changed: where a name written over the zoomed-out graph went, came or changed (beside a box
        whose count an edit changed, say), repaint it; the items' own repaint covers the items only."""
        new = self._placed_names()
        if new == self._names:
            return
        before = {(r.getRect(), text) for r, text in self._names}
        after = {(r.getRect(), text) for r, text in new}
        for (x, y, w, h), _text in before ^ after:
            self.viewport().update(QRectF(x, y, w, h).toAlignedRect().adjusted(-2, -2, 2, 2))
        self._names = new

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.15 ** steps)
        event.accept()

    # ---- selection / clicks ----------------------------------------------------------------
    def _owner(self, node_id: str) -> str:
        if not node_id or self._layout is None:
            return ""
        return self._layout.owner.get(node_id, node_id)

    def _on_selection(self, node_id: str) -> None:
        self._selected = node_id
        self._apply_selection()

    def select(self, node_id: str) -> None:
        """Select a node (through the document when bound to one)."""
        if self.document is not None:
            self.document.select(node_id)
        else:
            self._on_selection(node_id)

    def _apply_selection(self) -> None:
        own = self._owner(self._selected)
        for key, item in self._items.items():
            on = key == own
            if item.selected != on:
                item.selected = on
                item.update()

    def item_at(self, pos: QPoint) -> NodeItem | FrameItem | None:
        """The node under a viewport position, or a frame whose title strip is there."""
        scene_pos = self.mapToScene(pos)
        frames = []
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, FrameItem) and item.title_rect().contains(scene_pos):
                frames.append(item)
        return max(frames, key=lambda f: f.frame.depth) if frames else None

    def item_for(self, node_id: str) -> NodeItem | FrameItem | None:
        """The drawn item that stands for a graph node id (or a run key)."""
        return self._items.get(self._owner(node_id)) or self._items.get(node_id)

    def visible_ids(self) -> set[str]:
        """Ids of the drawn node boxes."""
        return set(self._layout.boxes) if self._layout else set()

    @staticmethod
    def _selection_id(item) -> str:
        key = item.node_id
        if key.startswith("run:"):
            return key[4:]  # a run selects its first block; the editor edits them all
        return key

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._fitted = False  # the user takes over (a click, or the start of a drag)
        item = self.item_at(event.position().toPoint())
        if item is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(self._selection_id(item))
            event.accept()
            return
        self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None and (event.position().toPoint() - self._press).manhattanLength() < 4:
            self.select("")  # a click (not a drag) on the background clears the selection
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.item_at(event.position().toPoint())
        if isinstance(item, NodeItem) and item.box.expandable or isinstance(item, FrameItem) and item.frame.kind in ("block", "run"):
            self.toggle(item.node_id)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.expand(self._selected)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.collapse(self._selected)
        else:
            super().keyPressEvent(event)

    def center_on_node(self, node_id: str) -> None:
        """Scroll so that the item standing for ``node_id`` is centred."""
        item = self.item_for(node_id)
        if item is not None:
            self._fitted = False
            self.centerOn(item.sceneBoundingRect().center())

    def scene_point(self, node_id: str) -> QPointF | None:
        """Scene centre of the item standing for ``node_id`` (tests and tools click there)."""
        item = self.item_for(node_id)
        return item.sceneBoundingRect().center() if item is not None else None
