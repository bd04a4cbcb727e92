"""The Feature-maps panel draws a new node's maps into the grid it has when the grid fits (building a grid
of view boxes costs ~15 ms a tile), and what it shows is always the new node's maps."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRect

from inception_studio.gui.run.feature_maps import FeatureMapPanel


def shown(panel: FeatureMapPanel) -> list[np.ndarray]:
    """The images in the visible tiles."""
    return [t.image for t in panel._tiles if t.isVisible()]


def test_a_new_node_of_the_same_size_reuses_the_grid_and_shows_its_own_maps(qtbot):
    panel = FeatureMapPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 500)
    panel.show()
    rng = np.random.default_rng(0)
    a, b = rng.random((20, 7, 7), dtype=np.float32), rng.random((24, 5, 5), dtype=np.float32)
    panel.show_maps("a", a)
    tiles = list(panel._tiles)
    panel.show_maps("b", b)
    assert panel._tiles == tiles and len(tiles) == 16  # the same 16 view boxes
    assert all(np.array_equal(img, b[i]) for i, img in enumerate(shown(panel)))
    panel.show_maps("c", b[:3])  # fewer channels than tiles: a grid of 3
    assert len(panel._tiles) == 3 and all(np.array_equal(img, b[i]) for i, img in enumerate(shown(panel)))
    assert len(shown(panel)) == 3  # the other tiles are hidden, not left showing b's channels
    panel.show_maps("d", a)  # a full page again: the same tiles as before, none made anew
    assert panel._tiles == tiles and all(np.array_equal(img, a[i]) for i, img in enumerate(shown(panel)))


def test_branches_with_the_same_names_are_redrawn_in_place(qtbot):
    panel = FeatureMapPanel()
    qtbot.addWidget(panel)
    names = ["1x1", "3x3", "5x5", "pool"]
    first = [(n, np.full((4, 4), i, np.float32)) for i, n in enumerate(names)]
    second = [(n, np.full((6, 6), 10 + i, np.float32)) for i, n in enumerate(names)]
    panel.show_branches("3a", first)
    items = list(panel._branch_items)
    panel.show_branches("3b", second)
    assert panel._branch_items == items and "3b" in panel.branch_note.text()
    assert [float(it.image[0, 0]) for it in items] == [10, 11, 12, 13] and items[0].image.shape == (6, 6)
    renamed = [(f"{n} · {8 * i} ch", m) for i, (n, m) in enumerate(second)]  # 4a: same count, other names
    panel.show_branches("4a", renamed)
    assert panel._branch_items == items  # kept: making them again cost ~10 ms a selection
    assert [it.toolTip() for it in items] == [it.childItems()[0].toPlainText() for it in items] == [
        n for n, _m in renamed]
    panel.show_branches("stem", [])
    assert panel._branch_items == [] and panel.branch_note.text() == "stem"
    assert not any(it.isVisible() for it in items)  # a stem has no branches: none shown
    panel.show_branches("5b", [("a", np.zeros((2, 2), np.float32))])
    assert panel._branch_items == items[:1] and items[0].isVisible()  # the same item again, shown
    assert not any(it.isVisible() for it in items[1:])


@pytest.mark.parametrize("size", [(900, 400), (490, 620), (320, 700)])
def test_branch_names_never_overlap_whatever_the_panel_shape(qtbot, size):
    panel = FeatureMapPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    panel.tabs.setCurrentIndex(1)
    qtbot.waitExposed(panel)
    maps = np.random.default_rng(0).random((14, 14))
    panel.show_branches("4a", [(f"branch {i} ({k}) · {c} ch", maps) for i, (k, c) in
                               enumerate([("1x1", 192), ("3x3", 208), ("5x5", 48), ("pool", 64)])])
    qtbot.wait(50)
    view, fm = panel.branch_view, panel.fontMetrics()

    def name_rect(item) -> QRect:  # a name is drawn at its map's top-left corner, in screen pixels, above it
        corner = view.mapFromScene(item.mapToScene(QPointF(0, 0)))
        text = item.childItems()[0].toPlainText()
        return QRect(corner.x(), corner.y() - fm.height(), fm.horizontalAdvance(text), fm.height())
    names = [name_rect(item) for item in panel._branch_items]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not a.intersects(b), (size, a, b)
