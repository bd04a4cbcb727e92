"""The confusion matrix of a finished run, as a table shaded by each true class's share."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from .palette import GREEN


class ConfusionTable(QTableWidget):
    """Confusion matrix (rows: true class, columns: predicted) shaded by row share, plus each class's accuracy."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.matrix: np.ndarray | None = None
        self.per_class: list[float] = []
        self.horizontalHeader().setMinimumSectionSize(36)

    def show_matrix(self, confusion: np.ndarray, classes: list[str], per_class: list[float]) -> None:
        """Fill the table from a confusion matrix and the per-class accuracies."""
        self.matrix = np.asarray(confusion)
        self.per_class = list(per_class)
        n = len(classes)
        self.clear()
        self.setRowCount(n)
        self.setColumnCount(n + 1)
        self.setHorizontalHeaderLabels(list(classes) + ["acc."])
        self.horizontalHeaderItem(n).setToolTip("accuracy: the share of this class's images predicted right")
        self.setVerticalHeaderLabels(list(classes))
        rows = self.matrix.sum(1)
        for i in range(n):
            for j in range(n):
                v = int(self.matrix[i, j])
                item = QTableWidgetItem(str(v))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = v / rows[i] if rows[i] else 0.0
                hue = GREEN if i == j else "#D55E00"
                colour = QColor(hue)
                colour.setAlphaF(0.12 + 0.75 * share if v else 0.0)
                item.setBackground(QBrush(colour))
                item.setToolTip(f"true {classes[i]}, predicted {classes[j]}: {v} of {int(rows[i])}")
                self.setItem(i, j, item)
            acc = self.per_class[i] if i < len(self.per_class) else math.nan
            item = QTableWidgetItem("–" if not math.isfinite(acc) else f"{100 * acc:.0f}%")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setItem(i, n, item)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # the accuracy column as wide as "100%" needs (stretched like the counts it read "10..." in a narrow dock)
        header.setSectionResizeMode(n, QHeaderView.ResizeMode.ResizeToContents)
