"""Writing the graph scene to PNG (raster, scaled for high-DPI) and SVG (vector; text stays text)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from ...errors import StudioError

EXPORT_MAX_PX = 24000  # QPainter's raster engine and memory both have limits on one image
_HINTS = QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing


def _rect(scene: QGraphicsScene) -> QRectF:
    rect = scene.itemsBoundingRect()
    for item in scene.items():  # the room an item keeps beyond what it draws now (a node's mark rings)
        room = getattr(item, "room", None)
        if room is not None:
            rect |= item.mapRectToScene(room)
    return rect.adjusted(-16, -16, 16, 16)


def render_image(scene: QGraphicsScene, background: QColor, scale: float = 2.0) -> QImage:
    """The whole scene as an image at ``scale`` (reduced so no side exceeds EXPORT_MAX_PX)."""
    rect = _rect(scene)
    scale = min(scale, EXPORT_MAX_PX / max(rect.width(), rect.height(), 1.0))
    size = QSize(max(1, int(rect.width() * scale)), max(1, int(rect.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(background)
    painter = QPainter(image)
    painter.setRenderHints(_HINTS)
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), rect)
    painter.end()
    return image


def export_png(scene: QGraphicsScene, background: QColor, path: str | Path, scale: float = 2.0) -> None:
    """Write the scene to a PNG file (StudioError naming the file if it cannot)."""
    if not render_image(scene, background, scale).save(str(path), "PNG"):
        raise StudioError(f"{path}: could not write the PNG (check the folder exists and is writable)")


def export_svg(scene: QGraphicsScene, background: QColor, path: str | Path, title: str) -> None:
    """Write the scene to an SVG file."""
    from PySide6.QtSvg import QSvgGenerator  # only needed here; keeps start-up lean

    if not Path(path).parent.is_dir():
        raise StudioError(f"{path}: could not write the SVG (the folder does not exist)")
    rect = _rect(scene)
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    gen.setTitle(title)
    gen.setDescription("Block graph exported by Inception Studio")
    painter = QPainter()
    if not painter.begin(gen):
        raise StudioError(f"{path}: could not write the SVG (check the folder is writable)")
    painter.setRenderHints(_HINTS)
    painter.fillRect(QRectF(0, 0, rect.width(), rect.height()), background)
    scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
