"""The QGraphicsItems of the block graph (group frames, edges; nodes: graph/node_item.py); their colours and
pens: graph/style.py.

Items only paint what the pure layout (graph_layout) computed; they hold no state of their own
beyond the marks the view sets (selected, diff, reinitialised). Outlines, fills and edges are Qt's own
path items, painted without a call into Python; what the items write (titles, labels, names) are items
of their own, which the view hides when zoomed out (graph/drawing.py) and writes names at screen size
instead (graph/names.py). A fully expanded Inception-ResNet-v2 so redraws quickly after an edit and
stays smooth to pan.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ...core.analysis import human
from ...core.graph import BlockGraph
from .layout import Box, Frame, Route
from .names import DETAIL_SCALE
from .node_item import NodeItem  # noqa: F401 - re-exported with the other items
from .style import MARK_COLORS, Theme  # noqa: F401 - Theme: re-exported, the items' public type

_NO_PEN = Qt.PenStyle.NoPen
_NO_BUTTON = Qt.MouseButton.NoButton  # read once: an enum member lookup is slow, items are made by the thousand


def paint_kind(box: Box, graph_kind_of_member: str | None, detail: str) -> str:
    """The colour key of a box: reduction blocks stand out from plain Inception blocks."""
    kind = graph_kind_of_member if box.kind == "run" and graph_kind_of_member else box.kind
    if kind == "inception" and "reduction" in detail.lower():
        return "reduction"
    return kind


def node_tooltip(g: BlockGraph, box: Box) -> str:
    """Hover text for a drawn node: what it is, its output, params and multiply-adds."""
    if box.count > 1:
        first, last = g.nodes[box.members[0]], g.nodes[box.members[-1]]
        p = sum(g.nodes[m].params for m in box.members)
        m = sum(g.nodes[m].macs for m in box.members)
        return (f"{box.count} identical blocks {first.label} – {last.label}\n{box.sub}\n"
                f"params {human(p)}, multiply-adds {human(m)}\nDouble-click (or +) to unfold")
    n = g.nodes[box.id]
    lines = [n.label, f"{n.kind}" + (f" ({n.detail})" if n.detail else "")]
    if n.shape:
        lines.append(f"output {n.shape[1]}x{n.shape[2]}x{n.shape[0]}")
    if n.params or n.macs:
        lines.append(f"params {human(n.params)}, multiply-adds {human(n.macs)}")
    if box.expandable:
        lines.append("Double-click (or +) to expand")
    return "\n".join(lines)


class FrameItem(QGraphicsPathItem):
    """The outline of a stage, an expanded block, an unfolded run or a branch (its title: FrameTitleItem). Qt's own
    path item draws it, without a call into Python on each paint; the view sets ``selected`` and ``marks``, then
    calls ``update()``, which restyles it."""

    def __init__(self, frame: Frame, theme: Theme):
        super().__init__()
        self.frame, self.theme = frame, theme
        self.selected = False
        self.marks: set[str] = set()
        self.setPos(frame.x, frame.y)
        self.setZValue(-10 + frame.depth)
        self.setAcceptedMouseButtons(_NO_BUTTON)
        self._rect = QRectF(0, 0, frame.w, frame.h)
        self.room = self._rect.adjusted(-3, -3, 3, 3)  # a selected frame's pen: an export leaves room for it
        self._hit = QPainterPath()
        self._hit.addRect(self.room)
        outline = QPainterPath()
        outline.addRoundedRect(self._rect, 9, 9)
        self.setPath(outline)
        self.setToolTip(frame.label)
        self._restyle()

    @property
    def node_id(self) -> str:
        """The id this frame stands for (stage, block, run key or branch)."""
        return self.frame.id

    def title_rect(self) -> QRectF:
        """The clickable title strip, in scene coordinates."""
        return QRectF(self.frame.x, self.frame.y, self.frame.w, 18)

    def shape(self) -> QPainterPath:
        return self._hit  # a click anywhere on the frame, its corners included, finds it

    def _restyle(self) -> None:
        t = self.theme
        pen, tint = t.frame_paint(self.frame.kind)
        if self.selected:
            pen = QPen(t.select, 2.5)
        elif "diff" in self.marks:
            pen = QPen(MARK_COLORS["diff"], 2.5, Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setBrush(tint)

    def update(self, *args) -> None:
        """Repaint in the pen that ``selected`` and ``marks`` call for now."""
        self._restyle()
        super().update(*args)


class FrameTitleItem(QGraphicsItem):
    """A frame's title on a small opaque tab, stacked above the edges that cross it."""

    def __init__(self, frame: Frame, theme: Theme):
        super().__init__()
        self.frame, self.theme = frame, theme
        fm = theme.title_metrics
        self.text = ("▾ " if frame.kind in ("block", "run") else "") + frame.label
        width = min(fm.horizontalAdvance(self.text) + 10, frame.w - 8)
        self.text = fm.elidedText(self.text, Qt.TextElideMode.ElideRight, width - 8)
        self._rect = QRectF(0, 0, width, 16)
        self.setPos(frame.x + 4, frame.y + 2)
        self.setZValue(1.5)
        self.setAcceptedMouseButtons(_NO_BUTTON)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(p.worldTransform()) < DETAIL_SCALE:
            return
        t = self.theme
        bg = QColor(t.base)
        tint = QColor(t.frame)
        # the tab matches the frame's tinted fill, so it reads as part of the frame
        a = 0.12 + 0.04 * self.frame.depth
        bg = QColor(int(bg.red() * (1 - a) + tint.red() * a), int(bg.green() * (1 - a) + tint.green() * a),
                    int(bg.blue() * (1 - a) + tint.blue() * a))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(self._rect, 4, 4)
        p.setPen(t.muted)
        p.setFont(t.title)
        p.drawText(self._rect.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.text)


