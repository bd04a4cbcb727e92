"""LRFinderView: the learning-rate finder's loss-vs-lr curve (log x), drawn live, with the suggested
learning rate marked. Drawing only: the panel runs the finder and feeds points and the result."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..shared.plot_grid import light_grid

BLUE, ORANGE = "#0072B2", "#D55E00"


class LRFinderView(QWidget):
    """A pyqtgraph plot of the finder's smoothed loss against the learning rate."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lrFinderView")
        self.title = QLabel("Learning-rate finder: press Find… beside the learning rate.", objectName="lrFinderTitle")
        self.title.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("lrFinderPlot")
        self.plot.setBackground(None)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "loss (smoothed)")
        light_grid(self.plot)
        self.curve = self.plot.plot(pen=pg.mkPen(BLUE, width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(ORANGE, width=2))
        self.marker.setVisible(False)
        self.plot.addItem(self.marker)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 1)
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.suggestion: float | None = None

    def start(self, steps: int) -> None:
        """A new search of up to ``steps`` steps."""
        self.lrs, self.losses, self.suggestion = [], [], None
        self.curve.setData([], [])
        self.marker.setVisible(False)
        self.title.setText(f"Learning-rate finder: up to {steps} steps with a growing learning rate…")

    def add_point(self, lr: float, loss: float) -> None:
        """One step of the search."""
        self.lrs.append(lr)
        self.losses.append(loss)
        self.curve.setData(np.asarray(self.lrs), np.asarray(self.losses))
        self._fit_y()

    def show_result(self, result) -> None:
        """The whole curve and the suggestion (an engine LRFindResult)."""
        self.lrs, self.losses = list(result.lrs), list(result.losses)
        self.curve.setData(np.asarray(self.lrs), np.asarray(self.losses))
        self.suggestion = result.suggestion
        self.marker.setPos(math.log10(result.suggestion))  # log-x plots place items in log10 units
        self.marker.setVisible(True)
        self._fit_y()
        self.title.setText(f"Suggested learning rate {result.suggestion:.2g} (orange line; applied): a tenth of "
                           f"{result.lowest:.2g}, where the loss was lowest. {len(result.lrs)} steps, "
                           f"{result.seconds:.1f} s.")

    def _fit_y(self) -> None:
        ys = np.asarray(self.losses, dtype=np.float64)
        ys = ys[np.isfinite(ys)]
        if ys.size:
            lo, hi = float(ys.min()), float(min(ys.max(), 3 * ys[: max(1, ys.size // 3)].max()))
            self.plot.setYRange(lo, max(hi, lo + 1e-3), padding=0.05)
