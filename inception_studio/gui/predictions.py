"""The Run panel and its widgets that show images and what the model says about them: the drop zone,
the strip of thumbnails, the top-k probability bars, and the model-input preview with its Grad-CAM
overlay. Presentation only; gui/inference.py feeds them engine results.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .device_bar import ERROR_STYLE, DeviceBar

THUMB_PX = 72


def to_qimage(rgb: np.ndarray) -> QImage:
    """An HxWx3 uint8 array as a QImage (a copy, so the array may go away)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_to_pil(image: QImage):
    """A QImage (pasted or dragged pixels) as an RGB PIL image."""
    from PIL import Image
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)[:, :3 * w]
    return Image.fromarray(rows.reshape(h, w, 3).copy(), "RGB")


def ask_images(parent: QWidget) -> list[str]:
    """Ask for image files ([] when cancelled or dialogs are off)."""
    from PySide6.QtWidgets import QFileDialog

    from ..engine.data import IMAGE_EXTENSIONS
    from .settings import dialogs_allowed
    if not dialogs_allowed():
        return []
    pattern = " ".join(f"*{e}" for e in sorted(IMAGE_EXTENSIONS))
    paths, _ = QFileDialog.getOpenFileNames(parent, "Open images", "", f"Images ({pattern});;All files (*)")
    return paths


