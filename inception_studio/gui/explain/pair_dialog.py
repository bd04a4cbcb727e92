"""PairDialog: two short training runs of a quarter-width copy of the spec in view, differing in one
idea (aux heads on/off, residual scale 0.2/1.0), on the demo data or a folder, their loss curves
overlaid (the aux run's main and aux loss apart). The runs are engine.paired_runs on a Worker thread;
this dialog only draws. It is not the Train workspace's panel: its runs write no checkpoints.
"""
from __future__ import annotations

from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from ...core.spec import ArchSpec
from ..shared.plot_grid import light_grid
from ..shared.workers import Worker

# The Okabe-Ito colour-blind-safe palette, as the training plots use.
BLUE, ORANGE, PURPLE = "#0072B2", "#E69F00", "#CC79A7"
WHAT = {"aux": "with and without the auxiliary classifiers (GoogLeNet, Inception-v3)",
        "residual_scale": "every residual block scaled by 0.2 (the paper's range is 0.1 to 0.3) and by 1.0"}


def pair_job(spec: ArchSpec, kind: str, data: str, epochs: int, overrides: dict, should_stop):
    """The worker's generator: import the engine here, off the GUI thread, then run the pair."""
    from ...engine.paired_runs import pair_config, paired_runs

    cfg = pair_config(spec, kind, epochs=epochs, **overrides)
    return (yield from paired_runs(spec, kind, data, cfg, should_stop=should_stop))


def clock(seconds: float) -> str:
    """Seconds for people: "45 s", "3:07"; "?" when unknown."""
    if seconds != seconds or seconds < 0:
        return "?"
    return f"{seconds:.0f} s" if seconds < 60 else f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


