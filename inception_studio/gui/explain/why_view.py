"""WhyView, the "Why?" panel: every design idea that applies to the selected block, with this block's
exact figures (core.explain), an "apply" per what-if that edits the document (undoable), the paired
training runs, and below them the network's lessons with a link to Statistics.

It recomputes only while shown (an explanation takes a few ms; rebuilding the cards more), and keeps
the last edit error of its own buttons on screen.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.analysis import format_shape
from ...core.explain import Explanation, explain
from ...errors import StudioError
from .cards import IdeaCard, apply_to, clear_layout, selected_block
from ..shared.registry import scrolled
from ..shared.visible import WhenShown


class WhyView(QWidget):
    """The Why? panel (objectName ``whyView``)."""

    pairRequested = Signal(str)  # pair kind: "aux" | "residual_scale"
    statsRequested = Signal()

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("whyView")
        self.document = document
        self.explanation: Explanation | None = None
        self.network: Explanation | None = None
        self.cards: list[IdeaCard] = []
        self._stale = True
        self.header = QLabel()
        self.header.setObjectName("whyHeader")
        self.header.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("whyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#c0392b")
        self.error.hide()
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        scroll = scrolled(self.body)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.header)
        lay.addWidget(self.error)
        lay.addWidget(scroll, 1)
        self._when_shown = WhenShown(self, self.refresh)
        document.specChanged.connect(lambda _s: self._changed())
        document.selectionChanged.connect(lambda _id: self._changed())
        document.editFailed.connect(self._edit_failed)

    # ---- refresh -------------------------------------------------------------------------
    def _changed(self) -> None:
        self._stale = True
        self._when_shown()  # now if on screen (a tab behind the Inspector is "visible" to Qt, not to the user)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Explain the selected block (or the network) of the document's spec and redraw."""
        self._stale = False
        spec = self.document.spec
        block = selected_block(spec, self.document.selection)
        try:
            self.explanation = explain(spec, block) if block else None
            self.network = explain(spec)
        except StudioError as exc:  # a selection left over from another spec, a spec that does not trace
            self.explanation, self.network = None, None
            self.header.setText(f"<b>Why?</b> {escape(str(exc))}")
            self._clear()
            return
        self._draw()

    def _clear(self) -> None:
        clear_layout(self.body_layout)
        self.cards = []

    def _draw(self) -> None:
        self._clear()
        ex, net = self.explanation, self.network
        if ex is not None:
            self.header.setText(f"<h3 style='margin:0'>Why {escape(ex.label)} looks this way</h3>"
                                f"{format_shape(ex.in_shape)} → {format_shape(ex.out_shape)}, {ex.params:,} params, "
                                f"{ex.macs:,} multiply-adds at {ex.input_size} px")
            if not ex.ideas:
                self.body_layout.addWidget(QLabel("None of the papers' ideas is at work in this block; "
                                                  "the network's lessons are below."))
            for idea in ex.ideas:
                self._add_card(IdeaCard(idea))
        else:
            self.header.setText(f"<h3 style='margin:0'>Why {escape(net.label)} looks this way</h3>"
                                "Select a block in the graph for its own ideas and what-ifs.")
        title = QLabel(f"<h4 style='margin-bottom:0'>Network-level lessons: {escape(net.label)}</h4>")
        self.body_layout.addWidget(title)
        for idea in net.ideas:
            self._add_card(IdeaCard(idea))
        stats = QPushButton("Show where the multiply-adds go (Statistics)")
        stats.setObjectName("whyShowStats")
        stats.setToolTip("The Statistics panel: each stage's share of params and multiply-adds as bars")
        stats.clicked.connect(self.statsRequested.emit)
        self.body_layout.addWidget(stats, 0, Qt.AlignmentFlag.AlignLeft)
        self.body_layout.addStretch(1)

    def _add_card(self, card: IdeaCard) -> None:
        card.applyRequested.connect(self._apply)
        card.pairRequested.connect(self.pairRequested.emit)
        self.body_layout.addWidget(card)
        self.cards.append(card)

    # ---- edits ---------------------------------------------------------------------------
    def _apply(self, apply) -> None:
        self.error.hide()
        self._pending = apply.edit
        apply_to(self.document, apply)

    def _edit_failed(self, key: str, message: str) -> None:
        if key == getattr(self, "_pending", None):
            self.error.setText(message)
            self.error.show()

    def card(self, key: str) -> IdeaCard | None:
        """The card of idea ``key`` (the block's first, then the network's)."""
        return next((c for c in self.cards if c.idea.key == key), None)
