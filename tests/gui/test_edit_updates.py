"""An edit redoes only what it changed (issue 16), and what the panels show after it is what they would show
drawn afresh: the graph keeps the items of the blocks it did not touch, the names written over a zoomed-out
graph and a node's hover text follow the edit, the block table changes row by row, the statistics axis
stays put while the bars move."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from inception_studio.core import edits
from inception_studio.core.analysis import human
from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec
from inception_studio.gui.graph.layout import all_expandable, layout_graph
from inception_studio.gui.graph.names import DETAIL_SCALE

COUNT = "stage.inception_resnet_b.count"


def _view(qtbot, name: str = "inception_resnet_v2"):
    from inception_studio.gui.graph.view import GraphView
    from inception_studio.gui.shared.document import SpecDocument

    view = GraphView(SpecDocument(get_spec(name)))
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_a_count_edit_keeps_the_untouched_items_and_draws_what_a_fresh_layout_says(qtbot):
    view = _view(qtbot)
    view.expand_all()
    before = dict(view._items)
    assert view.document.apply_path(COUNT, 19)
    new = view.layout_result
    fresh = layout_graph(build_graph(view.document.spec), view.expanded, "TB", measure=view._theme.measure)
    assert new.boxes == fresh.boxes and new.frames == fresh.frames and new.routes == fresh.routes
    assert "b:block17_20" not in view._items and view.item_for("b:block17_20/add") is None
    kept = [k for k in view._items if k in before and view._items[k] is before[k]]
    assert len(kept) >= len(view._items) - 2  # all but the stage's and the run's frames, which changed size
    for key, item in view._items.items():  # every item where the layout puts it
        place = new.boxes.get(key) or next(f for f in new.frames if f.id == key)
        assert (item.pos().x(), item.pos().y()) == (place.x, place.y), key
    assert view.document.apply_path(COUNT, 20)
    assert view.item_for("b:block17_20/add") is not None and view._items["b:block17_1"] is before["b:block17_1"]


def test_zoomed_out_the_items_write_nothing_and_an_export_still_has_every_label(qtbot, tmp_path):
    view = _view(qtbot)
    view.expand_all()
    view.fit()
    assert view.transform().m11() < DETAIL_SCALE
    titles = [title for _f, _frame, title in view._drawing.frames.values()]
    assert titles and not any(t.isVisible() for t in titles)  # too small to read: not painted at all
    view.export_svg(str(tmp_path / "g.svg"))
    assert "17x17x1088" in (tmp_path / "g.svg").read_text()  # written in full all the same
    assert not any(t.isVisible() for t in titles)
    view.zoom(DETAIL_SCALE / view.transform().m11() * 1.2)
    assert all(t.isVisible() for t in titles)


def test_names_over_a_zoomed_out_graph_follow_an_edit_without_a_full_repaint(qtbot):
    view = _view(qtbot)
    view.fit()
    assert view.transform().m11() < DETAIL_SCALE

    def on_screen():  # what the window shows now, not a fresh rendering of it
        QApplication.processEvents()
        return view.screen().grabWindow(view.winId()).toImage()

    for n in (19, 5, 20):
        assert view.document.apply_path(COUNT, n)
        shown = on_screen()
        assert any(text.endswith(f"×{n}") for _rect, text in view._names)
        view.viewport().update()
        assert on_screen() == shown, f"names left stale after the edit to {n}"


def test_a_node_tells_its_current_numbers_on_hover(qtbot):
    view = _view(qtbot, "googlenet")
    view.set_expanded({"b:inception3a"})
    node = "b:inception3a/br0/0"

    def tip() -> str:
        pos = view.mapFromScene(view.scene_point(node))
        QToolTip.hideText()
        event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
        QApplication.sendEvent(view.viewport(), event)
        qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
        return QToolTip.text()

    view.center_on_node(node)
    before = view.graph.nodes[node].params
    assert f"params {human(before)}" in tip()
    assert view.document.apply_path("stage.inception_3.block.0.branch.0.op.0.width", 80)
    after = view.graph.nodes[node].params
    assert after != before and f"params {human(after)}" in tip() and "conv 1x1 80" in tip()


@pytest.mark.parametrize("path, value", [(COUNT, 19), (COUNT, 20), (COUNT, 3), ("stage.inception_resnet_a.count", 1),
                                         ("stage.inception_resnet_a.block.*.branch.0.op.0.width", 40)])
def test_the_block_table_changed_row_by_row_is_the_table_built_afresh(qtbot, path, value):
    from inception_studio.gui.shared.document import SpecDocument
    from inception_studio.gui.spec.block_table import BlockTable

    doc = SpecDocument(edits.apply_edit(get_spec("inception_resnet_v2"), COUNT, 12))
    table = BlockTable(doc)
    qtbot.addWidget(table)
    table.resize(700, 200)
    table.show()
    doc.select("b:block35_1")
    assert doc.apply_path(path, value)
    assert table.rows() == BlockTable(doc).rows()
    row = table.proxy.mapToSource(table.currentIndex()).row()
    assert table.source.lines[row].node == "b:block35_1"  # the selection stays on its block


def test_the_share_axis_stays_put_while_an_edit_moves_the_bars(make_window):
    win = make_window("inception_resnet_v2")
    win.panels.dock("stats").raise_()  # on screen: it follows each edit at once
    chart = win.stats.ensure_chart()
    end = chart.getViewBox().viewRange()[0][1]
    assert end % 5 == 0 and end >= 1.05 * max(max(p, m) for _s, p, m in win.stats.shares())
    win.document.apply_path(COUNT, 19)
    assert chart.getViewBox().viewRange()[0][1] == end
    widths = win.stats._bars[0].opts["width"]
    assert list(widths) == [p for _s, p, _m in win.stats.shares()]


def test_an_edited_graph_shares_the_untouched_blocks_and_equals_one_built_afresh():
    import inception_studio.core.graph as core_graph
    import inception_studio.core.trace as core_trace

    spec = get_spec("inception_resnet_v2")
    g0 = build_graph(spec)
    edited = edits.apply_edit(spec, COUNT, 19)
    g1 = build_graph(edited)
    assert g1.nodes["b:block35_1"] is g0.nodes["b:block35_1"]  # not built again
    memo: dict = {}
    first = layout_graph(g1, frozenset(all_expandable(g1)), memo=memo)
    again = layout_graph(build_graph(edits.apply_edit(edited, COUNT, 18)), frozenset(all_expandable(g1)), memo=memo)
    core_graph._made.clear()
    core_trace._traced.clear()
    fresh = build_graph(edited)
    assert fresh.nodes == g1.nodes and fresh.inner == g1.inner and fresh.edges == g1.edges and fresh.runs == g1.runs
    plain = layout_graph(fresh, frozenset(all_expandable(fresh)))
    assert (first.boxes, first.frames, first.routes, first.owner) == (plain.boxes, plain.frames, plain.routes, plain.owner)
    assert "b:block17_19" not in again.boxes and again.height < first.height
