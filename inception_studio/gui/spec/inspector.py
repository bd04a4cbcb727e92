"""Inspector: what the selected graph node is — kind, output shape, params, multiply-adds, module
path, and for an Inception block the papers' columns (#1x1 ... pool proj). With nothing selected
it describes the network (paper, published errors, totals). Free text from a spec file (title,
description, notes) is shown bounded: a long unbroken run would take the rich-text layout minutes.
"""
from __future__ import annotations

import re
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTextBrowser, QVBoxLayout, QWidget

from ...core.analysis import PAPER_COLUMNS, Summary, format_shape, human
from ...core.graph import BlockGraph, Node
from ...core.spec import ArchSpec
from ..explain.ideas_box import IdeasBox
from ..shared.derived import derive
from ..shared.visible import WhenShown


MAX_SHOWN = 2000  # characters of a spec's free text shown; the rest is counted, not laid out
_UNBROKEN = re.compile(r"(\S{60})(?=\S)")


def bounded(text: str, limit: int = MAX_SHOWN) -> str:
    """HTML for text from a file: at most ``limit`` characters, with break points in long unbroken runs."""
    shown = _UNBROKEN.sub("\\1\u200b", text[:limit])  # a zero-width space lets the layout wrap there
    more = len(text) - min(len(text), limit)
    return escape(shown) + (f" <span style='color:gray'>… ({more:,} more characters)</span>" if more else "")


def _err(v: float | None) -> str:
    return f"{v:g}%" if v is not None else "—"


def _row(name: str, value: str) -> str:
    return f"<tr><td style='padding-right:12px;color:gray'>{escape(name)}</td><td>{value}</td></tr>"


def _count(n: int) -> str:
    return f"{human(n)} <span style='color:gray'>({n:,})</span>" if n >= 1000 else f"{n}"


class Inspector(QWidget):
    """Properties of the selected node (objectName ``inspector``)."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspector")
        self.document = document
        self.view = QTextBrowser(self)
        self.view.setObjectName("inspectorText")
        self.view.setOpenLinks(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.ideas = IdeasBox(document, self)  # the design ideas at work in the selection (gui/explain)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(self.ideas)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split)
        self._update = WhenShown(self, self.refresh)  # a tab behind Statistics catches up when shown
        document.specChanged.connect(self._update)
        document.selectionChanged.connect(self._update)
        self.refresh()

    def text(self) -> str:
        """What the inspector shows, as plain text."""
        self._update.flush()
        return self.view.toPlainText()

    def refresh(self) -> None:
        """Redraw for the document's current spec and selection."""
        spec = self.document.spec
        summary, graph = derive(spec)
        node = graph.nodes.get(self.document.selection)
        if node is None and self.document.selection.startswith("run:"):
            node = graph.nodes.get(self.document.selection[4:])
        html = self._network(spec, summary) if node is None else self._node(spec, summary, graph, node)
        self.view.setHtml(html)

    # ---- pages -----------------------------------------------------------------------------
    def _network(self, spec: ArchSpec, s: Summary) -> str:
        rows = [
            _row("variant", bounded(spec.name, 200)),
            _row("input", f"{spec.input_size}x{spec.input_size}x{spec.in_channels}"),
            _row("classes", str(spec.num_classes)),
            _row("params", _count(s.params_main) + (f" + {human(s.aux_params)} in aux heads (training only)"
                                                    if s.aux_params else "")),
            _row("multiply-adds", _count(s.macs)),
            _row("published error", f"top-1 {_err(spec.top1_error)}, top-5 {_err(spec.top5_error)}"
                 if not spec.based_on else f"none: edited from {escape(spec.based_on)}, whose figures do not apply"),
            _row("weights", escape(spec.weights_source or ("none published for this edited layout" if spec.based_on
                                                           else "none published for this layout"))),
        ]
        notes = f"<p style='color:gray'>{bounded(spec.notes)}</p>" if spec.notes else ""
        ref = f"<p><i>{bounded(spec.reference)}</i></p>" if spec.reference else ""
        return (f"<h3>{bounded(spec.title, 200)}</h3><p>{bounded(spec.description)}</p>{ref}"
                f"<table>{''.join(rows)}</table>{notes}"
                "<p style='color:gray'>Click a node in the graph to inspect it.</p>")

    def _node(self, spec: ArchSpec, s: Summary, g: BlockGraph, n: Node) -> str:
        rows = [_row("kind", escape(n.kind + (f" ({n.detail})" if n.detail and n.kind != "stage" else "")))]
        if n.shape:
            rows.append(_row("output", format_shape(n.shape) + " <span style='color:gray'>(H x W x C)</span>"))
        parent = g.nodes.get(n.parent) if n.parent else None
        if parent is not None:
            rows.append(_row("in", escape(parent.label)))
        if n.kind == "stage":
            rows.append(_row("blocks", str(len(n.children))))
            if s.params_main:
                rows.append(_row("share", f"{100 * n.params / s.params_main:.1f}% of params, "
                                          f"{100 * n.macs / max(s.macs, 1):.1f}% of multiply-adds"))
        rows.append(_row("params", _count(n.params)))
        rows.append(_row("multiply-adds", _count(n.macs)))
        if n.module:
            rows.append(_row("module", f"<code>{escape(n.module)}</code>"))
        body = f"<h3>{escape(n.label)}</h3><table>{''.join(rows)}</table>"
        if n.kind in ("inception", "residual"):
            body += self._columns(s, n)
            body += self._branches(g, n)
        return body

    def _columns(self, s: Summary, n: Node) -> str:
        row = next((r for r in s.rows if f"b:{r.name}" == n.id), None)
        if row is None or not row.columns:
            return ""
        names = [c for c in PAPER_COLUMNS if c in row.columns] + [c for c in row.columns if c not in PAPER_COLUMNS]
        head = "".join(f"<th style='padding:2px 6px'>{escape(c)}</th>" for c in names)
        cells = "".join(f"<td align='right' style='padding:2px 6px'>{row.columns[c]}</td>" for c in names)
        return ("<h4>Paper columns</h4><table border='1' cellspacing='0' style='border-collapse:collapse'>"
                f"<tr>{head}</tr><tr>{cells}</tr></table>")

    def _branches(self, g: BlockGraph, n: Node) -> str:
        items = []
        for c in n.children:
            br = g.nodes[c]
            if br.kind != "branch":
                continue
            ops = [g.nodes[o].label for o in br.children if g.nodes[o].kind not in ("concat",)]
            items.append(f"<li><b>{escape(br.label)}</b>: {escape(' → '.join(ops))} "
                         f"<span style='color:gray'>→ {format_shape(br.shape) if br.shape else ''}</span></li>")
        return f"<h4>Branches</h4><ul style='margin-left:-20px'>{''.join(items)}</ul>" if items else ""
