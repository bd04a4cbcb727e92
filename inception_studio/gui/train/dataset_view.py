"""DatasetView: choose the training data (drop or browse a class-per-subfolder folder, or the demo
set) and see its summary — classes, image counts, sample thumbnails, and the files that were skipped.

Scanning (header checks of every file) and thumbnail decoding run on a Worker; only the finished
summary is drawn here. Bad folders are reported in the panel as one line; the app keeps running.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import data as D
from ...engine.train import DataProfile, TrainData, prepare_data, profile_images
from ...errors import ImageError
from ..shared.labels import message_label
from ..shared.workers import Worker

THUMBS_PER_CLASS = 4
THUMB = 40


def scan_with_thumbnails(source: str, val_fraction: float, seed: int = 0, per_class: int = THUMBS_PER_CLASS,
                         size: int = THUMB) -> tuple[TrainData, dict, DataProfile]:
    """(split data, {class: [HxWx3 uint8 thumbnails]}, what the auto recipe looks at); runs on a worker."""
    data = prepare_data(source, val_fraction, seed)
    profile = profile_images([p for p, _ in data.train], len(data.classes))
    thumbs: dict[str, list[np.ndarray]] = {c: [] for c in data.classes}
    for path, label in data.train + data.val:
        name = data.classes[label]
        if len(thumbs[name]) >= per_class:
            continue
        try:
            img = D.load_image(path)
        except ImageError:
            continue
        img.thumbnail((size, size))
        thumbs[name].append(np.asarray(img.convert("RGB"), dtype=np.uint8).copy())
    return data, thumbs, profile


def thumbnail_strip(images: list[np.ndarray], size: int = THUMB, gap: int = 3) -> QPixmap:
    """Side-by-side thumbnails as one pixmap (GUI thread; a handful of tiny images)."""
    pm = QPixmap(max(1, len(images)) * (size + gap), size)
    pm.fill(Qt.GlobalColor.transparent)
    from PySide6.QtGui import QPainter

    painter = QPainter(pm)
    for i, a in enumerate(images):
        h, w = a.shape[:2]
        qimg = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        painter.drawImage(i * (size + gap) + (size - w) // 2, (size - h) // 2, qimg)
    painter.end()
    return pm


class DatasetView(QWidget):
    """Data chooser and summary; emits ``dataChanged`` with the split TrainData (None while unset)."""

    dataChanged = Signal(object)  # TrainData | None
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None, dialogs: bool = True):
        super().__init__(parent)
        self.dialogs = dialogs
        self.data: TrainData | None = None
        self.from_memory = False  # the data shown is the last session's, loaded at start-up (not chosen now)
        self.profile: DataProfile | None = None
        self.thumbs: dict[str, list[np.ndarray]] = {}
        self._worker: Worker | None = None
        self._again: str | None = None
        self.setAcceptDrops(True)
        self.path = QLineEdit(objectName="datasetPath")
        self.path.setPlaceholderText("Drop a folder of class subfolders here, or type a path")
        self.path.setToolTip("A folder with one subfolder per class (the ImageFolder layout), or 'demo'")
        self.path.setMinimumWidth(60)
        self.path.returnPressed.connect(lambda: self.load(self.path.text()))
        self.browse = QPushButton("Browse…", objectName="datasetBrowse")
        self.browse.clicked.connect(self._browse)
        self.demo = QPushButton("Demo", objectName="datasetDemo")
        self.demo.setToolTip("4 classes of synthetic shapes that a small model learns in about a minute on a CPU")
        self.demo.clicked.connect(lambda: self.load("demo"))
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        row.addWidget(self.demo)
        self.val_fraction = QDoubleSpinBox(objectName="valFraction")
        self.val_fraction.setRange(0.0, 0.5)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setValue(0.2)
        self.val_fraction.setToolTip("Share of each class held out for validation")
        self.val_fraction.editingFinished.connect(self._refresh_split)
        split = QHBoxLayout()
        split.addWidget(QLabel("Validation share"))
        split.addWidget(self.val_fraction)
        split.addStretch(1)
        self.summary = QLabel("No data yet.", objectName="datasetSummary")
        self.summary.setWordWrap(True)
        self.error = message_label("datasetError")
        self.table = QTableWidget(0, 3, objectName="classTable")
        self.table.setHorizontalHeaderLabels(["class", "images", "samples"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(THUMBS_PER_CLASS * (THUMB + 3), THUMB))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(90)
        self.skipped_label = QLabel("", objectName="skippedLabel")
        self.skipped = QListWidget(objectName="skippedList")
        self.skipped.setMaximumHeight(90)
        self.skipped_label.hide()
        self.skipped.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addLayout(split)
        lay.addWidget(self.summary)
        lay.addWidget(self.error)
        lay.addWidget(self.table)
        lay.addWidget(self.skipped_label)
        lay.addWidget(self.skipped)

    # ---- choosing ------------------------------------------------------------------------------
    def _browse(self) -> None:
        if not self.dialogs:
            return
        folder = QFileDialog.getExistingDirectory(self, "Training data: a folder of class subfolders")
        if folder:
            self.load(folder)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:
            self.load(folders[0])
        elif paths:
            self._fail(f"{Path(paths[0]).name}: drop a folder whose subfolders are the classes")
        event.acceptProposedAction()

    def load(self, source: str, from_memory: bool = False) -> None:
        """Scan ``source`` ("demo" or a folder) on a worker; the summary follows when it is done.
        ``from_memory``: the last session's data, read back at start-up (see ``from_memory``)."""
        source = source.strip()
        if not source:
            return
        self.from_memory = from_memory
        self.path.setText(source)
        if self._worker is not None and self._worker.is_running():
            self._again = source  # scan the latest choice once the current scan ends
            return
        self.error.hide()
        self.summary.setText(f"Scanning {source}…")
        self._worker = Worker(scan_with_thumbnails, source, self.val_fraction.value())
        self._worker.finished.connect(self._on_scanned)
        self._worker.failed.connect(self._fail)
        self._worker.start()

    def _refresh_split(self) -> None:
        if self.data is not None:
            self.load(self.path.text())

    def busy(self) -> bool:
        """True while a scan runs."""
        return self._worker is not None and self._worker.is_running()

    def _next(self) -> bool:
        if self._again is not None:
            again, self._again = self._again, None
            self._worker = None  # the scan answering now still counts as running until its handler returns
            self.load(again)
            return True
        return False

    def _fail(self, message: str) -> None:
        if self._next():
            return
        self.error.setText(message)
        self.error.show()
        self.summary.setText("No usable data.")
        self.message.emit(message)

    # ---- showing -------------------------------------------------------------------------------
    def _on_scanned(self, result) -> None:
        if self._next() or result is None:
            return
        data, thumbs, profile = result
        self.set_data(data, thumbs, profile)

    def set_data(self, data: TrainData, thumbs: dict | None = None, profile: DataProfile | None = None) -> None:
        """Show a scanned dataset and announce it (``profile``: read from the files' headers when not given)."""
        self.data, self.thumbs = data, thumbs or {}
        self.profile = profile or profile_images([p for p, _ in data.train], len(data.classes))
        self.error.hide()
        n_val = {c: 0 for c in data.classes}
        for _, label in data.val:
            n_val[data.classes[label]] += 1
        self.summary.setText(
            f"<b>{len(data.classes)} classes</b>, {len(data.train)} training / {len(data.val)} validation images"
            + (f", <span style='color:#D55E00'>{len(data.skipped)} skipped</span>" if data.skipped else "")
            + f"<br><small>{data.root}</small>")
        self.table.setRowCount(len(data.classes))
        for i, name in enumerate(data.classes):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            count = QTableWidgetItem(f"{data.counts.get(name, 0)} ({n_val[name]} val)")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, 1, count)
            cell = QTableWidgetItem()
            if self.thumbs.get(name):
                cell.setData(Qt.ItemDataRole.DecorationRole, thumbnail_strip(self.thumbs[name]))
            self.table.setItem(i, 2, cell)
            self.table.setRowHeight(i, THUMB + 6)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        # As tall as its rows (up to about six), so the panel has no empty table area.
        rows_h = sum(self.table.rowHeight(i) for i in range(min(6, len(data.classes))))
        self.table.setFixedHeight(rows_h + self.table.horizontalHeader().height() + 2 * self.table.frameWidth())
        self.skipped.clear()
        for path, reason in data.skipped:
            self.skipped.addItem(f"{Path(path).parent.name}/{Path(path).name}: {reason}")
        self.skipped_label.setText(f"{len(data.skipped)} file(s) skipped — not readable images:")
        self.skipped_label.setVisible(bool(data.skipped))
        self.skipped.setVisible(bool(data.skipped))
        if data.empty_classes:
            self.message.emit(f"ignored empty class folder(s): {', '.join(data.empty_classes)}")
        self.dataChanged.emit(data)
