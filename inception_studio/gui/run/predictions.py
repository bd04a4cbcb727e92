"""The Run panel and its widgets that show images and what the model says about them: the strip of
thumbnails, the top-k probability bars, and the model-input preview with its Grad-CAM overlay (the drop
zone is drop_zone.py). Presentation only; controller.py feeds them engine results.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QCheckBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from .device_bar import ERROR_STYLE, DeviceBar
from .drop_zone import DropZone

THUMB_PX = 72


def to_qimage(rgb: np.ndarray) -> QImage:
    """An HxWx3 uint8 array as a QImage (a copy, so the array may go away)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


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
    """Top-k class names with probability bars (``predictionList``), painted by the widget itself.

    One widget of fixed height, not a label and a progress bar per row: showing a new answer is then
    one repaint with no layout pass (0.33 ms of GUI thread and a relayout of the dock for the label and
    bar version), and that is on the path from a drop to its answer. Hover a row for its exact
    probability; right-click or Ctrl+C copies the list.
    """

    ROWS = 5  # rows the height is made for (more rows grow it)
    SCALE = 1.3  # the answer is what the user came for: larger than the window's text

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("predictionList")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy predictions", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy)
        self.addAction(copy)
        self._title = "No image yet"
        self._data: list[tuple[str, float]] = []
        self._capacity = self.ROWS
        self._style: tuple | None = None
        self.paint_count = 0  # paint events so far (how tests and benchmarks know the answer reached the screen)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumWidth(180)
        self.setAccessibleName("Predictions")
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * self.SCALE)
        self.setFont(font)

    # ---- geometry --------------------------------------------------------------------------
    def _row_h(self) -> int:
        return self.fontMetrics().height() + 8

    def _title_h(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:
        return QSize(300, self._title_h() + self._capacity * self._row_h())

    def minimumSizeHint(self) -> QSize:
        return QSize(180, self.sizeHint().height())

    def _row_at(self, y: int) -> int:
        row = (y - self._title_h()) // self._row_h()
        return row if 0 <= row < len(self._data) and y >= self._title_h() else -1

    # ---- content ---------------------------------------------------------------------------
    def show_top(self, title: str, top: list[tuple[str, float]], now: bool = False) -> None:
        """Show ``top`` = [(class name, probability), ...] under ``title``.

        ``now``: paint before returning, and leave the accessible description to :meth:`describe` (a drop's
        answer is painted this way, ahead of the rest of the window's updates).
        """
        self._title, self._data = title, list(top)
        if len(self._data) > self._capacity:
            self._capacity = len(self._data)
            self.updateGeometry()
        if now:
            self.repaint()
        else:
            self.describe()
            self.update()

    def describe(self) -> None:
        """Give screen readers what is shown (the title and the rows as text)."""
        self.setAccessibleDescription(self.text())

    def show_message(self, text: str) -> None:
        """Show a line instead of predictions."""
        self.show_top(text, [])

    def title(self) -> str:
        """The line above the bars: the image's name, or a message."""
        return self._title

    def rows(self) -> list[tuple[str, float]]:
        """What is shown: [(class name, probability), ...]."""
        return list(self._data)

    def text(self) -> str:
        """The title and one "name<TAB>percent" line per row (what Copy puts on the clipboard)."""
        return "\n".join([self._title] + [f"{name}\t{100 * p:.2f}%" for name, p in self._data])

    def copy(self) -> None:
        """Copy the title and the rows as text."""
        QApplication.clipboard().setText(self.text())

    # ---- painting --------------------------------------------------------------------------
    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            row = self._row_at(int(e.pos().y()))
            if row >= 0:
                name, p = self._data[row]
                QToolTip.showText(e.globalPos(), f"{name}: {100 * p:.2f}%", self)
            else:
                QToolTip.hideText()
                e.ignore()
            return True
        return super().event(e)

    def changeEvent(self, e) -> None:
        if e.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._style = None
        super().changeEvent(e)

    def _paint_style(self) -> tuple:
        """Fonts, metrics and colours for painting, made once per font or palette change."""
        if self._style is None:
            pal, bold = self.palette(), QFont(self.font())
            bold.setBold(True)
            self._style = (bold, QFontMetrics(bold), self.fontMetrics(), pal.color(QPalette.ColorRole.Window),
                           pal.color(QPalette.ColorRole.WindowText), pal.color(QPalette.ColorRole.Midlight),
                           pal.color(QPalette.ColorRole.Highlight))
        return self._style

    def paintEvent(self, _event) -> None:
        # Opaque (WA_OpaquePaintEvent): the panel behind is not repainted first.
        self.paint_count += 1
        bold, bold_fm, fm, window, text, track, fill = self._paint_style()
        w, h, row_h, title_h = self.width(), self.height(), self._row_h(), self._title_h()
        painter = QPainter(self)
        painter.fillRect(0, 0, w, h, window)
        painter.setPen(text)
        painter.setFont(bold)
        painter.drawText(0, 0, w, title_h, _LEFT, bold_fm.elidedText(self._title, Qt.TextElideMode.ElideMiddle, w))
        painter.setFont(self.font())
        pct_w = fm.horizontalAdvance("100.0%") + 6
        name_w = max(60, min(w * 11 // 20, w - pct_w - 56, 220))  # names first; a bar needs ~50 px
        bar_x, bar_w = name_w + 6, max(10, w - name_w - 6 - pct_w)
        for i, (name, p) in enumerate(self._data):
            y = title_h + i * row_h
            painter.drawText(0, y, name_w, row_h, _LEFT, fm.elidedText(name, Qt.TextElideMode.ElideRight, name_w))
            painter.fillRect(bar_x, y + 3, bar_w, row_h - 6, track)
            painter.fillRect(bar_x, y + 3, round(bar_w * min(max(p, 0.0), 1.0)), row_h - 6, fill)
            painter.drawText(bar_x + bar_w, y, pct_w, row_h, _RIGHT, f"{100 * p:.1f}%")
        painter.end()


_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ImagePreview(pg.GraphicsLayoutWidget):
    """The current image as the model sees it (after resize and crop), with an optional Grad-CAM overlay."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imagePreview")
        self.setMinimumSize(120, 120)
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))  # not a black column around the image
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
        self._right = right = QVBoxLayout()
        right.addWidget(self.predictions)
        right.addWidget(self.gradcam_toggle)
        right.addWidget(self.cam_label)
        right.addStretch(1)
        self._body = body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.addWidget(self.preview, 2)
        body.addLayout(right, 3)
        lay = QVBoxLayout(self)
        lay.addWidget(self.device_bar)
        lay.addWidget(self.drop_zone)
        lay.addWidget(self.errors)
        lay.addWidget(self.strip)
        lay.addLayout(body, 1)

    WIDE = 640  # narrower than this, the top-k goes above the preview, across the whole panel

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() >= self.WIDE
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.BottomToTop
        if self._body.direction() != direction:
            self._body.setDirection(direction)  # (bottom to top: the preview, added first, goes below)
            self._body.setStretch(0, 2 if wide else 1)
            self._body.setStretch(1, 3 if wide else 0)
            self._right.setStretch(self._right.count() - 1, 1 if wide else 0)  # its end: no gap above the preview

    def show_errors(self, lines: list[str]) -> None:
        """Show the last few bad-file messages (one line each)."""
        if not lines:
            self.errors.hide()
            return
        shown = lines[-4:]
        more = f"\n(+{len(lines) - len(shown)} more)" if len(lines) > len(shown) else ""
        self.errors.setText("\n".join(shown) + more)
        self.errors.show()
