"""The overview (minimap) in the graph view's corner: the whole network in miniature with the part the
view shows outlined; click or drag in it to move there. It appears only while the view shows less than
the whole graph, and redraws its picture only when the drawing changes, once the changes pause (an edit
is not kept waiting for a miniature of a thousand items; the outline follows the view at once).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QGraphicsView

MAX_SIDE = 360  # the overview's longer side, in pixels (less in a small view)
MARGIN = 10
RENDER_DELAY_MS = 200  # a changed drawing is drawn again this long after its last change


class Overview(QFrame):
    """A miniature of ``view``'s scene with the visible area outlined (objectName ``graphOverview``)."""

    def __init__(self, view: QGraphicsView):
        super().__init__(view)
        self.setObjectName("graphOverview")
        self.setToolTip("Overview: the whole network; the outlined part is on screen. Click or drag to move.")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._view = view
        self._picture: QImage | None = None
        self._ratio = 1.0
        self._offset = QPointF(2, 2)  # where the scene's miniature starts in the widget
        self._due = False  # a show/hide check is scheduled
        self._stale = QTimer(self)  # the drawing changed: a new picture once changes pause
        self._stale.setSingleShot(True)
        self._stale.setInterval(RENDER_DELAY_MS)
        self._stale.timeout.connect(self._redraw)
        view.horizontalScrollBar().valueChanged.connect(self._follow)
        view.verticalScrollBar().valueChanged.connect(self._follow)
        self.hide()

    def invalidate(self) -> None:
        """The drawing changed: a new picture once changes pause (the last one until then; a new size at once);
        show or hide once events settle."""
        self._stale.start()
        self.moved()

    def moved(self) -> None:
        """The view zoomed or resized: show or hide, and outline what it shows, once events settle."""
        if not self._due:
            self._due = True
            QTimer.singleShot(0, self._settle)

    def _redraw(self) -> None:
        self._picture = None
        if self.isVisible():
            self.update()

    def _settle(self) -> None:
        self._due = False
        self._follow()

    def place(self) -> None:
        """Size to the scene's aspect ratio and sit in the view's bottom-right corner."""
        rect = self._view.sceneRect()
        if rect.isEmpty():
            return
        vp = self._view.viewport()
        tall = rect.height() >= rect.width()
        long_px = vp.height() if tall else vp.width()
        side = max(60, min(MAX_SIDE, long_px - 3 * MARGIN, int(0.35 * max(vp.width(), vp.height()))))
        self._ratio = side / max(rect.width(), rect.height())
        w, h = rect.width() * self._ratio, rect.height() * self._ratio
        size = QSize(max(28, int(w)) + 4, max(28, int(h)) + 4)
        self._offset = QPointF(2 + (size.width() - 4 - w) / 2, 2 + (size.height() - 4 - h) / 2)
        if size != self.size():
            self._picture = None
            self.resize(size)
        self.move(vp.x() + vp.width() - size.width() - MARGIN, vp.y() + vp.height() - size.height() - MARGIN)

    def visible_area(self) -> QRectF:
        """The scene rectangle the view shows."""
        return self._view.mapToScene(self._view.viewport().rect()).boundingRect()

    def _follow(self, *_args) -> None:
        scene = self._view.sceneRect()
        whole = self.visible_area().contains(scene.adjusted(2, 2, -2, -2))
        self.setVisible(not scene.isEmpty() and not whole)
        if self.isVisible():
            self.place()
            self.update()

    def _render(self) -> QImage:
        image = QImage(self.size() - QSize(4, 4), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.palette().color(QPalette.ColorRole.Base))
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        scene = self._view.sceneRect()
        target = QRectF(self._offset - QPointF(2, 2), QSize(int(scene.width() * self._ratio) + 1,
                                                           int(scene.height() * self._ratio) + 1))
        self._view.scene().render(p, target, scene)
        p.end()
        return image

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self._picture is None or self._picture.size() != self.size() - QSize(4, 4):
            self._picture = self._render()
        p = QPainter(self)
        p.drawImage(2, 2, self._picture)
        scene = self._view.sceneRect()
        area = self.visible_area().intersected(scene)
        r = QRectF((area.x() - scene.x()) * self._ratio + self._offset.x(),
                   (area.y() - scene.y()) * self._ratio + self._offset.y(),
                   max(3.0, area.width() * self._ratio), max(3.0, area.height() * self._ratio))
        color = self.palette().color(QPalette.ColorRole.Highlight)
        fill = QColor(color)
        fill.setAlpha(40)
        p.setPen(QPen(color, 1.5))
        p.setBrush(fill)
        p.drawRect(r)
        p.end()

    def _go(self, pos: QPointF) -> None:
        scene = self._view.sceneRect()
        self._view.centerOn(QPointF(scene.x() + (pos.x() - self._offset.x()) / self._ratio,
                                    scene.y() + (pos.y() - self._offset.y()) / self._ratio))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._go(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
        event.accept()
