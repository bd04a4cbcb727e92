"""The drawn items of the graph view, kept in step with each new layout: an edit or an expand redoes only
what it changed.

Items are matched to the new layout by what they stand for (a node's or a frame's id, an edge's two ends).
One whose data is unchanged is left alone; one that only moved (the same drawing elsewhere) is moved; the
rest are made anew, and whatever the new layout no longer has leaves the scene. A count edit of a stage in
a fully expanded Inception-ResNet-v2 so moves the items below that stage and makes one block's worth of
new ones; it does not re-create (or even look again at) the rest.
"""
from __future__ import annotations

from PySide6.QtWidgets import QGraphicsScene

from ...core.graph import BlockGraph
from .items import EdgeItem, FrameItem, FrameTitleItem, NodeItem, Theme, paint_kind
from .layout import Box, Frame, Layout, Route

_EPS = 1e-6  # scene units: positions are sums of offsets, so a moved edge's points shift by "the same" amount


def _frame_look(f: Frame) -> tuple:
    return f.kind, f.label, f.w, f.h, f.depth


def _box_look(b: Box) -> tuple:
    return b.kind, b.label, b.sub, b.w, b.h, b.count, b.expandable, b.members


def _shifted(old: Route, new: Route) -> bool:
    """Whether ``new`` is ``old`` translated (the same edge, its ends moved together)."""
    if (old.label, old.skip, old.fanout) != (new.label, new.skip, new.fanout) or len(old.points) != len(new.points):
        return False
    (x0, y0), (x1, y1) = old.points[0], new.points[0]
    dx, dy = x1 - x0, y1 - y0
    if new.label:  # where its label goes moves with it too
        pairs = zip(old.points + (old.label_at,), new.points + (new.label_at,))
    else:
        pairs = zip(old.points, new.points)
    return all(abs(b[0] - a[0] - dx) < _EPS and abs(b[1] - a[1] - dy) < _EPS for a, b in pairs)


class Drawing:
    """The scene's items by what they stand for (see the module docstring)."""

    def __init__(self, scene: QGraphicsScene):
        self.scene = scene
        self.frames: dict[str, tuple[Frame, FrameItem, FrameTitleItem]] = {}
        self.nodes: dict[str, tuple[Box, str, NodeItem]] = {}
        self.edges: dict[tuple[str, str, int], tuple[Route, EdgeItem]] = {}
        self.details = True  # what items write close up is shown (see show_details)
        self.symbols = True  # the C and + of the joins are shown

    def show_details(self, details: bool, symbols: bool) -> None:
        """Show or hide what the items write: frame titles, edge labels and node names (``details``), the joins'
        C and + (``symbols``). Zoomed out they write nothing, and hidden they cost a paint of a thousand items no
        call into Python each (the view hides them below DETAIL_SCALE and SYMBOL_SCALE)."""
        if (details, symbols) == (self.details, self.symbols):
            return
        if details != self.details:
            for _f, _frame, title in self.frames.values():
                title.setVisible(details)
            for _r, edge in self.edges.values():
                if edge.label is not None:
                    edge.label.setVisible(details)
        for _b, _k, node in self.nodes.values():
            text = node.text
            if text is not None and (symbols != self.symbols if text.symbol else details != self.details):
                text.setVisible(symbols if text.symbol else details)
        self.details, self.symbols = details, symbols

    def forget(self) -> None:
        """The scene was cleared: nothing is drawn any more."""
        self.frames, self.nodes, self.edges = {}, {}, {}

    def sync(self, layout: Layout, graph: BlockGraph, theme: Theme) -> dict[str, NodeItem | FrameItem]:
        """Make the scene show ``layout``; returns the node and frame items by drawn id."""
        items: dict[str, NodeItem | FrameItem] = {}
        self._frames(layout, theme, items)
        self._nodes(layout, graph, theme, items)
        self._edges(layout, theme)
        return items

    def _add(self, *items) -> None:
        for item in items:
            self.scene.addItem(item)

    def _drop(self, items) -> None:
        for item in items:
            self.scene.removeItem(item)

    def _frames(self, layout: Layout, theme: Theme, items: dict) -> None:
        old, self.frames = self.frames, {}
        for f in layout.frames:
            hit = old.pop(f.id, None)
            if hit is not None and hit[0] == f:
                frame, title = hit[1], hit[2]
            elif hit is not None and _frame_look(hit[0]) == _frame_look(f):
                frame, title = hit[1], hit[2]
                frame.frame = title.frame = f
                frame.setPos(f.x, f.y)
                title.setPos(f.x + 4, f.y + 2)
            else:
                if hit is not None:
                    self._drop(hit[1:])
                frame, title = FrameItem(f, theme), FrameTitleItem(f, theme)
                title.setVisible(self.details)
                self._add(frame, title)
            self.frames[f.id] = (f, frame, title)
            items[f.id] = frame
        for hit in old.values():
            self._drop(hit[1:])

    def _nodes(self, layout: Layout, graph: BlockGraph, theme: Theme, items: dict) -> None:
        old, self.nodes = self.nodes, {}
        nodes = graph.nodes
        for box in layout.boxes.values():
            node = nodes.get(box.members[0] if box.members else box.id)
            kind = paint_kind(box, node.kind if node else None, node.detail if node else "")
            hit = old.pop(box.id, None)
            if hit is not None and hit[1] == kind and hit[0] == box:
                item = hit[2]
            elif hit is not None and hit[1] == kind and _box_look(hit[0]) == _box_look(box):
                item = hit[2]
                item.box = box
                item.setPos(box.x, box.y)
            else:
                if hit is not None:
                    self._drop(hit[2:])
                item = NodeItem(box, theme, kind)
                if item.text is not None:
                    item.text.setVisible(self.symbols if item.text.symbol else self.details)
                self._add(item)
            self.nodes[box.id] = (box, kind, item)
            items[box.id] = item
        for hit in old.values():
            self._drop(hit[2:])

    def _edges(self, layout: Layout, theme: Theme) -> None:
        old, self.edges = self.edges, {}
        tb = layout.orientation == "TB"
        for r in layout.routes:
            key = (r.src, r.dst, 0)
            while key in self.edges:  # the same two ends twice: told apart by their order
                key = (r.src, r.dst, key[2] + 1)
            hit = old.pop(key, None)
            if hit is not None and hit[1].tb == tb and hit[0] == r:
                item = hit[1]
            elif hit is not None and hit[1].tb == tb and _shifted(hit[0], r):
                item = hit[1]
                item.move_to(r)
            else:
                if hit is not None:
                    self._drop(hit[1:])
                item = EdgeItem(r, theme, tb)
                if item.label is not None:
                    item.label.setVisible(self.details)
                self._add(item)
            self.edges[key] = (r, item)
        for hit in old.values():
            self._drop(hit[1:])
