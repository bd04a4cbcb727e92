"""TourDialog (Help -> Tour): NIN -> GoogLeNet -> BN-Inception -> Inception-v3 -> v4 ->
Inception-ResNet-v2, one short step each. Each step opens its preset in the window (offering to save
changes first, as choosing a variant does), selects and rings the nodes it talks about in the graph,
and shows the what-ifs of core.explain for them, computed live. The steps are data in core.tour.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.tour import TOUR, tour_ideas
from .cards import IdeaCard, apply_to, clear_layout, open_pair
from ..shared.registry import scrolled

MARK = "search"  # the graph's light ring: the nodes this step talks about


class TourDialog(QDialog):
    """The guided tour (objectName ``tourDialog``), driving the main window it belongs to."""

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.setObjectName("tourDialog")
        self.setWindowTitle("Tour of the Inception family")
        self.window_ = window
        self.index = -1
        self.cards: list[IdeaCard] = []
        self.title = QLabel()
        self.title.setObjectName("tourTitle")
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setObjectName("tourText")
        self.text.setWordWrap(True)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        scroll = scrolled(self.body)
        self.back = QPushButton("Back")
        self.back.setObjectName("tourBack")
        self.back.setShortcut(QKeySequence("Alt+Left"))
        self.back.setToolTip("The previous step (Alt+Left)")
        self.back.clicked.connect(lambda: self.go(self.index - 1))
        self.next = QPushButton("Next")
        self.next.setObjectName("tourNext")
        self.next.setShortcut(QKeySequence("Alt+Right"))
        self.next.setToolTip("The next step (Alt+Right)")
        self.next.clicked.connect(lambda: self.go(self.index + 1))
        self.step_label = QLabel()
        close = QPushButton("Close")
        close.setToolTip("End the tour (Esc)")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.step_label)
        row.addStretch(1)
        for b in (self.back, self.next, close):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        lay.addWidget(scroll, 1)
        lay.addLayout(row)
        self.resize(560, 620)

    def go(self, index: int) -> bool:
        """Show step ``index``: open its preset, select its nodes, show its ideas; False if it stayed put."""
        if not 0 <= index < len(TOUR):
            return False
        step = TOUR[index]
        win = self.window_
        if win.document.spec.name != step.variant or win.document.dirty or win.document.path:
            if not win.open_variant(step.variant):
                self.text.setText("The tour needs to open another network; your changes are still open.")
                return False
        self.index = index
        self.step_label.setText(f"Step {index + 1} of {len(TOUR)}")
        self.back.setEnabled(index > 0)
        self.next.setEnabled(index < len(TOUR) - 1)
        self.title.setText(f"<h3 style='margin:0'>{escape(step.title)}</h3><i>{escape(step.paper)}</i>")
        self.text.setText(step.text)
        self._show_ideas(step)
        view = win.graph_view
        win.document.select(step.nodes[0])
        view.mark_nodes(set(step.nodes), MARK)
        view.center_on_node(step.nodes[0])
        return True

    def _show_ideas(self, step) -> None:
        clear_layout(self.body_layout)
        self.cards = []
        for label, idea in tour_ideas(step, self.window_.document.spec):
            card = IdeaCard(idea, where=label)
            card.applyRequested.connect(lambda a: apply_to(self.window_.document, a))
            card.pairRequested.connect(lambda kind: open_pair(self.window_, kind))
            self.body_layout.addWidget(card)
            self.cards.append(card)
        self.body_layout.addStretch(1)

    def done(self, code: int) -> None:  # the tour's rings go with it
        self.window_.graph_view.clear_marks(MARK)
        super().done(code)
