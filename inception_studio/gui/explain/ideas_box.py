"""IdeasBox: the Inspector's short list of the design ideas at work in the selected block — one line
each with this block's key figures (the full text in the tooltip), an "Apply" menu of its what-ifs
(ordinary, undoable edits) and a "Why?" button that opens the full view.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QMenu, QPushButton, QScrollArea, QToolButton, QVBoxLayout, QWidget,
)

from ...core.explain import Explanation, explain
from ...errors import StudioError
from ..shared.visible import WhenShown
from .cards import apply_to, clear_layout, selected_block


class IdeasBox(QWidget):
    """The ideas of the selected block, under the Inspector (objectName ``inspectorIdeas``)."""

    whyRequested = Signal()

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspectorIdeas")
        self.document = document
        self.explanation: Explanation | None = None
        self.title = QLabel()
        self.why = QPushButton("Why?")
        self.why.setObjectName("whyButton")
        self.why.setToolTip("Open the Why? view: every idea with its exact figures, what-ifs and paired runs (F1)")
        self.why.clicked.connect(self.whyRequested.emit)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.why)
        inner = QWidget()
        self.grid = QGridLayout(inner)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(0, 1)
        self.grid.setRowStretch(99, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.addLayout(head)
        lay.addWidget(scroll, 1)
        self._update = WhenShown(self, self.refresh)  # hidden with the Inspector: catches up when shown
        document.specChanged.connect(self._update)
        document.selectionChanged.connect(self._update)
        self.refresh()

    def refresh(self) -> None:
        """Explain the selected block (nothing selected: the network) and list its ideas."""
        spec = self.document.spec
        block = selected_block(spec, self.document.selection)
        try:
            self.explanation = explain(spec, block)
        except StudioError:
            self.explanation = None
        clear_layout(self.grid)
        ex = self.explanation
        if ex is None:
            self.title.setText("")
            return
        where = ex.label if ex.block else "the network"
        self.title.setText(f"<b>Design ideas in {escape(where)}</b>" if ex.ideas else
                           f"<span style='color:gray'>No design idea of the papers at work in {escape(where)}</span>")
        for row, idea in enumerate(ex.ideas):
            text = QLabel(f"• <b>{escape(idea.title)}</b>: {escape(idea.headline)}")
            text.setObjectName(f"ideaLine_{idea.key}")
            text.setWordWrap(True)
            text.setToolTip(f"<p>{escape(idea.summary)}</p><p><i>{escape(idea.paper)}</i></p>")
            self.grid.addWidget(text, row, 0)
            if idea.applies:
                self.grid.addWidget(self._apply_button(idea), row, 1)

    def _apply_button(self, idea) -> QToolButton:
        b = QToolButton()
        b.setObjectName(f"ideaApply_{idea.key}")
        b.setText("Apply")
        b.setToolTip("Apply a what-if as an edit; Ctrl+Z undoes it")
        menu = QMenu(b)
        for a in idea.applies:
            act = menu.addAction(a.text)
            act.setToolTip(f"--set {a.path}" if a.path else a.edit)
            act.triggered.connect(lambda _c=False, a=a: apply_to(self.document, a))
        b.setMenu(menu)
        b.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        return b
