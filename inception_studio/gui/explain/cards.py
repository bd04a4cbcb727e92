"""IdeaCard: one design idea drawn for people — title, paper, summary, exact figures, the comparison
table, and a button per edit that applies it (through the document, so Ctrl+Z undoes it) and one
for the paired training run. Shared by the Why? panel and the tour.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.explain import Apply, Idea
from ...core.spec import ArchSpec

PAIR_TEXT = {"aux": "Train with and without aux heads…", "residual_scale": "Train at scale 1.0 and 0.2…"}
PAIR_TIP = {"aux": "Two short runs of a quarter-width model on the demo data (or your folder), with and without "
                   "the auxiliary classifiers; the loss curves overlaid, main and aux loss apart",
            "residual_scale": "Two short runs of a quarter-width model, every residual block scaled by 0.2 and "
                              "by 1.0, the loss curves overlaid"}


def selected_block(spec: ArchSpec, selection: str) -> str | None:
    """The block name a graph selection belongs to (an aux head: the block it attaches to); None: the network."""
    sel = selection[4:] if selection.startswith("run:") else selection
    if sel.startswith("b:"):
        return sel[2:].split("/")[0]
    if sel.startswith("aux:"):
        aux = next((a for a in spec.aux if a.name == sel[4:]), None)
        if aux is not None:
            blocks = spec.stage(aux.stage).blocks
            return blocks[aux.index].name if 0 <= aux.index < len(blocks) else None
    return None


def clear_layout(layout) -> None:
    """Take every widget out of ``layout`` at once (off screen now, freed by Qt later)."""
    while layout.count():
        w = layout.takeAt(0).widget()
        if w is not None:
            w.hide()
            w.deleteLater()


def apply_to(document, apply: Apply) -> bool:
    """Run ``apply`` as an ordinary undoable edit of ``document``."""
    return document.apply(apply.text, apply, key=apply.edit)


def open_pair(window, kind: str):
    """Open the paired-run dialog on the window's spec (one at a time; the previous one is closed)."""
    from .pair_dialog import PairDialog  # brings in pyqtgraph: only when asked for

    old = window.panels.feature("pairDialog")
    if old is not None:
        old.close()
        old.deleteLater()
    dlg = PairDialog(window.document, kind, window, dialogs=window.dialogs)
    window.panels.provide("pairDialog", dlg)
    dlg.show()
    return dlg


def _table(idea: Idea) -> str:
    num = "align='right' style='white-space:nowrap'"
    figs = "".join(f"<tr><td>{escape(f.label)}</td><td {num}>&nbsp;<b>{escape(f.text())}</b></td></tr>"
                   for f in idea.figures)
    html = f"<table width='100%' cellspacing='0'>{figs}</table>" if figs else ""
    if idea.rows:
        head = (f"<tr><th align='left'>what</th><th {num}>&nbsp;params</th>"
                f"<th {num}>&nbsp;multiply-adds</th><th {num}>&nbsp;out</th></tr>")
        body = "".join(
            f"<tr><td>{'<b>' if r.current else ''}{escape(r.label)}{'</b>' if r.current else ''}</td>"
            f"<td {num}>&nbsp;{r.params:,}</td><td {num}>&nbsp;{r.macs:,}</td>"
            f"<td {num}>&nbsp;{r.width if r.width is not None else ''}</td></tr>" for r in idea.rows)
        html += f"<table width='100%' cellspacing='0' style='margin-top:6px'>{head}{body}</table>"
        html += "<p style='color:gray;margin-top:2px'>bold: the spec as it is</p>"
    return html


class IdeaCard(QFrame):
    """One idea with its figures and buttons (objectName ``idea_<key>``)."""

    applyRequested = Signal(object)  # Apply
    pairRequested = Signal(str)  # the pair kind

    def __init__(self, idea: Idea, where: str = "", parent: QWidget | None = None, compact: bool = False):
        super().__init__(parent)
        self.idea = idea
        self.setObjectName(f"idea_{idea.key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        head = QLabel(f"<b>{escape(idea.title)}</b>{' — ' + escape(where) if where else ''}"
                      f"<br><i style='color:gray'>{escape(idea.paper)}</i>")
        head.setWordWrap(True)
        lay.addWidget(head)
        summary = QLabel(idea.summary)
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setObjectName("ideaSummary")
        summary.setWordWrap(True)
        lay.addWidget(summary)
        if not compact:
            figures = QLabel(_table(idea))
            figures.setObjectName("ideaFigures")
            figures.setWordWrap(True)
            figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(figures)
        self.buttons: list[QPushButton] = []
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for i, a in enumerate(idea.applies):
            b = QPushButton(a.text)
            b.setObjectName(f"apply_{idea.key}_{i}")
            b.setToolTip("Apply as an edit (Ctrl+Z undoes it)" + (f": --set {a.path}" if a.path else ""))
            b.clicked.connect(lambda _c=False, a=a: self.applyRequested.emit(a))
            self.buttons.append(b)
        if idea.train_pair:
            b = QPushButton(PAIR_TEXT[idea.train_pair])
            b.setObjectName(f"pair_{idea.train_pair}")
            b.setToolTip(PAIR_TIP[idea.train_pair])
            b.clicked.connect(lambda: self.pairRequested.emit(idea.train_pair))
            self.buttons.append(b)
        for i, b in enumerate(self.buttons):
            grid.addWidget(b, i // 2, i % 2)
        if self.buttons:
            grid.setColumnStretch(2, 1)
            lay.addLayout(grid)
