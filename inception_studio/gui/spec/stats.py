"""Statistics panel: total parameters, multiply-adds, estimated memory (inference and a training
batch), and each stage's share of parameters and compute as bars (pyqtgraph).

pyqtgraph takes about half a second to import, so the chart is built just after the panel is first
shown (or on demand via :meth:`StatsPanel.ensure_chart`); the numbers are there from the start.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from ...core.analysis import Summary, human
from ...core.memory import format_bytes
from ..shared.derived import summary_of
from ..shared.visible import WhenShown

PARAMS_COLOR = QColor(52, 120, 220)
MACS_COLOR = QColor(235, 140, 40)
CHART_DELAY_MS = 400  # after the first paint of the panel
AXIS_STEP = 5.0  # the share axis ends at a multiple of this (percent)


class StatsPanel(QWidget):
    """Totals and per-stage shares for the document's spec (objectName ``statsPanel``)."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("statsPanel")
        self.document = document
        self.chart = None  # pyqtgraph PlotWidget, built lazily
        self._bars: list = []
        self._ticks: list = []  # the stage names the bars stand for, as the left axis shows them
        self._top = 0.0  # the x range's end
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.labels: dict[str, QLabel] = {}
        for key, text, tip in (
            ("params", "Parameters", "Everything build_model creates (aux heads included when on)"),
            ("macs", "Multiply-adds", "One eval forward pass at batch 1 (convolutions and linear layers)"),
            ("mem_infer", "Memory, inference", "Weights plus peak activations at batch 1 (estimate)"),
            ("mem_train", "Memory, training",
             ("Weights, gradients, Adam moments and every activation kept for backward, "
              "at the batch size below (estimate)")),
        ):
            lab = QLabel("—")
            lab.setObjectName(f"stats_{key}")
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setToolTip(tip)
            lab.setWordWrap(True)
            self.labels[key] = lab
            form.addRow(text + ":", lab)
        self.batch = QSpinBox()
        self.batch.setObjectName("statsBatch")
        self.batch.setRange(1, 4096)
        self.batch.setValue(32)
        self.batch.setToolTip("Training batch size for the memory estimate")
        self.batch.valueChanged.connect(lambda _v: self.refresh())
        form.addRow("Training batch:", self.batch)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(form)
        self.chart_title = QLabel("<b>Share per stage</b> — <span style='color:#3478dc'>■</span> params "
                                  "<span style='color:#eb8c28'>■</span> multiply-adds")
        self._layout.addWidget(self.chart_title)
        self._chart_due = False
        self._placeholder = QLabel("loading chart…")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setMinimumHeight(140)
        self._layout.addWidget(self._placeholder, 1)
        self._draw_when_shown = WhenShown(self, lambda: self._draw(self.summary))  # the chart: only when seen
        document.specChanged.connect(lambda _s: self.refresh())
        self.refresh()

    # ---- numbers ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the totals and the bars for the document's spec."""
        s = summary_of(self.document.spec)
        self.summary = s
        aux = f"\n+ {human(s.aux_params)} in aux heads (training only)" if s.aux_params else ""
        self.labels["params"].setText(f"{human(s.params_main)}  ({s.params_main:,}){aux}")
        self.labels["macs"].setText(f"{human(s.macs)}  ({s.macs:,}) at {s.input_size}x{s.input_size}")
        self.labels["mem_infer"].setText(format_bytes(s.memory_bytes(1, training=False)))
        b = self.batch.value()
        self.labels["mem_train"].setText(f"{format_bytes(s.memory_bytes(b, training=True))} at batch {b}")
        if self.chart is not None:
            self._draw_when_shown()

    def values(self) -> dict[str, str]:
        """The totals as shown (for tests and copy)."""
        return {k: lab.text() for k, lab in self.labels.items()}

    def shares(self) -> list[tuple[str, float, float]]:
        """(stage label, % of params, % of multiply-adds) per stage, as the bars show them."""
        s = self.summary
        total_p = max(1, sum(st.params for st in s.stages))
        total_m = max(1, sum(st.macs for st in s.stages))
        return [(st.label, 100.0 * st.params / total_p, 100.0 * st.macs / total_m) for st in s.stages]

    # ---- chart -----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.chart is None and not self._chart_due:
            # Only once the panel is really on screen (not a tab behind another), and after the window's
            # first paint: pyqtgraph takes a while to import and the window must not wait for it.
            self._chart_due = True
            QTimer.singleShot(CHART_DELAY_MS, self.ensure_chart)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.chart is not None:
            self._style_chart(self.chart)  # follow a light/dark switch

    def _style_chart(self, chart) -> None:
        pal = self.palette()
        chart.setBackground(pal.color(QPalette.ColorRole.Base))
        fg = pal.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            ax = chart.getAxis(side)
            ax.setTextPen(fg)
            ax.setPen(fg)

    def ensure_chart(self):
        """Build the pyqtgraph chart now (if not yet) and return it."""
        if self.chart is not None:
            return self.chart
        import pyqtgraph as pg

        chart = pg.PlotWidget()
        chart.setObjectName("statsChart")
        chart.setMenuEnabled(False)
        chart.setMouseEnabled(x=False, y=False)
        chart.hideButtons()
        chart.setLabel("bottom", "% of the network")
        self._style_chart(chart)
        chart.invertY(True)  # first stage on top, as in the graph
        self._layout.replaceWidget(self._placeholder, chart)
        self._placeholder.deleteLater()
        self.chart = chart
        self._draw(self.summary)
        return chart

    def _draw(self, s: Summary) -> None:
        """Show the shares: the bars take their new lengths in place; the stage names and the axis ranges are
        set again only when they change (an edit of one stage's count changes two bars' lengths, no more)."""
        import pyqtgraph as pg

        chart = self.chart
        shares = self.shares()
        ys = list(range(len(shares)))
        params, macs = [sh[1] for sh in shares], [sh[2] for sh in shares]
        ticks = [(y, sh[0]) for y, sh in zip(ys, shares)]
        if self._bars and ticks == self._ticks:
            p, m = self._bars
            p.setOpts(width=params)
            m.setOpts(width=macs)
        else:
            for item in self._bars:
                chart.removeItem(item)
            p = pg.BarGraphItem(x0=0, y=[y - 0.19 for y in ys], height=0.36, width=params, brush=PARAMS_COLOR,
                                pen=None, name="params")
            m = pg.BarGraphItem(x0=0, y=[y + 0.19 for y in ys], height=0.36, width=macs, brush=MACS_COLOR,
                                pen=None, name="multiply-adds")
            chart.addItem(p)
            chart.addItem(m)
            self._bars, self._ticks = [p, m], ticks
            chart.getAxis("left").setTicks([ticks])
            chart.setYRange(-0.6, len(shares) - 0.4, padding=0)
            chart.setMinimumHeight(140)
            self._top = -1.0  # new bars: the range is set again too
        # The axis ends at a whole 5 % past the longest bar, so an edit that moves the bars a little leaves the
        # axis (and its labels, which pyqtgraph lays out again on each change of range) as it is.
        top = math.ceil(max(params + macs + [1.0]) * 1.05 / AXIS_STEP) * AXIS_STEP
        if top != self._top:
            self._top = top
            chart.setXRange(0, top, padding=0)