class PairDialog(QDialog):
    """The paired runs of one idea (objectName ``pairDialog``)."""

    def __init__(self, document, kind: str, parent: QWidget | None = None, dialogs: bool = True):
        super().__init__(parent)
        self.setObjectName("pairDialog")
        self.setWindowTitle("Train the pair")
        self.document, self.kind, self.dialogs = document, kind, dialogs
        self.spec = document.spec  # the spec as it was when the dialog opened
        self.worker: Worker | None = None
        self.result = None
        self.data = "demo"
        self.overrides: dict = {}  # TrainConfig fields on top of pair_config's (smaller runs in tests)
        self._points: list[dict[str, list]] = [self._empty(), self._empty()]
        self._labels = ["", ""]
        intro = QLabel(f"<b>{escape(self.spec.title)}</b>: two short runs of a quarter-width copy, {WHAT[kind]}. "
                       "Same data split, seed and recipe; only the idea differs. Nothing is saved.")
        intro.setWordWrap(True)
        self.source = QComboBox()
        self.source.setObjectName("pairData")
        self.source.addItems(["Built-in demo data (4 shapes)", "A folder of images…"])
        self.source.setToolTip("What to train on: the demo shapes, or a folder with one subfolder per class")
        self.source.activated.connect(self._source_chosen)
        self.epochs = QSpinBox()
        self.epochs.setObjectName("pairEpochs")
        self.epochs.setRange(1, 50)
        self.epochs.setValue(3)
        self.epochs.setPrefix("epochs: ")
        self.epochs.setToolTip("Epochs per run (each run trains this long)")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("pairStart")
        self.start_button.setToolTip("Train both runs, one after the other (Ctrl+Return)")
        self.start_button.setShortcut("Ctrl+Return")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("pairStop")
        self.stop_button.setToolTip("Stop after the current step (Esc closes the dialog and stops too)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        row = QHBoxLayout()
        for w in (self.source, self.epochs, self.start_button, self.stop_button):
            row.addWidget(w)
        row.addStretch(1)
        self._make_plot(kind)
        self.status = QLabel("Press Start. On a CPU the two runs take a few minutes; the curves grow as they train.")
        self.status.setObjectName("pairStatus")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(row)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.status)
        self.resize(720, 480)
        self._redraw = QTimer(self)
        self._redraw.setInterval(150)
        self._redraw.timeout.connect(self._draw)

    def _make_plot(self, kind: str) -> None:
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("pairPlot")
        self.plot.setBackground(None)
        self.plot.setLabel("left", "loss")
        self.plot.setLabel("bottom", "step")
        light_grid(self.plot)
        self.plot.addLegend(offset=(-10, 10))
        # Main (classifier) losses compared like for like; the aux run's total and aux parts apart.
        self.curves = [self.plot.plot(pen=pg.mkPen(BLUE, width=2), name="run 1: main loss"),
                       self.plot.plot(pen=pg.mkPen(ORANGE, width=2), name="run 2: main loss")]
        self.total_curve = self.aux_curve = None
        if kind == "aux":
            self.total_curve = self.plot.plot(pen=pg.mkPen(BLUE + "88", width=1, style=Qt.PenStyle.DashLine),
                                              name="with aux: total loss")
            self.aux_curve = self.plot.plot(pen=pg.mkPen(PURPLE, width=1.5, style=Qt.PenStyle.DotLine),
                                            name="with aux: aux loss (weighted)")

    @staticmethod
    def _empty() -> dict[str, list]:
        return {"step": [], "loss": [], "main": [], "aux": []}

    # ---- data ------------------------------------------------------------------------------
    def _source_chosen(self, index: int) -> None:
        if index == 0:
            self.data = "demo"
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder of images (one subfolder per class)") \
            if self.dialogs else ""
        if folder:
            self.set_data(folder)
        else:
            self.source.setCurrentIndex(0 if self.data == "demo" else 1)

    def set_data(self, source: str) -> None:
        """Train on ``source``: "demo" or a folder with one subfolder per class."""
        self.data = source
        if source != "demo":
            self.source.setItemText(1, f"Folder: {source}")
            self.source.setCurrentIndex(1)
        else:
            self.source.setCurrentIndex(0)

    # ---- run -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the pair (on its own worker thread)."""
        if self.worker is not None and self.worker.is_running():
            return
        self._points = [self._empty(), self._empty()]
        self.result = None
        self._draw()
        self.worker = Worker(pair_job, self.spec, self.kind, self.data, self.epochs.value(), dict(self.overrides))
        self.worker.progress.connect(self._on_event)
        self.worker.finished.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Loading the engine and the data…")
        self._redraw.start()
        self.worker.start()

    def stop(self) -> None:
        """Ask the runs to stop after the current step."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Stopping…")

    def _on_event(self, pev) -> None:
        from ...engine import train as T  # loaded by the worker already: no wait here

        ev, run = pev.event, pev.run
        self._labels[run] = pev.label
        if isinstance(ev, T.StartEvent):
            self.status.setText(f"Run {run + 1} of 2, {pev.label}: {ev.total_steps} steps at "
                                f"{ev.spec.input_size} px on {ev.train_count} images ({ev.device})")
        elif isinstance(ev, T.StepEvent):
            self.status.setText(f"Run {run + 1} of 2, {pev.label}: step {ev.step} of {ev.total_steps}, "
                                f"about {clock(ev.eta_s)} left in this run")
            p = self._points[run]
            p["step"].append(ev.step)
            p["loss"].append(ev.loss)
            p["main"].append(ev.main_loss)
            p["aux"].append(ev.aux_loss if ev.aux_loss is not None else float("nan"))
        elif isinstance(ev, T.EpochEvent):
            self.status.setText(f"Run {run + 1} of 2, {pev.label}: epoch {ev.epoch}, validation accuracy "
                                f"{100 * ev.val_acc:.0f}%")
        elif isinstance(ev, T.StoppedEvent) and ev.reason == "nan":
            self.status.setText(f"{pev.label}: the loss became NaN and the run stopped ({ev.message})")

    def _draw(self) -> None:
        for i, curve in enumerate(self.curves):
            p = self._points[i]
            curve.setData(p["step"], p["main"])
            if self._labels[i]:
                self.plot.plotItem.legend.items[i][1].setText(f"{self._labels[i]}: main loss")
        if self.aux_curve is not None:
            p = self._points[0]
            self.total_curve.setData(p["step"], p["loss"])
            self.aux_curve.setData(p["step"], p["aux"], connect="finite")

    def _on_done(self, result) -> None:
        self._redraw.stop()
        self._draw()
        self.result = result
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if result is None or self.worker.cancelled:
            self.status.setText("Stopped.")
            return
        parts = [f"{c.label}: last main loss {c.main_loss[-1]:.3f}"
                 + (f", validation accuracy {100 * c.val_acc[-1]:.0f}%" if c.val_acc and c.val_acc[-1] == c.val_acc[-1]
                    else "") for c in result.curves if c.loss]
        self.status.setText("Done. " + "; ".join(parts) + f" ({result.image_size} px, width x{result.width_mult:g}).")

    def _on_failed(self, message: str) -> None:
        self._redraw.stop()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status.setText(f"<span style='color:#c0392b'>{message}</span>")

    def done(self, code: int) -> None:  # closing (Esc, the title bar) stops the runs
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
        super().done(code)