class _EdgeLabel(QGraphicsItem):
    """An edge's HxWxC label, written close up only (zoomed out, the view writes names instead)."""

    def __init__(self, edge: EdgeItem):
        super().__init__(edge)
        self.setAcceptedMouseButtons(_NO_BUTTON)
        self._rect, self._text, self._theme = QRectF(edge.label_rect), edge.route.label, edge.theme

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if option.levelOfDetailFromTransform(p.worldTransform()) >= DETAIL_SCALE:
            p.setPen(self._theme.muted)
            p.setFont(self._theme.small)
            p.drawText(self._rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._text)


class EdgeItem(QGraphicsPathItem):
    """A tensor between two nodes: a curve with an arrow head and its HxWxC label. Qt's own items draw the curve
    and the head, without a call into Python on each paint (an expanded Inception-ResNet-v2 has ~500 edges);
    ``path`` is the curve in scene coordinates (Qt's copy, ``QGraphicsPathItem.path``, moves with the item)."""

    def __init__(self, route: Route, theme: Theme, tb: bool):
        super().__init__()
        self.route, self.theme, self.tb = route, theme, tb
        self.setZValue(1)
        self.setAcceptedMouseButtons(_NO_BUTTON)
        pts = [QPointF(x, y) for x, y in route.points]
        path = QPainterPath(pts[0])
        if len(pts) == 2:
            a, b = pts
            # Change column in a short bend (near the start for a fan-out, else near the end)
            # and run straight otherwise, so long edges stay in their branch's column.
            if tb:
                span = b.y() - a.y()
                bend = min(abs(span), 56.0) * (1 if span >= 0 else -1)
                if abs(b.x() - a.x()) < 1:
                    path.lineTo(b)
                elif route.fanout:
                    knee = QPointF(b.x(), a.y() + bend)
                    path.cubicTo(QPointF(a.x(), a.y() + bend / 2), QPointF(b.x(), a.y() + bend / 2), knee)
                    path.lineTo(b)
                else:
                    knee = QPointF(a.x(), b.y() - bend)
                    path.lineTo(knee)
                    path.cubicTo(QPointF(a.x(), b.y() - bend / 2), QPointF(b.x(), b.y() - bend / 2), b)
            else:
                span = b.x() - a.x()
                bend = min(abs(span), 56.0) * (1 if span >= 0 else -1)
                if abs(b.y() - a.y()) < 1:
                    path.lineTo(b)
                elif route.fanout:
                    knee = QPointF(a.x() + bend, b.y())
                    path.cubicTo(QPointF(a.x() + bend / 2, a.y()), QPointF(a.x() + bend / 2, b.y()), knee)
                    path.lineTo(b)
                else:
                    knee = QPointF(b.x() - bend, a.y())
                    path.lineTo(knee)
                    path.cubicTo(QPointF(b.x() - bend / 2, a.y()), QPointF(b.x() - bend / 2, b.y()), b)
        else:
            for q in pts[1:]:
                path.lineTo(q)
        self.path = path
        self.setPath(path)
        self.room = path.boundingRect().adjusted(-6, -6, 6, 6)  # what an export leaves around the curve
        self.setPen(theme.skip_pen if route.skip else theme.edge_pen)
        self.end = pts[-1]
        self.direction = pts[-1] - pts[-2]
        self.head = QGraphicsPolygonItem(self._head(), self)
        self.head.setPen(QPen(_NO_PEN))
        self.head.setBrush(theme.edge_brush)
        self.label_pos = self._label_anchor(pts) if route.label else QPointF()
        fm = theme.small_metrics
        self.label_rect = QRectF(self.label_pos, fm.size(0, route.label)) if route.label else QRectF()
        self.label = _EdgeLabel(self) if route.label else None

    def move_to(self, route: Route) -> None:
        """Take ``route``, the same edge shifted (an edit moved its ends): translate, do not rebuild."""
        (x0, y0), (x1, y1) = self.route.points[0], route.points[0]
        d = QPointF(x1 - x0, y1 - y0)
        self.moveBy(d.x(), d.y())  # Qt's curve, head and label go with the item
        self.route = route
        self.path.translate(d)
        self.end = self.end + d
        self.label_pos = self.label_pos + d
        self.label_rect.translate(d)

    def _label_anchor(self, pts: list[QPointF]) -> QPointF:
        # The layout picked the point (a free stretch of the edge); TB writes beside the line,
        # LR above it, a residual skip edge beside its lane.
        x, y = self.route.label_at
        w = self.theme.measure(self.route.label, False)
        if self.route.skip:
            return QPointF(x - w - 6, y - 7) if self.tb else QPointF(x - w / 2, y - 16)
        return QPointF(x + 5, y - 7) if self.tb else QPointF(x - w / 2, y - 16)

    def _head(self) -> QPolygonF:
        """The arrow head at the edge's end: along the main axis for a plain edge, else along its last leg."""
        d = self.direction
        length = (d.x() ** 2 + d.y() ** 2) ** 0.5 or 1.0
        ux, uy = d.x() / length, d.y() / length
        if self.route.skip or len(self.route.points) != 2:
            pass
        elif self.tb:
            ux, uy = 0.0, 1.0
        else:
            ux, uy = 1.0, 0.0
        e = self.end
        return QPolygonF([e, QPointF(e.x() - 7 * ux + 4 * uy, e.y() - 7 * uy - 4 * ux),
                          QPointF(e.x() - 7 * ux - 4 * uy, e.y() - 7 * uy + 4 * ux)])
