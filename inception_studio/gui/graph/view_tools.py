"""GraphView's search, highlight marks and PNG/SVG export: a mixin of GraphView (view.py), which owns the
graph, the drawn items and the expanded blocks these read."""
from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtGui import QImage, QPalette

from . import export as graph_export
from .layout import reveal_keys


class SearchMarksExportMixin:
    """Find a node, highlight nodes by role, render or export the whole graph (for GraphView)."""

    # ---- search ----------------------------------------------------------------------------
    def find(self, text: str) -> str:
        """Select, reveal and centre the next node whose label contains ``text`` ("" if none)."""
        text = text.strip().lower()
        if not text or self._graph is None:
            return ""
        hits = [n.id for n in self._graph.nodes.values()
                if n.kind not in ("port",) and (text in n.label.lower() or text == n.id.lower())]
        if not hits:
            return ""
        last_text, last = self._search
        index = (last + 1) % len(hits) if last_text == text else 0
        self._search = (text, index)
        nid = hits[index]
        self.set_expanded(self._expanded | reveal_keys(self._graph, nid))
        self.select(nid)
        item = self.item_for(nid)
        if item is not None:
            self._fitted = False
            self.centerOn(item)
        return nid

    # ---- marks -----------------------------------------------------------------------------
    def mark_nodes(self, ids: set[str], role: str) -> None:
        """Highlight nodes (role "diff", "reinitialised" or "search"); hidden ones mark what holds them."""
        self._marks[role] = set(ids)
        self._apply_marks()

    def clear_marks(self, role: str | None = None) -> None:
        """Remove one kind of highlight, or all of them."""
        if role is None:
            self._marks.clear()
        else:
            self._marks.pop(role, None)
        self._apply_marks()

    def marked(self, role: str) -> set[str]:
        """Drawn ids currently carrying ``role``."""
        return {k for k, item in self._items.items() if role in item.marks}

    def _apply_marks(self) -> None:
        for item in self._items.values():
            if item.marks:
                item.marks = set()
                item.update()
        for role, ids in self._marks.items():
            for nid in ids:
                item = self._items.get(self._owner(nid))
                if item is not None:
                    item.marks.add(role)
                    item.update()

    # ---- export ----------------------------------------------------------------------------
    @contextmanager
    def _all_details(self):
        """Everything the items write on while the scene is rendered at a scale of its own (the view may hide it)."""
        shown = self._drawing.details, self._drawing.symbols
        self._drawing.show_details(True, True)
        try:
            yield
        finally:
            self._drawing.show_details(*shown)

    def render_image(self, scale: float = 2.0) -> QImage:
        """The whole graph as an image (``scale`` x scene size, capped for very long graphs)."""
        with self._all_details():
            return graph_export.render_image(self.scene(), self._background(), scale)

    def export_png(self, path: str, scale: float = 2.0) -> None:
        """Write the whole graph to a PNG file (StudioError naming the file if it cannot)."""
        with self._all_details():
            graph_export.export_png(self.scene(), self._background(), path, scale)

    def export_svg(self, path: str) -> None:
        """Write the whole graph to an SVG file (vector; text stays text)."""
        title = self._spec.title if self._spec else "Inception Studio graph"
        with self._all_details():
            graph_export.export_svg(self.scene(), self._background(), path, title)

    def _background(self):
        return self.palette().color(QPalette.ColorRole.Base)

