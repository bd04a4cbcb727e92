"""TrainingMonitor: the live view of a training run — loss, accuracy and learning-rate plots, the
probe image's feature maps, and after the run the confusion matrix with per-class accuracy.

Only draws: events arrive from the engine via the worker; points are buffered and the plots are
redrawn by a 120 ms timer, one plot a tick (the loss about 4 times a second, the lr once), so a burst of
steps never costs the event loop more than one redraw.
"""
from __future__ import annotations

import math
import time
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...engine.metrics import Smoother
from ..shared.frames import next_frame
from ..shared.labels import message_label
from ..shared.plot_grid import light_grid
from .confusion import ConfusionTable
from .palette import BLUE, GREEN, GREY, ORANGE, PURPLE


def clock_text(seconds: float) -> str:
    """A duration for people: "4.2 s", "3:07", "1:02:03"; "–" when unknown (NaN)."""
    if seconds != seconds or seconds < 0:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _key(colour: str, text: str, dash: bool = False) -> str:
    """A coloured key for a plot title (titles explain the curves without a legend covering them)."""
    mark = "┅" if dash else "━"
    return f"<span style='color:{colour}; font-weight:bold'>{mark}</span>&nbsp;{text}"


def _plot(name: str, title: str, left: str, bottom: str) -> pg.PlotWidget:
    """A plot whose axes are painted once per range: each is cached as a pixmap (text is the slow part of a
    repaint, ~4 ms an axis); the monitor changes ranges now and then, not on every point (sticky_range)."""
    w = pg.PlotWidget()
    w.setObjectName(name)
    w.setBackground(None)
    w.setTitle(title, size="8pt")
    w.setLabel("left", left)
    w.setLabel("bottom", bottom)
    w.grid = light_grid(w)
    w.setMinimumSize(160, 110)
    for side in ("left", "bottom"):
        axis = w.getAxis(side)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return w


def sticky_range(shown: tuple[float, float] | None, wanted: tuple[float, float],
                 room: float = 0.15) -> tuple[float, float]:
    """The axis range to show: ``shown`` while it still holds ``wanted`` and is no more than ~1.3x as wide as a
    new one would be, else ``wanted`` with ``room`` (a share of its span) to grow above it. So the axis, and its
    cached picture, change now and then, not on every point."""
    lo, hi = wanted
    if shown is not None:
        slo, shi = shown
        if slo <= lo and hi <= shi and (shi - slo) <= 1.3 * (1 + room) * max(hi - lo, 1e-12):
            return shown
    return lo, hi + room * (hi - lo)


