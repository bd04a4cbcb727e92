"""Grid lines for the app's pyqtgraph plots that cost little to paint.

pyqtgraph's own grid (``showGrid``) is drawn by the axes: each axis then covers the whole plot, and its cached
picture is a pixmap the plot's size, redrawn with the tick labels whenever the plot is resized or its range
changes. With three plots on screen that was most of a workspace switch (~25 of ~55 ms on the GUI thread).
Here the lines are one path in the view, at the axes' major ticks, rebuilt when the range or size changes and
painted directly (a few lines); the axes stay thin strips.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainterPath, QPen

ALPHA = 0.2  # as showGrid(alpha=0.2)


class LightGrid(pg.GraphicsObject):
    """Lines at the major ticks of a plot's left and bottom axes, behind its curves."""

    def __init__(self, plot: pg.PlotItem, alpha: float = ALPHA):
        super().__init__()
        self._plot, self._alpha = plot, alpha
        self._path = QPainterPath()
        self._rect = QRectF()
        self.setZValue(-1000)
        vb = plot.getViewBox()
        vb.sigRangeChanged.connect(self.refresh)
        vb.sigResized.connect(self.refresh)
        plot.addItem(self, ignoreBounds=True)
        self.refresh()

    def _ticks(self, side: str, lo: float, hi: float, pixels: float) -> list[float]:
        axis = self._plot.getAxis(side)
        if pixels <= 0 or not hi > lo:
            return []
        levels = axis.tickValues(lo, hi, pixels)
        return [float(v) for v in levels[0][1]] if levels else []

    def refresh(self, *_args) -> None:
        """Rebuild the lines for the view's range and size now."""
        vb = self._plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        size = vb.size()
        path = QPainterPath()
        for y in self._ticks("left", y0, y1, size.height()):
            path.moveTo(x0, y)
            path.lineTo(x1, y)
        for x in self._ticks("bottom", x0, x1, size.width()):
            path.moveTo(x, y0)
            path.lineTo(x, y1)
        self.prepareGeometryChange()
        self._path, self._rect = path, QRectF(x0, y0, x1 - x0, y1 - y0).normalized()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter, *_args) -> None:
        colour = QColor(self._plot.getAxis("left").pen().color())
        colour.setAlphaF(self._alpha)
        pen = QPen(colour, 0)  # cosmetic: one device pixel wide
        painter.setPen(pen)
        painter.drawPath(self._path)


def light_grid(plot: pg.PlotWidget | pg.PlotItem, alpha: float = ALPHA) -> LightGrid:
    """Add grid lines to ``plot`` (a PlotWidget or its PlotItem) in place of ``showGrid``; returns the item."""
    item = plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot
    return LightGrid(item, alpha)
