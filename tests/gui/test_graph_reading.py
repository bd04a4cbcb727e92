"""The graph reads like the papers' figures: aux heads beside the block they branch from, no edge drawn
across a node, Fit shows the whole network, names stay readable zoomed out, an overview for long networks."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec
from inception_studio.gui.graph.items import EdgeItem
from inception_studio.gui.graph.layout import all_expandable, layout_graph
from inception_studio.gui.graph.names import DETAIL_SCALE


def _view(qtbot, name: str, orientation: str = "TB", size=(700, 466)):
    from inception_studio.gui.graph.view import GraphView
    from inception_studio.gui.shared.document import SpecDocument

    view = GraphView(SpecDocument(get_spec(name)))
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_orientation(orientation)
    return view


def _crossings(view) -> list[tuple[str, str, str]]:
    """(edge src, edge dst, node) for every drawn edge that passes through a node other than its ends."""
    boxes = list(view.layout_result.boxes.values())
    bad = []
    for item in view.scene().items():
        if not isinstance(item, EdgeItem):
            continue
        r, path = item.route, item.path
        near = [b for b in boxes if b.id not in (r.src, r.dst)
                and QRectF(b.x, b.y, b.w, b.h).intersects(path.boundingRect())]
        points = [path.pointAtPercent(i / 160) for i in range(161)] if near else []
        for b in near:
            inside = QRectF(b.x + 1, b.y + 1, b.w - 2, b.h - 2)
            if any(inside.contains(pt) for pt in points):
                bad.append((r.src, r.dst, b.id))
    return bad


@pytest.mark.parametrize("name", ["googlenet", "inception_v3", "inception_resnet_v2"])
@pytest.mark.parametrize("orientation", ["TB", "LR"])
def test_no_edge_is_drawn_across_a_node(qtbot, name, orientation):
    view = _view(qtbot, name, orientation)
    assert not _crossings(view)
    view.expand_all()
    assert not _crossings(view), f"{name} {orientation} expanded"


@pytest.mark.parametrize("orientation", ["TB", "LR"])
@pytest.mark.parametrize("expanded", [False, True])
def test_aux_heads_sit_beside_the_block_they_branch_from(orientation, expanded):
    g = build_graph(get_spec("googlenet"))
    lay = layout_graph(g, all_expandable(g) if expanded else frozenset(), orientation)
    tb = orientation == "TB"
    places = {**{f.id: f for f in lay.frames}, **lay.boxes}
    for aux, block in (("aux:aux1", "b:inception4a"), ("aux:aux2", "b:inception4d")):
        a, b = lay.boxes[aux], places[block]
        a0, a1 = (a.y, a.y + a.h) if tb else (a.x, a.x + a.w)
        b0, b1 = (b.y, b.y + b.h) if tb else (b.x, b.x + b.w)
        assert b0 - 10 <= (a0 + a1) / 2 <= b1 + 40, (aux, (a0, a1), (b0, b1))  # level with its block's end
        side = a.x > b.x + b.w if tb else a.y > b.y + b.h
        assert side, f"{aux} is beside the graph, not in it"
        route = next(r for r in lay.routes if r.dst == aux)
        assert route.src.startswith(block) and not route.label  # from that block's output


def test_fit_shows_the_whole_of_a_long_network(qtbot):
    view = _view(qtbot, "inception_resnet_v2")
    view.expand_all()
    view.zoom(3.0)
    view.fit()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.sceneRect().adjusted(1, 1, -1, -1))


def test_zoomed_out_names_stay_readable_and_details_come_back_closer(qtbot, artifacts):
    view = _view(qtbot, "inception_resnet_v2")
    view.fit()
    assert view.transform().m11() < DETAIL_SCALE  # a long network fitted: too small for the items' own text
    view.grab().save(str(artifacts / "graph_irv2_fitted_names.png"))
    assert view.names_written >= 12  # every stage's name, and block names beside the column
    view.expand_all()
    view.fit()
    view.grab()
    assert view.names_written >= 5  # expanded and fitted: the stage names at least
    view.zoom(DETAIL_SCALE / view.transform().m11() * 1.5)
    view.grab()
    assert view.names_written == 0  # close enough: the nodes write their own labels and shapes


def test_overview_shows_where_the_view_is_on_a_long_network(qtbot, artifacts):
    view = _view(qtbot, "inception_resnet_v2")
    overview = view.overview
    view.fit()
    assert not overview.isVisible()  # all of it on screen: nothing to navigate
    view.expand_all()
    view.zoom(0.8 / view.transform().m11())  # readable: a screenful of a 20000 px graph
    qtbot.waitUntil(overview.isVisible)
    area = overview.visible_area()
    assert area.height() < view.sceneRect().height() / 4
    view.grab().save(str(artifacts / "graph_irv2_overview.png"))
    before = view.mapToScene(view.viewport().rect().center())
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=QPointF(overview.width() / 2, overview.height() - 6).toPoint())
    after = view.mapToScene(view.viewport().rect().center())
    assert after.y() > before.y() + view.sceneRect().height() / 4  # a click near its bottom goes to the head
