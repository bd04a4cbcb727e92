"""The variant list: every preset from the registry with its one-line description and the published
top-1 / top-5 error where the spec records it. Choosing one (click, Enter, or moving the highlight
with the keyboard) asks the window to open it.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from ...core.presets import list_variants
from ..shared.derived import preset

NAME_ROLE = Qt.ItemDataRole.UserRole
DESC_ROLE = Qt.ItemDataRole.UserRole + 1
ERR_ROLE = Qt.ItemDataRole.UserRole + 2


def error_text(top1: float | None, top5: float | None) -> str:
    """"top-1 20.0% · top-5 5.0%" with a dash for a figure the paper does not give."""
    f = lambda v: f"{v:g}%" if v is not None else "—"
    return f"top-1 {f(top1)} · top-5 {f(top5)}"


class _Delegate(QStyledItemDelegate):
    """Three lines per variant: bold title, the description (elided; full text in the tooltip), the errors."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 3 + 16)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, p, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        pal = opt.palette
        text = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText)
        r = opt.rect.adjusted(8, 5, -8, -5)
        fm = QFontMetrics(opt.font)
        bold = QFont(opt.font)
        bold.setBold(True)
        h = fm.height()
        p.save()
        p.setFont(bold)
        p.setPen(text)
        title = index.data(Qt.ItemDataRole.DisplayRole)
        p.drawText(QRect(r.left(), r.top(), r.width(), h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideRight, r.width()))
        p.setFont(opt.font)
        p.drawText(QRect(r.left(), r.top() + h + 2, r.width(), h), Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(index.data(DESC_ROLE), Qt.TextElideMode.ElideRight, r.width()))
        p.setPen(muted)
        p.drawText(QRect(r.left(), r.top() + 2 * h + 4, r.width(), h), Qt.AlignmentFlag.AlignLeft,
                   "published error: " + index.data(ERR_ROLE))
        p.restore()


class VariantList(QListWidget):
    """Every preset (objectName ``variantList``); emits ``variantChosen(name)`` on a user's choice."""

    variantChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("variantList")
        self.setItemDelegate(_Delegate(self))
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)
        for name in list_variants():
            spec = preset(name)
            item = QListWidgetItem(spec.title)
            item.setData(NAME_ROLE, name)
            item.setData(DESC_ROLE, spec.description)
            item.setData(ERR_ROLE, error_text(spec.top1_error, spec.top5_error))
            tip = f"<b>{spec.title}</b> <code>{name}</code><br>{spec.description}"
            if spec.reference:
                tip += f"<br><i>{spec.reference}</i>"
            tip += f"<br>Published single-crop error: {error_text(spec.top1_error, spec.top5_error)}"
            item.setToolTip(tip)
            self.addItem(item)
        self.itemActivated.connect(self._chosen)
        self.itemClicked.connect(self._chosen)
        # The arrow keys open what they highlight (show_current moves the highlight with signals blocked).
        self.currentItemChanged.connect(lambda item, _old: self._chosen(item) if item is not None else None)

    def _chosen(self, item: QListWidgetItem) -> None:
        self.variantChosen.emit(item.data(NAME_ROLE))

    def names(self) -> list[str]:
        """The variant names in list order."""
        return [self.item(i).data(NAME_ROLE) for i in range(self.count())]

    def item_for(self, name: str) -> QListWidgetItem | None:
        """The row of variant ``name``."""
        for i in range(self.count()):
            if self.item(i).data(NAME_ROLE) == name:
                return self.item(i)
        return None

    def show_current(self, name: str | None) -> None:
        """Highlight the variant being edited (none for a spec opened from a file of another name)."""
        self.blockSignals(True)
        item = self.item_for(name) if name else None
        if item is None:
            self.clearSelection()
            self.setCurrentRow(-1)
        else:
            self.setCurrentItem(item)
        self.blockSignals(False)
