"""Where images come in to the Run panel: the drop zone (files, folders, dragged or pasted pixels, with
Open… / Paste / Clear) and the helpers that turn a drop, the clipboard or a file dialog into paths or images."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


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

    from ...engine.data import IMAGE_EXTENSIONS
    from ..shared.settings import dialogs_allowed
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
        self._dragging = False
        self._settle = QTimer(self, singleShot=True, interval=self.SETTLE_MS)
        self._settle.timeout.connect(self.settle)
        self._set_hover(False)

    SETTLE_MS = 2000  # the longest a drop keeps the border lit when nobody calls settle()

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
            self._dragging = True
            self._set_hover(True)
            if paths:
                self.filesHovered.emit(paths)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._dragging = False
        self._set_hover(False)
        self.hoverEnded.emit()

    def dropEvent(self, event) -> None:
        self._dragging = False
        mime = event.mimeData()
        paths = local_paths(mime)
        if not paths and not mime.hasImage():
            self._set_hover(False)
            event.ignore()
            return
        event.acceptProposedAction()
        # The border stays lit until whoever classifies the drop calls settle() (or SETTLE_MS pass): re-styling
        # and repainting the frame now would run on the GUI thread while the forward pass runs, and slow it.
        self._settle.start()
        if paths:
            self.filesDropped.emit(paths)
        else:
            self.imageDropped.emit(QImage(mime.imageData()))

    def settle(self) -> None:
        """The drop has been answered: drop the hover border (unless another drag hovers by now)."""
        self._settle.stop()
        if not self._dragging:
            self._set_hover(False)