def local_paths(mime) -> list[str]:
    """The local file paths in a drop's or the clipboard's QMimeData."""
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class DropZone(QFrame):
    """Target for dropped image files, folders and images (``dropZone``); also Open… and Paste buttons."""

    filesDropped = Signal(list)  # local paths (files and folders)
    filesHovered = Signal(list)  # local paths of a drag that entered (decoded ahead of the drop)
    hoverEnded = Signal()  # that drag left without dropping
    imageDropped = Signal(object)  # a QImage (dragged from another app, or pasted)
    openRequested = Signal()
    pasteRequested = Signal()
    clearRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumHeight(64)
        self.label = QLabel("Drop images or a folder here\n(JPEG, PNG, GIF, BMP, TIFF, WebP) — or paste with Ctrl+V")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        open_button = QPushButton("Open images…", objectName="openImagesButton")
        paste_button = QPushButton("Paste", objectName="pasteImageButton")
        clear_button = QPushButton("Clear", objectName="clearImagesButton")
        clear_button.setToolTip("Forget the images shown here (the model stays)")
        open_button.clicked.connect(self.openRequested)
        paste_button.clicked.connect(self.pasteRequested)
        clear_button.clicked.connect(self.clearRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (open_button, paste_button, clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addLayout(buttons)
        self._set_hover(False)

    _STYLE = ("#dropZone { border: 2px dashed palette(mid); border-radius: 6px; }"
              '#dropZone[hover="true"] { border-color: palette(highlight); }')

    def _set_hover(self, on: bool) -> None:
        if not self.styleSheet():
            self.setStyleSheet(self._STYLE)
        if self.property("hover") != on:
            # A property and a re-polish of this frame alone: setting a new style sheet re-polishes every
            # child too, which cost a drop half a millisecond of the GUI thread (and the GIL).
            self.setProperty("hover", on)
            self.style().unpolish(self)
            self.style().polish(self)
            self.update()

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        paths = local_paths(mime)
        if paths or mime.hasImage():
            event.acceptProposedAction()
            self._set_hover(True)
            if paths:
                self.filesHovered.emit(paths)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._set_hover(False)
        self.hoverEnded.emit()

    def dropEvent(self, event) -> None:
        self._set_hover(False)
        event.acceptProposedAction()
        mime = event.mimeData()
        paths = local_paths(mime)
        # Last: the engine lane starts on these, and GUI work after it would contend for the GIL.
        if paths:
            self.filesDropped.emit(paths)
        elif mime.hasImage():
            self.imageDropped.emit(QImage(mime.imageData()))
        else:
            event.ignore()


class ThumbnailStrip(QListWidget):
    """A horizontal strip of the classified images; the current one is shown in the panels."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("thumbnailStrip")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.setGridSize(QSize(THUMB_PX + 24, THUMB_PX + 26))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB_PX + 50)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def add_image(self, name: str, thumbnail: np.ndarray | None, tooltip: str = "") -> None:
        """Append one image (its thumbnail, or a grey square when there is none)."""
        pix = QPixmap.fromImage(to_qimage(thumbnail)) if thumbnail is not None else QPixmap(THUMB_PX, THUMB_PX)
        if thumbnail is None:
            pix.fill(QColor("gray"))
        item = QListWidgetItem(QIcon(pix), name)
        item.setToolTip(tooltip or name)
        self.addItem(item)


class PredictionList(QWidget):
    """Top-k class names with probability bars (``predictionList``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("predictionList")
        self.title = QLabel("No image yet", objectName="predictionTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        self._rows: list[tuple[QLabel, QProgressBar]] = []
        self._data: list[tuple[str, float]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addLayout(self._grid)

    def _row(self, i: int) -> tuple[QLabel, QProgressBar]:
        while len(self._rows) <= i:
            name = QLabel()
            name.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            name.setMinimumWidth(90)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("%p%")
            bar.setMinimumWidth(80)
            r = len(self._rows)
            self._grid.addWidget(name, r, 0)
            self._grid.addWidget(bar, r, 1)
            self._rows.append((name, bar))
        return self._rows[i]

    def show_top(self, title: str, top: list[tuple[str, float]]) -> None:
        """Show ``top`` = [(class name, probability), ...] under ``title``."""
        self.title.setText(title)
        self._data = list(top)
        for i, (name, p) in enumerate(top):
            label, bar = self._row(i)
            label.setText(name if len(name) <= 28 else name[:26] + "…")
            label.setToolTip(f"{name}: {100 * p:.2f}%")
            bar.setValue(round(1000 * p))
            bar.setFormat(f"{100 * p:.1f}%")
            label.show()
            bar.show()
        for label, bar in self._rows[len(top):]:
            label.hide()
            bar.hide()

    def show_message(self, text: str) -> None:
        """Show a line instead of predictions."""
        self.show_top(text, [])

    def rows(self) -> list[tuple[str, float]]:
        """What is shown: [(class name, probability), ...]."""
        return list(self._data)


class ImagePreview(pg.GraphicsLayoutWidget):
    """The current image as the model sees it (after resize and crop), with an optional Grad-CAM overlay."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imagePreview")
        self.setMinimumSize(120, 120)
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.cam = pg.ImageItem(axisOrder="row-major")
        self.cam.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.cam.setLevels((0.0, 1.0))
        self.cam.setOpacity(0.5)
        self.cam.setZValue(1)
        self.view.addItem(self.image)
        self.view.addItem(self.cam)
        self.cam.hide()
        self.cam_data: np.ndarray | None = None

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show an HxWx3 uint8 image (None clears)."""
        if rgb is None:
            self.image.clear()
            self.set_cam(None)
            return
        self.image.setImage(rgb, levels=(0, 255))
        self.view.autoRange(padding=0)

    def set_cam(self, cam: np.ndarray | None) -> None:
        """Overlay an HxW map in [0, 1] (None hides the overlay)."""
        self.cam_data = cam
        if cam is None:
            self.cam.hide()
            return
        self.cam.setImage(cam, levels=(0.0, 1.0))
        self.cam.show()


class RunPanel(QWidget):
    """Device bar, drop zone, thumbnails, the model-input preview with Grad-CAM toggle, and the top-k bars."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runPanel")
        self.device_bar = DeviceBar()
        self.drop_zone = DropZone()
        self.strip = ThumbnailStrip()
        self.preview = ImagePreview()
        self.predictions = PredictionList()
        self.gradcam_toggle = QCheckBox("Grad-CAM", objectName="gradcamToggle")
        self.gradcam_toggle.setToolTip("Overlay where the top class's evidence is, at the selected block "
                                       "(the last block when none is selected)")
        self.cam_label = QLabel("", objectName="camLabel")
        self.cam_label.setWordWrap(True)
        self.errors = QLabel("", objectName="imageErrors")
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet(ERROR_STYLE)
        self.errors.hide()
        right = QVBoxLayout()
        right.addWidget(self.predictions)
        right.addWidget(self.gradcam_toggle)
        right.addWidget(self.cam_label)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.preview, 2)
        body.addLayout(right, 3)
        lay = QVBoxLayout(self)
        lay.addWidget(self.device_bar)
        lay.addWidget(self.drop_zone)
        lay.addWidget(self.errors)
        lay.addWidget(self.strip)
        lay.addLayout(body, 1)

    def show_errors(self, lines: list[str]) -> None:
        """Show the last few bad-file messages (one line each)."""
        if not lines:
            self.errors.hide()
            return
        shown = lines[-4:]
        more = f"\n(+{len(lines) - len(shown)} more)" if len(lines) > len(shown) else ""
        self.errors.setText("\n".join(shown) + more)
        self.errors.show()
