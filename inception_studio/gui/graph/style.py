"""The colours, pens and fonts the graph is drawn with (one Theme per palette, light or dark).

Pens and brushes are made once per theme and per kind, not on every paint: a fully expanded
Inception-ResNet-v2 paints over a thousand items each time an edit moves them.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPalette, QPen
from PySide6.QtWidgets import QApplication

# Hue per kind: blocks by what they are, ops by what they do.
_HUES = {
    "input": 210, "head": 210, "aux": 280, "seq": 215, "inception": 205, "residual": 150, "reduction": 28,
    "conv": 200, "sepconv": 185, "maxpool": 40, "avgpool": 48, "lrn": 0, "dropout": 0, "proj": 265,
    "concat": 50, "add": 130, "port": 0,
}
_GREY = ("lrn", "dropout", "port", "seq")
MARK_COLORS = {"diff": QColor(230, 120, 20), "reinitialised": QColor(200, 40, 120), "search": QColor(30, 160, 230)}
_FRAME_ALPHA = {"stage": 18, "block": 26, "run": 14, "branch": 10}


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
        self.small_metrics, self.title_metrics = self._metrics[False], QFontMetricsF(self.title)
        self._widths: dict[tuple[str, bool], float] = {}
        self._kinds: dict[str, tuple[QPen, QBrush]] = {}
        self._frames: dict[str, tuple[QPen, QBrush]] = {}
        self.edge_pen = QPen(self.edge, 1.3)
        self.skip_pen = QPen(self.edge, 1.3, Qt.PenStyle.DashLine)
        self.edge_brush = QBrush(self.edge)
        self.select_pen = QPen(self.select, 3.2)

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

    def node_paint(self, kind: str) -> tuple[QPen, QBrush]:
        """(outline pen, fill brush) of a node of ``kind``."""
        hit = self._kinds.get(kind)
        if hit is None:
            hit = self._kinds[kind] = (QPen(self.border(kind), 1.2), QBrush(self.fill(kind)))
        return hit

    def frame_paint(self, kind: str) -> tuple[QPen, QBrush]:
        """(outline pen, tinted fill) of a frame of ``kind`` (stage, block, run, branch)."""
        hit = self._frames.get(kind)
        if hit is None:
            tint = QColor(self.frame)
            tint.setAlpha(_FRAME_ALPHA.get(kind, 12))
            dashed = Qt.PenStyle.DashLine if kind in ("branch", "run") else Qt.PenStyle.SolidLine
            hit = self._frames[kind] = (QPen(QColor(self.frame), 1.0, dashed), QBrush(tint))
        return hit
