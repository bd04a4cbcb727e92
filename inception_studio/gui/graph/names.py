"""Level of detail for a zoomed-out graph: below DETAIL_SCALE the items stop writing their own text (it
would be a few pixels high) and the view writes names over the drawing at a readable screen size instead,
block (and run) names first, inside their boxes and expanded frames or beside them, wherever those are
large enough on screen; then each stage's name beside its frame where there is room. Details (ops,
shapes) come back when closer.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from .geometry import Layout

DETAIL_SCALE = 0.45  # at or above this zoom the items write their own labels
BLOCK_KINDS = frozenset({"seq", "inception", "residual", "run", "input", "head", "aux"})
MIN_BOX_PX = 10.0  # a box shorter than this on screen gets no name


def _pill(p: QPainter, rect: QRectF, text: str, fm: QFontMetricsF, fg: QColor, bg: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(bg)
    p.drawRoundedRect(rect, 4, 4)
    p.setPen(fg)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 6))


def _font(theme) -> QFont:
    font = QFont(theme.font)
    font.setPixelSize(10)
    return font


def place_names(view, layout: Layout | None, theme) -> list[tuple[QRectF, str]]:
    """Where the names go over a zoomed-out graph: (rectangle in viewport pixels, name), decided over the whole
    view (a name is left out where it would cover one placed before it); none at or above DETAIL_SCALE."""
    if layout is None or view.transform().m11() >= DETAIL_SCALE:
        return []
    tb = getattr(layout, "orientation", "TB") == "TB"
    fm = QFontMetricsF(_font(theme))
    visible = QRectF(view.viewport().rect())
    taken: list[QRectF] = []
    placed: list[tuple[QRectF, str]] = []

    def screen(x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(view.mapFromScene(x, y), view.mapFromScene(x + w, y + h))

    stages = [(QRectF(f.x, f.y, f.w, f.h), f.label) for f in layout.frames if f.kind == "stage"]
    items = [(b.label + (f" ×{b.count}" if b.count > 1 else ""), b.x, b.y, b.w, b.h)
             for b in layout.boxes.values() if b.kind in BLOCK_KINDS]
    items += [(f.label, f.x, f.y, f.w, f.h) for f in layout.frames if f.kind in ("block", "run")]
    th = fm.height() + 2
    for label, x, y, w, h in items:  # block names first: inside their box or frame, else beside it
        r = screen(x, y, w, h)
        if r.height() < MIN_BOX_PX or r.width() < 24 or not r.intersects(visible):
            continue
        if any(text == label and area.contains(x + w / 2, y + h / 2) for area, text in stages):
            continue  # a one-block stage is named once, by its stage
        tw = fm.horizontalAdvance(label) + 10
        if tw <= r.width() - 2:  # inside the box, at its top
            rect = QRectF(r.center().x() - tw / 2, r.top() + max(0.0, min(2.0, (r.height() - th) / 2)), tw,
                          min(th, r.height()))
        elif tb:  # beside it, in the free space right of the column
            rect = QRectF(r.right() + 6, r.center().y() - th / 2, tw, th)
        else:  # under it
            rect = QRectF(r.center().x() - tw / 2, r.bottom() + 4, tw, th)
        if not any(rect.intersects(t) for t in taken):
            taken.append(rect)
            placed.append((rect, label))
    for area, label in stages:  # then stage names where they fit: left of the frame, else right, else inside
        r = screen(area.x(), area.y(), area.width(), area.height())
        if r.height() < MIN_BOX_PX or not r.intersects(visible):
            continue
        w, top = fm.horizontalAdvance(label) + 12, max(r.top(), 0.0) + 2
        spots = [QRectF(r.left() - w - 6, top, w, th + 2), QRectF(r.right() + 6, top, w, th + 2),
                 QRectF(r.left() + 2, top, w, th + 2)]
        rect = next((q for q in spots if q.left() >= 0 and q.right() <= visible.right()
                     and not any(q.intersects(t) for t in taken)), None)
        if rect is not None:
            taken.append(rect)
            placed.append((rect, label))
    return placed


def paint_names(p: QPainter, placed: list[tuple[QRectF, str]], theme, exposed: QRectF | None = None) -> int:
    """Write the placed names (place_names) that reach ``exposed`` (viewport pixels; None: all); returns how many
    names the view shows."""
    if not placed:
        return 0
    p.save()
    p.setWorldMatrixEnabled(False)
    font = _font(theme)
    fm = QFontMetricsF(font)
    p.setFont(font)
    bg = QColor(theme.base)
    bg.setAlpha(215)
    for rect, label in placed:
        if exposed is None or rect.intersects(exposed):
            _pill(p, rect, label, fm, theme.text, bg)
    p.restore()
    return len(placed)
