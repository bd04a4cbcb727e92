"""GraphView: the block graph of a spec in a QGraphicsView — expand/collapse, pan, zoom, search,
highlight marks, top-to-bottom or left-to-right layout, and PNG/SVG export.

The view owns only presentation state (which blocks and runs are expanded, the orientation, the
marks); the graph and its layout come from the spec via core.graph and graph_layout. Bound to a
SpecDocument it redraws on every edit and follows (and sets) the document's selection.
"""
from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from ..core.graph import BlockGraph
from ..core.spec import ArchSpec
from ..errors import StudioError
from . import (
    graph_export,
)
from .derived import graph_of
from .graph_items import (
    EdgeItem,
    FrameItem,
    FrameTitleItem,
    NodeItem,
    Theme,
    node_tooltip,
    paint_kind,
)
from .graph_layout import (
    ORIENTATIONS,
    Layout,
    all_expandable,
    layout_graph,
    reveal_keys,
    run_keys,
)

MIN_SCALE, MAX_SCALE = 0.03, 4.0


class GraphView(QGraphicsView):
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
        self._items: dict[str, NodeItem | FrameItem] = {}
        self._selected = ""
        self._search: tuple[str, int] = ("", -1)
        self._press: QPoint | None = None
        self._cache: OrderedDict[tuple, tuple[BlockGraph, Layout]] = OrderedDict()
        if document is not None:
            document.specChanged.connect(self.show_spec)
            document.selectionChanged.connect(self._on_selection)
            self.show_spec(document.spec)

    # ---- content ---------------------------------------------------------------------------
    @property
    def graph(self) -> BlockGraph | None:
        """The graph being drawn."""
        return self._graph

    @property
    def layout_result(self) -> Layout | None:
        """The current layout (boxes, frames, routes)."""
        return self._layout

    def show_spec(self, spec: ArchSpec) -> None:
        """Draw ``spec``; keeps the expanded blocks unless it is a different variant."""
        new_variant = self._spec is None or self._spec.name != spec.name
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

    def _rebuild(self) -> None:
        if self._graph is None:
            return
        g = self._graph
        theme = self._theme = Theme.from_palette(self.palette())
        layout = self._layout = self._layout_for()
        scene = self.scene()
        scene.clear()
        self._items = {}
        tb = self._orientation == "TB"
        for f in layout.frames:
            item = FrameItem(f, theme)
            scene.addItem(item)
            scene.addItem(FrameTitleItem(f, theme))
            self._items[f.id] = item
        for r in layout.routes:
            scene.addItem(EdgeItem(r, theme, tb))
        for box in layout.boxes.values():
            node = g.nodes.get(box.members[0] if box.members else box.id)
            kind = paint_kind(box, node.kind if node else None, node.detail if node else "")
            item = NodeItem(box, theme, kind, node_tooltip(g, box))
            scene.addItem(item)
            self._items[box.id] = item
        scene.setSceneRect(QRectF(0, 0, layout.width, layout.height))
        self._apply_marks()
        self._apply_selection()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._rebuild()
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
        """Fit the graph to the window (not magnified past 1.2; very long graphs show their start)."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        vp = self.viewport().rect()
        scale = min(vp.width() / rect.width(), vp.height() / rect.height(), 1.2)
        # Below this zoom node labels are unreadable, so fit the narrow side and start at the input.
        readable = 0.6
        if scale < readable:
            narrow = vp.width() / rect.width() if self._orientation == "TB" else vp.height() / rect.height()
            scale = max(min(narrow, 1.0), readable) if narrow >= readable else narrow
        self.scale(scale, scale)
        self.centerOn(rect.center())
        if self._orientation == "TB":
            self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())
        else:
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (clamped to a sane range)."""
        current = self.transform().m11()
        target = max(MIN_SCALE, min(MAX_SCALE, current * factor))
        self.scale(target / current, target / current)

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

    # ---- search ----------------------------------------------------------------------------
    def find(self, text: str) -> str:
        """Select, reveal and centre the next node whose label contains ``text`` ("" if none)."""
        text = text.strip().lower()
        if not text or self._graph is None:
            return ""
        hits = [n.id for n in self._graph.nodes.values()
                if n.kind not in ("port",) and (text in n.label.lower() or text == n.id.lower())]
        if not hits:
            return ""
        last_text, last = self._search
        index = (last + 1) % len(hits) if last_text == text else 0
        self._search = (text, index)
        nid = hits[index]
        self.set_expanded(self._expanded | reveal_keys(self._graph, nid))
        self.select(nid)
        item = self.item_for(nid)
        if item is not None:
            self.centerOn(item)
        return nid

    # ---- marks -----------------------------------------------------------------------------
    def mark_nodes(self, ids: set[str], role: str) -> None:
        """Highlight nodes (role "diff", "reinitialised" or "search"); hidden ones mark what holds them."""
        self._marks[role] = set(ids)
        self._apply_marks()

    def clear_marks(self, role: str | None = None) -> None:
        """Remove one kind of highlight, or all of them."""
        if role is None:
            self._marks.clear()
        else:
            self._marks.pop(role, None)
        self._apply_marks()

    def marked(self, role: str) -> set[str]:
        """Drawn ids currently carrying ``role``."""
        return {k for k, item in self._items.items() if role in item.marks}

    def _apply_marks(self) -> None:
        for item in self._items.values():
            if item.marks:
                item.marks = set()
                item.update()
        for role, ids in self._marks.items():
            for nid in ids:
                item = self._items.get(self._owner(nid))
                if item is not None:
                    item.marks.add(role)
                    item.update()

    # ---- export ----------------------------------------------------------------------------
    def render_image(self, scale: float = 2.0) -> QImage:
        """The whole graph as an image (``scale`` x scene size, capped for very long graphs)."""
        return graph_export.render_image(self.scene(), self._background(), scale)

    def export_png(self, path: str, scale: float = 2.0) -> None:
        """Write the whole graph to a PNG file (StudioError naming the file if it cannot)."""
        graph_export.export_png(self.scene(), self._background(), path, scale)

    def export_svg(self, path: str) -> None:
        """Write the whole graph to an SVG file (vector; text stays text)."""
        title = self._spec.title if self._spec else "Inception Studio graph"
        graph_export.export_svg(self.scene(), self._background(), path, title)

    def _background(self):
        return self.palette().color(QPalette.ColorRole.Base)

    def center_on_node(self, node_id: str) -> None:
        """Scroll so that the item standing for ``node_id`` is centred."""
        item = self.item_for(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

    def scene_point(self, node_id: str) -> QPointF | None:
        """Scene centre of the item standing for ``node_id`` (tests and tools click there)."""
        item = self.item_for(node_id)
        return item.sceneBoundingRect().center() if item is not None else None
