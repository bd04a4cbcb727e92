"""The block graph: the pure layout (every variant, both orientations) and the view a person uses —
double-click to expand, +/- keys, expand/collapse all, search, marks, orientation, PNG/SVG export."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec, list_variants
from inception_studio.gui.graph.layout import (
    ORIENTATIONS,
    all_expandable,
    layout_graph,
    reveal_keys,
    run_key,
)


def _overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


@pytest.mark.parametrize("name", list_variants())
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_layout_has_no_overlaps_and_every_edge_lands(name, orientation):
    g = build_graph(get_spec(name))
    for expanded in (frozenset(), frozenset(all_expandable(g))):
        lay = layout_graph(g, expanded, orientation)
        boxes = sorted(lay.boxes.values(), key=lambda b: (b.y, b.x))
        for i, a in enumerate(boxes):  # sweep: only neighbours in y can overlap
            for b in boxes[i + 1:]:
                if b.y >= a.y + a.h:
                    break
                assert not _overlaps(a, b), f"{name} {orientation}: {a.id} overlaps {b.id}"
        for r in lay.routes:
            assert r.src in lay.boxes and r.dst in lay.boxes
        assert lay.width >= max(b.x + b.w for b in boxes) and lay.height >= max(b.y + b.h for b in boxes)


@pytest.mark.parametrize("name", list_variants())
def test_expanded_blocks_show_every_op_inside_their_frame(name):
    g = build_graph(get_spec(name))
    lay = layout_graph(g, all_expandable(g))
    frames = {f.id: f for f in lay.frames}
    ops = [n for n in g.nodes.values() if n.kind in ("conv", "sepconv", "maxpool", "avgpool", "lrn", "dropout")]
    assert ops and all(o.id in lay.boxes for o in ops)
    for o in ops:
        box, frame = lay.boxes[o.id], frames[g.block_of(o.id)]
        assert frame.x <= box.x and box.x + box.w <= frame.x + frame.w
        assert frame.y <= box.y and box.y + box.h <= frame.y + frame.h


def test_runs_of_identical_blocks_fold_to_one_node():
    g = build_graph(get_spec("inception_v4"))
    lay = layout_graph(g)
    run = lay.boxes[run_key("b:inception_b1")]
    assert run.count == 7 and len(run.members) == 7
    assert lay.owner["b:inception_b5"] == run.id  # a hidden block is drawn by its run
    assert reveal_keys(g, "b:inception_b5/br1/0") == {run.id, "b:inception_b5"}


def test_left_to_right_layout_runs_along_x():
    g = build_graph(get_spec("inception_v3"))
    tb, lr = layout_graph(g, orientation="TB"), layout_graph(g, orientation="LR")
    assert tb.height > tb.width and lr.width > lr.height


@pytest.fixture
def view(qtbot):
    from inception_studio.gui.shared.document import SpecDocument
    from inception_studio.gui.graph.view import GraphView

    doc = SpecDocument(get_spec("inception_v4"))
    v = GraphView(doc)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    return v


def _double_click(qtbot, view, node_id):
    view.center_on_node(node_id)
    pos = view.mapFromScene(view.scene_point(node_id))
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_double_click_unfolds_a_run_then_opens_a_block(qtbot, view, artifacts):
    run = run_key("b:inception_b1")
    assert run in view.visible_ids() and "b:inception_b3" not in view.visible_ids()
    _double_click(qtbot, view, run)
    assert {f"b:inception_b{i}" for i in range(1, 8)} <= view.visible_ids()
    _double_click(qtbot, view, "b:inception_b3")
    assert "b:inception_b3/br2/4" in view.visible_ids() and "b:inception_b3/concat" in view.visible_ids()
    view.grab().save(str(artifacts / "graph_block_expanded.png"))
    # a click selects; '-' collapses the selected block, '+' opens it again
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.scene_point("b:inception_b3/br1/0")))
    assert view.document.selection == "b:inception_b3/br1/0"
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert "b:inception_b3/br1/0" not in view.visible_ids() and "b:inception_b3" in view.visible_ids()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert "b:inception_b3/br1/0" in view.visible_ids()


def test_expand_all_collapse_all_and_expansion_survives_an_edit(view):
    view.expand_all()
    every_op = {n.id for n in view.graph.nodes.values() if n.kind == "conv"}
    assert every_op <= view.visible_ids()
    view.document.apply_path("num_classes", 10)
    assert every_op <= view.visible_ids()  # an edit keeps what was open
    assert view.graph.nodes["head"].label.endswith("10")
    view.collapse_all()
    assert len(view.visible_ids()) < 20


def test_search_reveals_selects_and_cycles(view):
    first = view.find("inception-b 4")
    assert first == "b:inception_b4"
    assert first in view.visible_ids() and view.document.selection == first
    assert view.item_for(first).selected
    hits = {view.find("reduction") for _ in range(3)}
    assert {"b:reduction_a", "b:reduction_b"} <= hits  # repeated Enter goes to the next match
    assert view.find("no such thing") == ""


def test_marks_land_on_what_is_drawn(view):
    view.mark_nodes({"b:inception_b5", "b:reduction_a"}, "diff")
    assert view.marked("diff") == {run_key("b:inception_b1"), "b:reduction_a"}
    view.expand(run_key("b:inception_b1"))
    assert "b:inception_b5" in view.marked("diff")  # unfolding moves the mark onto the block itself
    view.clear_marks("diff")
    assert not view.marked("diff")


def test_orientation_switch_relays_out(view):
    view.set_orientation("LR")
    lay = view.layout_result
    assert lay.orientation == "LR" and lay.width > lay.height
    box = lay.boxes["b:reduction_a"]
    assert view.item_for("b:reduction_a").pos().x() == box.x


def test_export_png_and_svg_of_the_expanded_graph(view, tmp_path, artifacts):
    view.expand_all()
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    view.export_png(str(png))
    view.export_svg(str(svg))
    img = QImage(str(png))
    assert not img.isNull() and img.height() > 2000
    colours = {img.pixel(img.width() // 2, y) for y in range(0, img.height(), 37)}
    assert len(colours) > 3  # not a blank page
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "Inception-B 3" in text and "17x17x1024" in text  # labels and shapes stay text in the SVG
    view.render_image(0.5).save(str(artifacts / "graph_export_inception_v4_expanded.png"))


def test_export_to_a_missing_folder_is_a_one_line_error(view, tmp_path):
    from inception_studio.errors import StudioError

    with pytest.raises(StudioError, match="could not write"):
        view.export_png(str(tmp_path / "no" / "such" / "g.png"))
