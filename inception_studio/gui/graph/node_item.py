"""The drawn node of the block graph: a rounded box (blocks, ops), a circle (concat 'C', residual add '+') or a
port dot.

Qt's own path items draw a node's outline and fill, a collapsed run's second card and the mark rings, so a
paint of a fully expanded Inception-ResNet-v2 (hundreds of nodes) does not call into Python for each node.
What a node writes (its name, shape, ×N, the +/- of a block, the C or + of a join) is a child of its own,
``NodeText``, which the view shows only close enough to be read (graph/drawing.py).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from .geometry import Box
from .names import DETAIL_SCALE
from .style import MARK_COLORS, Theme

ROUND = frozenset(("port", "concat", "add"))  # drawn as circles
SYMBOL_SCALE = 0.3  # a join writes its C or + from this zoom on (its box text: from DETAIL_SCALE)
_BEHIND = QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent
_NO_BUTTON = Qt.MouseButton.NoButton  # read once: an enum member lookup is slow, items are made by the thousand


def _outline(kind: str, rect: QRectF, radius: float) -> QPainterPath:
    path = QPainterPath()
    if kind in ROUND:
        path.addEllipse(rect)
    else:
        path.addRoundedRect(rect, radius, radius)
    return path


class NodeItem(QGraphicsPathItem):
    """One node (see the module docstring). The view sets ``selected`` and ``marks``, then calls ``update()``,
    which restyles it."""

    def __init__(self, box: Box, theme: Theme, color_kind: str, tooltip: str = ""):
        super().__init__()
        self.box, self.theme, self.color_kind = box, theme, color_kind
        self.selected = False
        self.marks: set[str] = set()
        self.expanded = False
        self.setPos(box.x, box.y)
        if tooltip:  # the graph view writes a node's hover text when asked (node_tooltip), from the current graph
            self.setToolTip(tooltip)
        self.setAcceptedMouseButtons(_NO_BUTTON)  # the view handles clicks
        self.setZValue(2)
        self._rect = QRectF(0, 0, box.w, box.h)
        self._hit = QPainterPath()  # clicks hit the node itself, not its mark rings
        self._hit.addRect(self._rect)
        self.room = self._rect.adjusted(-14, -14, 14, 14)  # up to three mark rings: an export leaves room for them
        self.setPath(_outline(box.kind, self._rect, 7))
        self._card: QGraphicsPathItem | None = None
        if box.count > 1 and box.kind not in ROUND:  # a collapsed run: a stack of cards
            self._card = QGraphicsPathItem(_outline(box.kind, self._rect.adjusted(6, -4, 6, -4), 7), self)
            self._card.setFlag(_BEHIND)
        self._rings: list[QGraphicsPathItem] = []
        self._shown_marks: tuple[str, ...] = ()
        self.text = NodeText(self) if box.kind != "port" else None
        self._restyle()

    @property
    def node_id(self) -> str:
        """The drawn id (graph node id, or ``run:b:<first>``)."""
        return self.box.id

    def shape(self) -> QPainterPath:
        return self._hit

    def update(self, *args) -> None:
        """Repaint in the pens that ``selected`` and ``marks`` call for now."""
        self._restyle()
        super().update(*args)

    def _restyle(self) -> None:
        pen, brush = self.theme.node_paint(self.color_kind)
        pen = self.theme.select_pen if self.selected else pen
        for item in (self, self._card):
            if item is not None:
                item.setPen(pen)
                item.setBrush(brush)
        marks = tuple(role for role in ("diff", "reinitialised", "search") if role in self.marks)
        if marks != self._shown_marks:
            self._ring(marks)

    def _ring(self, marks: tuple[str, ...]) -> None:
        """Marks are outer rings, one per role, so they show with a selection."""
        for ring in self._rings:
            ring.setParentItem(None)
            if ring.scene() is not None:
                ring.scene().removeItem(ring)
        self._rings, self._shown_marks = [], marks
        rect = self._rect.adjusted(-4, -4, 4, 4)
        for role in marks:
            ring = QGraphicsPathItem(_outline(self.box.kind, rect, 10), self)
            ring.setFlag(_BEHIND)
            ring.setPen(QPen(MARK_COLORS[role], 2.6, Qt.PenStyle.DashLine if role == "diff" else Qt.PenStyle.SolidLine))
            self._rings.append(ring)
            rect = rect.adjusted(-4, -4, 4, 4)


class NodeText(QGraphicsItem):
    """What a node writes: a join's C or + (``symbol``), a box's name, ×N, shape and +/- (see the module docstring)."""

    def __init__(self, node: NodeItem):
        super().__init__(node)
        self.setAcceptedMouseButtons(_NO_BUTTON)
        self.symbol = node.box.kind in ROUND
        self._node = node

    def boundingRect(self) -> QRectF:
        return self._node._rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        n = self._node
        t, b, r = n.theme, n.box, n._rect
        lod = option.levelOfDetailFromTransform(p.worldTransform())
        if self.symbol:
            if lod > SYMBOL_SCALE:
                p.setPen(t.text)
                p.setFont(t.font)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, "C" if b.kind == "concat" else "+")
            return
        if lod < DETAIL_SCALE:
            return  # too small to read: the view writes the names (graph/names.py)
        p.setPen(t.text)
        p.setFont(t.font)
        left = 22.0 if b.expandable else 8.0
        badge = f"×{b.count}" if b.count > 1 else ""
        fm = QFontMetricsF(t.font)
        badge_w = fm.horizontalAdvance(badge) + 8 if badge else 0
        text_w = r.width() - left - 8 - badge_w
        top = QRectF(left, 4, text_w, r.height() / 2 - 2)
        p.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(b.label, Qt.TextElideMode.ElideRight, text_w))
        if badge:
            p.drawText(QRectF(r.width() - badge_w - 4, 4, badge_w, r.height() / 2 - 2),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, badge)
        p.setFont(t.small)
        p.setPen(t.muted)
        sfm = QFontMetricsF(t.small)
        bottom = QRectF(left, r.height() / 2, r.width() - left - 8, r.height() / 2 - 3)
        p.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   sfm.elidedText(b.sub, Qt.TextElideMode.ElideRight, bottom.width()))
        if b.expandable:  # the +/- affordance: double-click or press +/- to open the block
            sq = QRectF(6, r.height() / 2 - 6, 12, 12)
            p.setPen(t.node_paint(n.color_kind)[0])
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(sq)
            p.drawLine(QPointF(sq.left() + 3, sq.center().y()), QPointF(sq.right() - 3, sq.center().y()))
            if not n.expanded:
                p.drawLine(QPointF(sq.center().x(), sq.top() + 3), QPointF(sq.center().x(), sq.bottom() - 3))