def mosaic(maps: np.ndarray, pad: int = 1) -> np.ndarray:
    """Tile C x H x W maps (each scaled to 0..1 on its own) into one grid image, NaN between tiles."""
    c, h, w = maps.shape
    cols = max(1, math.ceil(math.sqrt(c)))
    rows = max(1, math.ceil(c / cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for i in range(c):
        m = maps[i].astype(np.float32)
        lo, hi = float(np.nanmin(m)), float(np.nanmax(m))
        m = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        r, q = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = m
    return out


def spike_steps(n: int) -> int:
    """How many first steps the loss axis ignores: the start-up spike (up to 5% of the points, 3 at least)."""
    return min(n // 2, max(3, n // 20))


def _percentile99(arr: np.ndarray) -> float:
    """np.percentile(arr, 99) (linear), without it: its first call imports numpy.ma, ~40 ms on the GUI thread
    at a run's first step."""
    a = np.sort(arr)
    k = 0.99 * (a.size - 1)
    f = math.floor(k)
    c = min(f + 1, a.size - 1)
    return float(a[f] + (a[c] - a[f]) * (k - f))


def loss_range(values: list[float], skip: int = 0, log: bool = False) -> tuple[float, float] | None:
    """The loss axis' range: the finite values after the first ``skip`` ones, up to their 99th percentile,
    so one early spike (or a blow-up at the end) does not flatten the rest. In log10 units when ``log``."""
    arr = np.asarray(values[skip:] if len(values) > skip else values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if log:
        arr = arr[arr > 0]
    if arr.size == 0:
        return None
    lo, hi = float(arr.min()), _percentile99(arr)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
        return (lo - 0.05, hi + 0.05) if hi > lo else (lo - 0.5, lo + 0.5)
    lo = min(0.0, lo)
    return (lo, hi * 1.05) if hi > lo else (lo, lo + 1.0)


class TrainingMonitor(QWidget):
    """Loss / accuracy / learning-rate plots, live feature maps and the confusion matrix of one run."""

    TICK_MS = 120
    # Each plot's shortest time between redraws while points arrive. The loss is what a user watches (~4 a
    # second); the lr follows a known schedule, once a second is enough. A plot's repaint costs ~2 ms of the GUI
    # thread whatever it shows, and its share of a core is taken from the training process's.
    EVERY_S = {"loss": 0.24, "accuracy": 0.24, "lr": 0.96}

    def __init__(self, parent: QWidget | None = None, smoothing: float = 0.9):
        super().__init__(parent)
        self.setObjectName("trainingMonitor")
        self.smoothing = smoothing
        self._build_plots()
        self._build_side()
        self._build_layout()
        # At most one plot per tick: a full repaint of all three costs ~15 ms, and while training competes for
        # the cores that would stall the event loop; one plot at a time stays well short.
        self._timer = QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self._drawn_at: dict[str, float] = {}
        self._whole_epochs: bool | None = None  # the epoch axis's tick spacing (whole epochs up to 20)
        self.reset()

    def _build_plots(self) -> None:
        """The loss (with its hint and log switch), accuracy and learning-rate plots and their curves."""
        self.loss_plot = _plot("lossPlot", " &nbsp;".join(
            [_key(BLUE, "loss"), _key(GREEN, "main"), _key(PURPLE, "aux"), _key(ORANGE, "val")]), "loss", "step")
        self.loss_plot.setToolTip("Training loss per step (faint) and smoothed; with aux heads, the main loss and "
                                  "the weighted aux loss apart; validation loss at each epoch's end")
        self.accuracy_plot = _plot("accuracyPlot", "accuracy " + " &nbsp;".join(
            [_key(ORANGE, "val"), _key(BLUE, "train", dash=True)]), "%", "epoch")
        self.accuracy_plot.setYRange(0, 100, padding=0.02)
        self.lr_plot = _plot("lrPlot", "Learning rate", "lr", "step")
        for p in (self.loss_plot, self.lr_plot):
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
        lp = self.loss_plot
        self.raw_curve = lp.plot(pen=pg.mkPen(BLUE + "55", width=1))  # every step, faint
        self.smooth_curve = lp.plot(pen=pg.mkPen(BLUE, width=2))
        self.main_curve = lp.plot(pen=pg.mkPen(GREEN, width=1.5))
        self.aux_curve = lp.plot(pen=pg.mkPen(PURPLE, width=1.5))
        self.val_loss_curve = lp.plot(pen=pg.mkPen(ORANGE, width=2), symbol="o", symbolSize=6, symbolBrush=ORANGE)
        ap = self.accuracy_plot
        self.val_acc_curve = ap.plot(pen=pg.mkPen(ORANGE, width=2), symbol="o", symbolSize=6, symbolBrush=ORANGE)
        self.train_acc_curve = ap.plot(pen=pg.mkPen(BLUE, width=2, style=Qt.PenStyle.DashLine), symbol="s",
                                       symbolSize=5, symbolBrush=BLUE)
        self.lr_curve = self.lr_plot.plot(pen=pg.mkPen(GREY, width=2))
        self.log_loss = QCheckBox("log scale", objectName="lossLogScale")
        self.log_loss.setToolTip("Loss on a logarithmic axis (late, small improvements stay visible)")
        self.log_loss.toggled.connect(self.set_log_loss)
        self.hint = message_label("learningHint", "hint")
        self._follow_y = True  # the loss axis tracks the curve until the user zooms or pans it
        self.loss_plot.getViewBox().sigRangeChangedManually.connect(self._user_moved_loss)

    def _build_side(self) -> None:
        """The side tabs: live feature maps and the confusion matrix."""
        self.maps_title = QLabel("Select a block or conv in the graph to watch its feature maps form.",
                                 objectName="liveMapsTitle")
        self.maps_title.setWordWrap(True)
        self.maps_view = pg.GraphicsLayoutWidget()
        self.maps_view.setObjectName("liveFeatureMaps")
        self.maps_view.setBackground(None)
        self._maps_box = self.maps_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self._maps_item = pg.ImageItem(axisOrder="row-major")
        self._maps_item.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self._maps_box.addItem(self._maps_item)
        maps = QWidget()
        ml = QVBoxLayout(maps)
        ml.setContentsMargins(4, 4, 4, 4)
        ml.addWidget(self.maps_title)
        ml.addWidget(self.maps_view, 1)

        self.confusion = ConfusionTable()
        self.confusion_note = QLabel("After training: the validation split's confusion matrix "
                                     "(rows: true class, columns: predicted).", objectName="confusionNote")
        self.confusion_note.setWordWrap(True)
        conf = QWidget()
        cl = QVBoxLayout(conf)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.addWidget(self.confusion_note)
        cl.addWidget(self.confusion, 1)

        self.side = QTabWidget(objectName="monitorTabs")
        self.side.addTab(maps, "Live feature maps")
        self.side.addTab(conf, "Confusion matrix")

    def _build_layout(self) -> None:
        """Curves on the left (loss above accuracy | lr), the side tabs on the right."""
        # Loss above accuracy | lr in a tall dock; all three side by side in a wide, short one.
        self.curves = QSplitter(Qt.Orientation.Vertical)
        loss_box = QWidget()
        lb = QVBoxLayout(loss_box)
        lb.setContentsMargins(0, 0, 0, 0)
        lb.setSpacing(2)
        lb.addWidget(self.hint)
        lb.addWidget(self.loss_plot, 1)
        lb.addWidget(self.log_loss, 0, Qt.AlignmentFlag.AlignRight)
        self.curves.addWidget(loss_box)
        self.small_plots = QSplitter(Qt.Orientation.Horizontal)
        self.small_plots.addWidget(self.accuracy_plot)
        self.small_plots.addWidget(self.lr_plot)
        self.curves.addWidget(self.small_plots)
        self.curves.setSizes([300, 200])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.curves)
        split.addWidget(self.side)
        split.setSizes([680, 320])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() > 3.2 * max(1, self.height())
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.curves.orientation() != orientation:
            self.curves.setOrientation(orientation)
            self.curves.setSizes([2, 1] if not wide else [3, 2])

    # ---- data in -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every point (a new run)."""
        self.steps: list[int] = []
        self.loss: list[float] = []
        self.smooth: list[float] = []
        self.main: list[float] = []
        self.aux: list[float] = []
        self.lr: list[float] = []
        self.epoch_steps: list[int] = []
        self.val_loss: list[float] = []
        self.epochs: list[int] = []
        self.val_acc: list[float] = []
        self.train_acc: list[float] = []
        self._s_all, self._s_main, self._s_aux = (Smoother(self.smoothing) for _ in range(3))
        self._dirty = {"loss", "accuracy", "lr"}
        self._follow_y = True
        self._loss_span: tuple[float, float] | None = None
        self._lr_span: tuple[float, float] | None = None
        # The axes keep their ranges (and cached pictures) until the run's StartEvent gives its length.
        self.show_hint("")
        self.redraw_all()

    def set_length(self, total_steps: int, epochs: int) -> None:
        """The run's length: the step and epoch axes span it from the start (their pictures stay cached).
        One plot per event-loop turn, two frames apart: a new range repaints an axis and its grid (~12 ms
        each), and three at once held the event loop for 35-50 ms."""
        self._length = (max(1, total_steps), max(1, epochs))
        for i, plot in enumerate((self.loss_plot, self.lr_plot, self.accuracy_plot)):
            next_frame(plot, partial(self._apply_length, plot), frames=2 * i)

    def _apply_length(self, plot: pg.PlotWidget) -> None:
        steps, epochs = self._length
        if plot is self.accuracy_plot:
            plot.setXRange(0.5, epochs + 0.5, padding=0)
        else:
            plot.setXRange(0, steps, padding=0.02)

    def add_step(self, step: int, loss: float, main: float, aux: float | None, lr: float) -> None:
        """Buffer one logged step (drawn at the next timer tick)."""
        self.steps.append(step)
        self.loss.append(loss)
        self.smooth.append(self._s_all.update(loss))
        self.main.append(self._s_main.update(main))
        self.aux.append(self._s_aux.update(aux) if aux is not None else math.nan)
        self.lr.append(lr)
        self._dirty |= {"loss", "lr"}

    def add_epoch(self, epoch: int, step: int, val_loss: float, val_acc: float, train_acc: float) -> None:
        """Buffer one epoch's validation loss/accuracy and training accuracy."""
        self.epochs.append(epoch)
        self.epoch_steps.append(step)
        self.val_loss.append(val_loss)
        self.val_acc.append(100 * val_acc if math.isfinite(val_acc) else math.nan)
        self.train_acc.append(100 * train_acc if math.isfinite(train_acc) else math.nan)
        self._dirty |= {"loss", "accuracy"}

    def show_maps(self, title: str, maps: np.ndarray) -> None:
        """Show the probe image's activations (C x H x W) as one tiled image."""
        self.maps_title.setText(title)
        self._maps_item.setImage(mosaic(np.asarray(maps, dtype=np.float32)), levels=(0.0, 1.0))
        self._maps_box.autoRange(padding=0.01)

    def show_confusion(self, confusion: np.ndarray, classes: list[str], per_class: list[float]) -> None:
        """Fill the confusion matrix and bring its tab forward."""
        self.confusion.show_matrix(confusion, classes, per_class)
        total = int(np.asarray(confusion).sum())
        acc = float(np.trace(confusion)) / total if total else math.nan
        self.confusion_note.setText(f"Validation: {total} images, accuracy "
                                    f"{'–' if not math.isfinite(acc) else f'{100 * acc:.1f}%'} "
                                    "(rows: true class, columns: predicted)")
        self.side.setCurrentIndex(1)

    # ---- drawing -----------------------------------------------------------------------------
    def redraw(self) -> None:
        """Push buffered points to one plot that has new ones and is due (the timer calls this): the one
        waiting longest."""
        now = time.monotonic()
        slack = self.TICK_MS / 2000  # half a tick: a plot due "nearly now" is drawn at this tick, not the next
        due = [n for n in self._dirty if now - self._drawn_at.get(n, -math.inf) >= self.EVERY_S[n] - slack]
        if due:
            name = min(due, key=lambda n: self._drawn_at.get(n, -math.inf))
            self._dirty.discard(name)
            self._drawn_at[name] = now
            getattr(self, f"_draw_{name}")()

    def redraw_all(self) -> None:
        """Push every buffered point now (end of a run); the lr axis fits the whole schedule."""
        self._lr_span = None
        for name in ("loss", "lr", "accuracy"):
            getattr(self, f"_draw_{name}")()
        self._dirty.clear()

    def _draw_loss(self) -> None:
        x = np.asarray(self.steps, dtype=np.float64)
        self.raw_curve.setData(x, np.asarray(self.loss, dtype=np.float64))
        self.smooth_curve.setData(x, np.asarray(self.smooth, dtype=np.float64))
        has_aux = any(math.isfinite(a) for a in self.aux)
        # Main and aux losses apart only when there are aux heads (else "main" is just the loss again).
        for curve, ys in ((self.main_curve, self.main), (self.aux_curve, self.aux)):
            if has_aux:
                curve.setData(x, np.asarray(ys, dtype=np.float64))
            else:
                curve.setData([], [])
            curve.setVisible(has_aux)
        self.val_loss_curve.setData(np.asarray(self.epoch_steps, dtype=np.float64),
                                    np.asarray(self.val_loss, dtype=np.float64))
        if self._follow_y:
            span = loss_range([*self.loss, *self.val_loss], skip=spike_steps(len(self.loss)),
                              log=self.log_loss.isChecked())
            if span is not None:
                span = sticky_range(self._loss_span, span)
                if span != self._loss_span:
                    self._loss_span = span
                    self.loss_plot.setYRange(*span, padding=0.02)

    def set_log_loss(self, on: bool) -> None:
        """Show the loss on a log axis (True) or a linear one."""
        self.loss_plot.setLogMode(False, bool(on))
        self._follow_y = True
        self._loss_span = None
        self._draw_loss()

    def _user_moved_loss(self, *_a) -> None:
        self._follow_y = False

    def show_hint(self, text: str) -> None:
        """A one-line "not learning" hint above the loss plot (hidden when empty)."""
        self.hint.setText(f"⚠ {text}" if text else "")
        self.hint.setVisible(bool(text))

    def _draw_lr(self) -> None:
        self.lr_curve.setData(np.asarray(self.steps, dtype=np.float64), np.asarray(self.lr, dtype=np.float64))
        if not self.lr:
            return
        # From 0 (a constant lr is a line, not noise). While a warm-up raises the lr, the axis doubles when the
        # curve reaches its top: repainting it (~4 ms) at every tick of a run's first quarter cost 1-2% of a core.
        room = 0.1 if self._lr_span is None else 1.0
        span = sticky_range(self._lr_span, (0.0, max(self.lr)), room=room)
        if span != self._lr_span:
            self._lr_span = span
            self.lr_plot.setYRange(*span, padding=0)

    def _draw_accuracy(self) -> None:
        e = np.asarray(self.epochs, dtype=np.float64)
        self.val_acc_curve.setData(e, np.asarray(self.val_acc, dtype=np.float64))
        self.train_acc_curve.setData(e, np.asarray(self.train_acc, dtype=np.float64))
        whole = len(self.epochs) <= 20
        if whole != self._whole_epochs:  # (a new spacing repaints the axis)
            self._whole_epochs = whole
            axis = self.accuracy_plot.getAxis("bottom")
            if whole:
                axis.setTickSpacing(major=5, minor=1)  # whole epochs
            else:
                axis.setTickSpacing()

    def point_counts(self) -> dict[str, int]:
        """How many points each curve holds (what a user sees drawn)."""
        def n(curve: pg.PlotDataItem) -> int:
            xs = curve.getData()[0]
            return 0 if xs is None else len(xs)

        return {"loss": n(self.raw_curve), "aux": n(self.aux_curve), "val_loss": n(self.val_loss_curve),
                "accuracy": n(self.val_acc_curve), "lr": n(self.lr_curve)}
