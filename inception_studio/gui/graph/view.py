"""GraphView: the block graph of a spec in a QGraphicsView — expand/collapse, pan, zoom, search,
highlight marks, top-to-bottom or left-to-right layout, and PNG/SVG export.

The view owns only presentation state (which blocks and runs are expanded, the orientation, the
marks); the graph and its layout come from the spec via core.graph and graph_layout. Bound to a
SpecDocument it redraws on every edit and follows (and sets) the document's selection.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from ...core.graph import BlockGraph
from ...core.spec import ArchSpec
from ...errors import StudioError
from ..shared.derived import graph_of
from ..shared.visible import WhenShown
from .items import EdgeItem, FrameItem, FrameTitleItem, NodeItem, Theme, node_tooltip, paint_kind
from .names import paint_names
from .view_tools import SearchMarksExportMixin
from .overview import Overview
from .layout import ORIENTATIONS, Layout, all_expandable, layout_graph, reveal_keys, run_keys

MIN_SCALE, MAX_SCALE = 0.005, 4.0


def _place(item, data, dx: float = 0.0, dy: float = 0.0) -> None:
    """A kept node or frame item takes its new box or frame (the same look, perhaps elsewhere)."""
    if isinstance(item, NodeItem):
        item.box = data
    else:
        item.frame = data
    item.setPos(data.x + dx, data.y + dy)

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
        self._items: dict[str, NodeItem | FrameItem] = {}
        self._pool: dict[tuple, list] = {}  # every drawn item by what it looks like (see _rebuild)
        self._selected = ""
        self._search: tuple[str, int] = ("", -1)
        self._press: QPoint | None = None
        self._cache: OrderedDict[tuple, tuple[BlockGraph, Layout]] = OrderedDict()
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
        layout = layout_graph(self._graph, key[1], self._orientation, measure=self._theme.measure)
        self._cache[key] = (self._graph, layout)  # holding the graph keeps its id from being reused
        while len(self._cache) > 32:
            self._cache.popitem(last=False)
        return layout

    def _rebuild(self, reuse: bool = True) -> None:
        """Draw the current layout. Items of the last drawing that look the same (wherever they moved to)
        are kept and moved, not made again: an edit redoes only what it changed (and the clear and
        re-creation of thousands of items, ~40 ms for Inception-ResNet-v2 expanded, is skipped)."""
        if self._graph is None:
            return
        g = self._graph
        theme = Theme.from_palette(self.palette())
        reuse = reuse and self._theme is not None and theme == self._theme
        self._theme = theme = self._theme if reuse else theme
        layout = self._layout = self._layout_for()
        scene = self.scene()
        old = self._pool if reuse else {}
        if not reuse:
            scene.clear()
        pool: dict[tuple, list] = {}
        tb = self._orientation == "TB"

        def take(key: tuple, make, move):
            items = old.get(key)
            if items:
                item = items.pop()
                move(item)
            else:
                item = make()
                scene.addItem(item)
            pool.setdefault(key, []).append(item)
            return item

        def at_origin(data):  # the same drawing anywhere: what an item is reused for
            return replace(data, x=0.0, y=0.0)

        self._items = {}
        for f in layout.frames:
            key = at_origin(f)
            self._items[f.id] = take(("frame", key), lambda f=f: FrameItem(f, theme), lambda i, f=f: _place(i, f))
            take(("title", key), lambda f=f: FrameTitleItem(f, theme), lambda i, f=f: _place(i, f, 4, 2))
        for r in layout.routes:
            (x0, y0), lx, ly = r.points[0], *r.label_at
            key = (r.src, r.dst, r.label, r.skip, r.fanout, tb, tuple((x - x0, y - y0) for x, y in r.points),
                   (lx - x0, ly - y0))
            take(("edge", key), lambda r=r: EdgeItem(r, theme, tb), lambda i, r=r: i.move_to(r))
        for box in layout.boxes.values():
            node = g.nodes.get(box.members[0] if box.members else box.id)
            kind = paint_kind(box, node.kind if node else None, node.detail if node else "")
            tip = node_tooltip(g, box)
            self._items[box.id] = take(("node", at_origin(box), kind, tip),
                                       lambda box=box, kind=kind, tip=tip: NodeItem(box, theme, kind, tip),
                                       lambda i, box=box: _place(i, box))
        for items in old.values():  # what the edit removed
            for item in items:
                scene.removeItem(item)
        self._pool = pool
        scene.setSceneRect(QRectF(0, 0, layout.width, layout.height))
        self.overview.invalidate()
        self._apply_marks()
        self._apply_selection()

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
        self.overview.invalidate()

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (clamped to a sane range)."""
        current = self.transform().m11()
        target = max(MIN_SCALE, min(MAX_SCALE, current * factor))
        self.scale(target / current, target / current)
        self._fitted = False
        self.overview.invalidate()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:  # e.g. the window's layout settling after start-up, a workspace switch
            self.fit()
        self.overview.invalidate()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self._theme is not None:
            self.names_written = paint_names(self, painter, self._layout, self._theme)

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
