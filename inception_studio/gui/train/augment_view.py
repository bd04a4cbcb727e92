"""AugmentPreview: a few of the user's training images as the model will be fed them (random crop,
flip, colour jitter, resize), redrawn when the settings change. Drawing only: the panel computes the
samples on a worker (engine.train.augmented_samples)."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .dataset_view import thumbnail_strip

SIZE = 48


class AugmentPreview(QWidget):
    """A strip of augmented samples with their class names in the tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("augmentPreview")
        self.title = QLabel("As the model sees them: choose data to preview the augmentation.",
                            objectName="augmentTitle")
        self.title.setWordWrap(True)
        self.strip = QLabel(objectName="augmentStrip")
        self.strip.setMinimumHeight(SIZE)
        # The strip never widens the panel: in a narrow dock the last samples are cut off instead.
        self.strip.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.strip)
        self.samples: list[tuple[np.ndarray, str]] = []

    def show_samples(self, samples: list[tuple[np.ndarray, str]], what: str) -> None:
        """Show (HxWx3 uint8, class name) samples; ``what`` names the settings they were drawn with."""
        self.samples = list(samples)
        shown = []
        for img, _ in samples:
            h, w = img.shape[:2]
            step = max(1, int(np.ceil(max(h, w) / SIZE)))  # nearest-neighbour: pixels stay visible
            small = img[::step, ::step]
            if small.shape[0] < SIZE // 2:
                rep = max(1, SIZE // max(small.shape[:2]))
                small = np.repeat(np.repeat(small, rep, 0), rep, 1)
            shown.append(np.ascontiguousarray(small))
        self.strip.setPixmap(thumbnail_strip(shown, SIZE, 4))
        self.strip.setToolTip(", ".join(name for _, name in samples))
        self.title.setText(f"As the model sees them ({what}):")

    def show_message(self, text: str) -> None:
        """A line instead of samples (no data yet, or the preview failed)."""
        self.samples = []
        self.strip.clear()
        self.title.setText(text)
