"""The QGraphicsItems of the block graph (nodes, group frames, edges) and the colours they use.

Items only paint what the pure layout (graph_layout) computed; they hold no state of their own
beyond the marks the view sets (selected, diff, reinitialised). Text is skipped when zoomed out (the
view writes names at screen size then, graph/names.py), which keeps a fully expanded
Inception-ResNet-v2 smooth to pan.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ...core.analysis import human
from ...core.graph import BlockGraph
from .layout import Box, Frame, Route
from .names import DETAIL_SCALE

# Hue per kind: blocks by what they are, ops by what they do.
_HUES = {
    "input": 210, "head": 210, "aux": 280, "seq": 215, "inception": 205, "residual": 150, "reduction": 28,
    "conv": 200, "sepconv": 185, "maxpool": 40, "avgpool": 48, "lrn": 0, "dropout": 0, "proj": 265,
    "concat": 50, "add": 130, "port": 0,
}
_GREY = ("lrn", "dropout", "port", "seq")
MARK_COLORS = {"diff": QColor(230, 120, 20), "reinitialised": QColor(200, 40, 120), "search": QColor(30, 160, 230)}


@dataclass
class Theme:
    """Colours and fonts for one palette (light or dark)."""

    dark: bool
    text: QColor
    muted: QColor
    edge: QColor
    frame: QColor
    select: QColor
    font: QFont
    small: QFont
    title: QFont
    base: QColor

    def __post_init__(self) -> None:
        self._metrics = {True: QFontMetricsF(self.font), False: QFontMetricsF(self.small)}
        self._widths: dict[tuple[str, bool], float] = {}

    def measure(self, text: str, bold: bool) -> float:
        """Width of ``text`` in the node font (bold) or the small font; graph_layout sizes boxes with it."""
        key = (text, bold)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = self._metrics[bold].horizontalAdvance(text)
        return w

    @classmethod
    def from_palette(cls, palette: QPalette | None = None) -> Theme:
        """A theme that reads on the given (default: the application's) palette."""
        pal = palette or QApplication.palette()
        dark = pal.color(QPalette.ColorRole.Window).lightness() < 128
        base = QApplication.font()
        font = QFont(base)
        font.setPointSizeF(9.5)
        font.setBold(True)
        small = QFont(base)
        small.setPointSizeF(8.0)
        title = QFont(base)
        title.setPointSizeF(8.5)
        title.setBold(True)
        base = pal.color(QPalette.ColorRole.Base)
        if dark:
            return cls(True, QColor(235, 238, 242), QColor(170, 178, 190), QColor(150, 160, 175), QColor(120, 130, 150),
                       QColor(255, 200, 60), font, small, title, base)
        return cls(False, QColor(25, 30, 40), QColor(85, 92, 105), QColor(105, 115, 130), QColor(140, 150, 170),
                   QColor(20, 110, 230), font, small, title, base)

    def fill(self, kind: str) -> QColor:
        """Node fill for ``kind`` (light pastel on light palettes, deep tone on dark ones)."""
        hue = _HUES.get(kind, 220)
        sat = 20 if kind in _GREY else 150
        return QColor.fromHsl(hue, sat, 70 if self.dark else 222)

    def border(self, kind: str) -> QColor:
        """Node outline for ``kind``."""
        hue = _HUES.get(kind, 220)
        sat = 30 if kind in _GREY else 140
        return QColor.fromHsl(hue, sat, 150 if self.dark else 120)


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


class NodeItem(QGraphicsItem):
    """One node: a rounded box (blocks, ops), a circle (concat 'C', residual add '+') or a port dot."""

    def __init__(self, box: Box, theme: Theme, color_kind: str, tooltip: str):
        super().__init__()
        self.box, self.theme, self.color_kind = box, theme, color_kind
        self.selected = False
        self.marks: set[str] = set()
        self.expanded = False
        self.setPos(box.x, box.y)
        self.setToolTip(tooltip)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the view handles clicks
        self.setZValue(2)
        self._rect = QRectF(0, 0, box.w, box.h)

    @property
    def node_id(self) -> str:
        """The drawn id (graph node id, or ``run:b:<first>``)."""
        return self.box.id

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-14, -14, 14, 14)  # room for up to three mark rings

    def shape(self) -> QPainterPath:
        path = QPainterPath()  # clicks hit the node itself, not its mark rings
        path.addRect(self._rect)
        return path

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t, b = self.theme, self.box
        lod = option.levelOfDetailFromTransform(p.worldTransform())
        fill, border = t.fill(self.color_kind), t.border(self.color_kind)
        r = self._rect
        ring = r.adjusted(-4, -4, 4, 4)
        for role in ("diff", "reinitialised", "search"):  # marks are outer rings, so they show with a selection
            if role in self.marks:
                p.setPen(QPen(MARK_COLORS[role], 2.6, Qt.PenStyle.DashLine if role == "diff" else Qt.PenStyle.SolidLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                if b.kind in ("port", "concat", "add"):
                    p.drawEllipse(ring)
                else:
                    p.drawRoundedRect(ring, 10, 10)
                ring = ring.adjusted(-4, -4, 4, 4)
        p.setPen(QPen(t.select, 3.2) if self.selected else QPen(border, 1.2))
        p.setBrush(QBrush(fill))
        if b.kind == "port":
            p.drawEllipse(r)
            return
        if b.kind in ("concat", "add"):
            p.drawEllipse(r)
            if lod > 0.3:
                p.setPen(t.text)
                p.setFont(t.font)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, "C" if b.kind == "concat" else "+")
            return
        if b.count > 1:  # a collapsed run: a stack of cards
            p.drawRoundedRect(r.adjusted(6, -4, 6, -4), 7, 7)
        p.drawRoundedRect(r, 7, 7)
        if lod < DETAIL_SCALE:  # too small to read: the view writes the names (graph/names.py)
            return
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
            p.setPen(QPen(border, 1.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(sq)
            p.drawLine(QPointF(sq.left() + 3, sq.center().y()), QPointF(sq.right() - 3, sq.center().y()))
            if not self.expanded:
                p.drawLine(QPointF(sq.center().x(), sq.top() + 3), QPointF(sq.center().x(), sq.bottom() - 3))


class FrameItem(QGraphicsItem):
    """The outline of a stage, an expanded block, an unfolded run or a branch, with its title."""

    def __init__(self, frame: Frame, theme: Theme):
        super().__init__()
        self.frame, self.theme = frame, theme
        self.selected = False
        self.marks: set[str] = set()
        self.setPos(frame.x, frame.y)
        self.setZValue(-10 + frame.depth)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF(0, 0, frame.w, frame.h)
        self.setToolTip(frame.label)

    @property
    def node_id(self) -> str:
        """The id this frame stands for (stage, block, run key or branch)."""
        return self.frame.id

    def title_rect(self) -> QRectF:
        """The clickable title strip, in scene coordinates."""
        return QRectF(self.frame.x, self.frame.y, self.frame.w, 18)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-3, -3, 3, 3)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t, f = self.theme, self.frame
        color = QColor(t.frame)
        pen = QPen(color, 1.0, Qt.PenStyle.DashLine if f.kind in ("branch", "run") else Qt.PenStyle.SolidLine)
        if "diff" in self.marks:
            pen = QPen(MARK_COLORS["diff"], 2.5, Qt.PenStyle.DashLine)
        if self.selected:
            pen = QPen(t.select, 2.5)
        p.setPen(pen)
        tint = QColor(color)
        tint.setAlpha({"stage": 18, "block": 26, "run": 14, "branch": 10}.get(f.kind, 12))
        p.setBrush(tint)
        p.drawRoundedRect(self._rect, 9, 9)


class FrameTitleItem(QGraphicsItem):
    """A frame's title on a small opaque tab, stacked above the edges that cross it."""

    def __init__(self, frame: Frame, theme: Theme):
        super().__init__()
        self.frame, self.theme = frame, theme
        fm = QFontMetricsF(theme.title)
        self.text = ("▾ " if frame.kind in ("block", "run") else "") + frame.label
        width = min(fm.horizontalAdvance(self.text) + 10, frame.w - 8)
        self.text = fm.elidedText(self.text, Qt.TextElideMode.ElideRight, width - 8)
        self._rect = QRectF(0, 0, width, 16)
        self.setPos(frame.x + 4, frame.y + 2)
        self.setZValue(1.5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

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


class EdgeItem(QGraphicsItem):
    """A tensor between two nodes: a curve with an arrow head and its HxWxC label."""

    def __init__(self, route: Route, theme: Theme, tb: bool):
        super().__init__()
        self.route, self.theme, self.tb = route, theme, tb
        self.setZValue(1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
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
        self.end = pts[-1]
        self.direction = pts[-1] - pts[-2]
        self.label_pos = self._label_anchor(pts) if route.label else QPointF()
        fm = QFontMetricsF(theme.small)
        self.label_rect = QRectF(self.label_pos, fm.size(0, route.label)) if route.label else QRectF()
        self._bounds = path.boundingRect().adjusted(-6, -6, 6, 6).united(self.label_rect)

    def move_to(self, route: Route) -> None:
        """Take ``route``, the same edge shifted (an edit moved its ends): translate, do not rebuild."""
        (x0, y0), (x1, y1) = self.route.points[0], route.points[0]
        d = QPointF(x1 - x0, y1 - y0)
        self.prepareGeometryChange()
        self.route = route
        self.path.translate(d)
        self.end = self.end + d
        self.label_pos = self.label_pos + d
        self.label_rect.translate(d)
        self._bounds.translate(d)

    def _label_anchor(self, pts: list[QPointF]) -> QPointF:
        # The layout picked the point (a free stretch of the edge); TB writes beside the line,
        # LR above it, a residual skip edge beside its lane.
        x, y = self.route.label_at
        w = QFontMetricsF(self.theme.small).horizontalAdvance(self.route.label)
        if self.route.skip:
            return QPointF(x - w - 6, y - 7) if self.tb else QPointF(x - w / 2, y - 16)
        return QPointF(x + 5, y - 7) if self.tb else QPointF(x - w / 2, y - 16)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        t = self.theme
        pen = QPen(t.edge, 1.3)
        if self.route.skip:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(self.path)
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
        head = QPolygonF([e, QPointF(e.x() - 7 * ux + 4 * uy, e.y() - 7 * uy - 4 * ux),
                          QPointF(e.x() - 7 * ux - 4 * uy, e.y() - 7 * uy + 4 * ux)])
        p.setBrush(t.edge)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(head)
        if self.route.label and option.levelOfDetailFromTransform(p.worldTransform()) >= DETAIL_SCALE:
            p.setPen(t.muted)
            p.setFont(t.small)
            p.drawText(self.label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.route.label)
