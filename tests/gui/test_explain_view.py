"""The Why? features as a person uses them: the Inspector's idea list, the Why? view for a GoogLeNet, an
Inception-v3 and an Inception-ResNet block, every "apply" an ordinary edit that Ctrl+Z undoes, the
paired runs with overlaid curves, and Help -> Tour selecting the nodes it talks about."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton

from inception_studio.core.presets import get_spec
from inception_studio.gui.explain.install import open_tour


def _why(win):
    win.action("whyAction").trigger()
    view = win.panels.widget("why")
    assert view.isVisible()
    return view


def _button(view, name: str) -> QPushButton:
    """A button of the cards on show (cards being replaced linger, hidden, until the event loop frees them)."""
    found = [b for c in view.cards if (b := c.findChild(QPushButton, name)) is not None]
    assert found, f"no button {name}"
    return found[0]


def test_inspector_lists_the_ideas_and_its_apply_is_undoable(qtbot, make_window):
    win = make_window("googlenet_paper")
    win.document.select("b:inception3a")
    box = win.inspector.ideas
    line = box.findChild(QLabel, "ideaLine_reductions")
    assert line is not None and "303.46M without the reductions (-58%)" in line.text()
    assert "GoogLeNet puts a 1x1 convolution" in line.toolTip()
    before = win.document.spec
    menu = box.findChild(QToolButton, "ideaApply_reductions").menu()
    menu.actions()[0].trigger()  # "Remove this block's 1x1 reductions (naive module)"
    assert win.document.spec != before
    assert win.inspector.ideas.explanation.out_shape == (416, 28, 28)  # the pool passes 192 channels on
    assert win.isWindowModified()
    win.document.undo_stack.undo()
    assert win.document.spec == before


@pytest.mark.parametrize("variant, node, key, figure, button", [
    ("googlenet_paper", "b:inception3a", "reductions", "120,422,400", "apply_factorisation_1"),
    ("inception_v3", "b:Mixed_6a", "grid_reduction", "203,212,800 MACs", "apply_factorisation_0"),
    ("inception_resnet_v2", "b:block35_1", "residual", "41,280 params", "apply_residual_0"),
])
def test_why_view_shows_the_figures_and_applies_as_undoable_edits(qtbot, make_window, artifacts, variant, node,
                                                                   key, figure, button):
    win = make_window(variant)
    win.document.select(node)
    view = _why(win)
    card = view.card(key)
    assert card is not None, [c.idea.key for c in view.cards]
    assert figure in card.findChild(QLabel, "ideaFigures").text()
    assert view.card("gap_head") is not None  # the network's lessons follow the block's
    dock = win.panels.dock("why")
    dock.setFloating(True)
    dock.resize(460, 1400)
    qtbot.wait(50)
    view.grab().save(str(artifacts / f"why_{variant}.png"))
    before = win.document.spec
    apply_button = _button(view, button)
    text = apply_button.text()
    qtbot.mouseClick(apply_button, Qt.MouseButton.LeftButton)
    assert win.document.spec != before
    assert win.document.undo_stack.undoText() == text  # an ordinary entry in the History
    win.document.undo_stack.undo()
    assert win.document.spec == before
    assert view.explanation.block == node[2:]  # redrawn for the restored spec, same block


def test_why_view_of_the_network_links_to_statistics(qtbot, make_window):
    win = make_window("googlenet")
    view = _why(win)
    assert view.explanation is None and view.card("alexnet") is not None
    qtbot.mouseClick(view.findChild(QPushButton, "whyShowStats"), Qt.MouseButton.LeftButton)
    assert win.panels.dock("stats").isVisible()


def test_a_failing_apply_is_reported_in_the_view_and_changes_nothing(qtbot, make_window):
    win = make_window("inception_v3")
    win.document.select("b:Mixed_6e")
    view = _why(win)
    assert win.document.apply_path("aux", False) and win.document.apply_path("input_size", 128)
    # 128 px is too small for the aux head (it needs 299), so "Turn aux heads on" cannot apply
    aux = view.card("aux")
    assert aux is not None and "does not fit" in aux.idea.summary
    before = win.document.spec
    qtbot.mouseClick(_button(view, "apply_aux_0"), Qt.MouseButton.LeftButton)
    assert win.document.spec == before
    assert view.error.isVisible() and "aux" in view.error.text()


def test_pair_dialog_trains_both_runs_and_overlays_the_curves(qtbot, make_window, tmp_path, artifacts):
    from inception_studio.engine.data import make_demo_folder

    win = make_window("googlenet")
    win.document.select("b:inception4a")
    view = _why(win)
    qtbot.mouseClick(_button(view, "pair_aux"), Qt.MouseButton.LeftButton)
    dlg = win.panels.feature("pairDialog")
    assert dlg is not None and dlg.isVisible() and dlg.kind == "aux"
    dlg.set_data(str(make_demo_folder(tmp_path / "demo", per_class=6, size=32)))
    dlg.overrides = dict(max_steps=2, batch_size=6, image_size=32, width_mult=0.125)
    dlg.epochs.setValue(1)
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.worker is not None and not dlg.worker.is_running(), timeout=120_000)
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=5_000)
    with_aux, without = dlg.result.curves
    assert len(with_aux.steps) == len(without.steps) == 2
    xs, ys = dlg.curves[1].getData()
    assert list(xs) == [1, 2] and list(ys) == pytest.approx(without.main_loss)
    _x, total = dlg.total_curve.getData()
    assert list(total) == pytest.approx(with_aux.loss)
    _x, aux = dlg.aux_curve.getData()
    assert list(aux) == pytest.approx(with_aux.aux_loss)
    assert dlg.status.text().startswith("Done.")
    dlg.grab().save(str(artifacts / "why_pair_aux.png"))
    dlg.close()


def test_tour_opens_each_network_and_selects_what_it_talks_about(qtbot, make_window, artifacts):
    win = make_window("googlenet")
    assert win.action("tourAction") in win.menu("help").actions()
    win.document.apply_path("num_classes", 10)  # unsaved work: kept in the autosave when the tour moves on
    tour = open_tour(win)
    qtbot.addWidget(tour)
    assert win.document.spec == get_spec("nin")
    assert win.document.selection == "b:mlpconv1"
    assert win.graph_view.marked("search")  # the nodes the step talks about are ringed
    assert [c.idea.key for c in tour.cards] == ["mlpconv", "gap_head"]
    qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert win.document.spec.name == "googlenet_paper" and win.document.selection == "b:inception3a"
    assert "12,443,648" in tour.cards[0].findChild(QLabel, "ideaFigures").text()
    tour.grab().save(str(artifacts / "why_tour_googlenet.png"))
    for _ in range(4):
        qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert win.document.spec.name == "inception_resnet_v2" and win.document.selection == "b:block35_1"
    assert not tour.next.isEnabled() and tour.step_label.text() == "Step 6 of 6"
    tour.close()
    assert not win.graph_view.marked("search")


def test_tools_train_a_pair_picks_the_pair_that_applies(qtbot, make_window):
    win = make_window("inception_v4")
    win.action("trainPairAction").trigger()
    assert win.panels.feature("pairDialog") is None
    assert "neither aux heads nor residual blocks" in win.statusBar().currentMessage()
    win.open_variant("inception_resnet_v1")
    win.action("trainPairAction").trigger()
    dlg = win.panels.feature("pairDialog")
    assert dlg.isVisible() and dlg.kind == "residual_scale" and dlg.spec.name == "inception_resnet_v1"
    dlg.close()
