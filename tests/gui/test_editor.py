"""The block editor as a person uses it: spin boxes named by their spec path, counts and widths,
'this block only', kernel factorisation, network fields, undo/redo, and inline errors."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QToolButton,
)

from inception_studio.core.analysis import analyze
from inception_studio.core.presets import get_spec
from inception_studio.gui.graph.layout import run_key


def _spin(win, path: str) -> QSpinBox:
    w = win.findChild(QSpinBox, path)
    assert w is not None, f"no spin box named {path}"
    return w


def _set(qtbot, spin: QSpinBox, value: int) -> None:
    """Type a value and press Enter, as a person does."""
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_count_edit_updates_graph_stats_table_and_undoes(qtbot, make_window, artifacts):
    win = make_window("inception_v4")
    count = _spin(win, "stage.inception_b.count")
    assert count.value() == 7
    before = analyze(get_spec("inception_v4"))
    rows_before = win.table.model().rowCount()
    _set(qtbot, count, 4)
    assert win.document.spec.stage("inception_b").count == 4
    assert win.graph_view.layout_result.boxes[run_key("b:inception_b1")].count == 4
    assert str(before.params) not in win.stats.values()["params"].replace(",", "")
    assert win.table.model().rowCount() == rows_before - 3
    assert win.isWindowModified()
    win.grab().save(str(artifacts / "editor_count_4.png"))
    qtbot.mouseClick(win.findChild(QToolButton, "undoButton"), Qt.MouseButton.LeftButton)
    assert win.document.spec.stage("inception_b").count == 7 and _spin(win, "stage.inception_b.count").value() == 7
    assert win.graph_view.layout_result.boxes[run_key("b:inception_b1")].count == 7
    with qtbot.waitActive(win):
        win.activateWindow()
    qtbot.keyClick(win.graph_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.document.spec.stage("inception_b").count == 4
    assert win.history.model().rowCount() == 2  # "<opened>" + the edit


def test_width_of_identical_blocks_edits_all_then_this_block_only(qtbot, make_window):
    win = make_window("inception_v4")
    win.document.select("b:inception_b2")
    star = _spin(win, "stage.inception_b.block.*.branch.1.op.0.width")
    assert star.value() == 192
    _set(qtbot, star, 128)
    widths = {b.branches[1].ops[0].out for b in win.document.spec.stage("inception_b").blocks}
    assert widths == {128}
    only = win.findChild(QCheckBox, "thisBlockOnly")
    assert only is not None and not only.isChecked()
    only.click()
    one = _spin(win, "stage.inception_b.block.1.branch.1.op.0.width")
    assert win.findChild(QSpinBox, "stage.inception_b.block.*.branch.1.op.0.width") is None
    _set(qtbot, one, 96)
    blocks = win.document.spec.stage("inception_b").blocks
    assert [b.branches[1].ops[0].out for b in blocks] == [128, 96, 128, 128, 128, 128, 128]
    # the blocks now differ, so the graph no longer folds all seven into one run
    assert run_key("b:inception_b1") not in win.graph_view.visible_ids() or \
        win.graph_view.layout_result.boxes[run_key("b:inception_b1")].count < 7


def test_selecting_a_stage_edits_its_blocks_together(qtbot, make_window):
    win = make_window("googlenet_paper")
    win.document.select("s:inception_4")
    spin = _spin(win, "stage.inception_4.block.*.branch.0.op.0.width")
    _set(qtbot, spin, 100)
    assert {b.branches[0].ops[0].out for b in win.document.spec.stage("inception_4").blocks} == {100}


def test_kernel_factorisation_from_the_combo(qtbot, make_window):
    win = make_window("googlenet_paper")
    win.document.select("b:inception3a")
    combo = win.findChild(QComboBox, "stage.inception_3.block.0.branch.2.kernel")
    assert combo.currentText() == "single"
    combo.activated.emit(combo.findText("stacked"))
    ops = win.document.spec.stage("inception_3").blocks[0].branches[2].ops
    assert [o.k for o in ops] == [(1, 1), (3, 3), (3, 3)]
    assert win.findChild(QComboBox, "stage.inception_3.block.0.branch.2.kernel").currentText() == "stacked"
    # the editor now offers both 3x3 widths (op 1 and op 2)
    assert _spin(win, "stage.inception_3.block.0.branch.2.op.2.width").value() == 32


def test_network_fields_classes_channels_width_mult_aux_and_scale(qtbot, make_window):
    win = make_window("inception_resnet_v2")
    _set(qtbot, _spin(win, "num_classes"), 10)
    _set(qtbot, _spin(win, "in_channels"), 1)
    assert win.document.spec.num_classes == 10 and win.document.spec.in_channels == 1
    assert "linear 10" in win.graph_view.graph.nodes["head"].label
    mult = win.findChild(QDoubleSpinBox, "width_mult")
    mult.setValue(0.5)
    assert win.document.spec.width_mult == 0.5
    assert win.document.spec.stage("stem").blocks[0].branches[0].ops[0].out == 16
    scale = win.findChild(QDoubleSpinBox, "residual_scale")
    scale.setValue(0.3)
    assert {b.scale for _, _, b in win.document.spec.iter_blocks() if b.kind == "residual"} == {0.3}
    assert win.document.undo_stack.count() == 4


def test_invalid_edit_shows_the_core_message_and_keeps_the_last_valid_spec(qtbot, make_window, artifacts):
    win = make_window("inception_v3")
    size = _spin(win, "input_size")
    spec_before = win.document.spec
    _set(qtbot, size, 40)
    assert win.document.spec is spec_before
    err = win.findChild(QLabel, "error:input_size")
    assert err.isVisible() and "needs at least" in err.text() and "px" in err.text()
    assert size.value() == 299  # back to the last valid value
    assert "needs at least" in win.statusBar().currentMessage()
    win.editor.grab().save(str(artifacts / "editor_invalid_input_size.png"))
    _set(qtbot, size, 320)  # a valid edit clears the message
    assert win.document.spec.input_size == 320 and not err.isVisible()


def test_aux_head_switch_and_its_dependency_error(qtbot, make_window):
    win = make_window("googlenet")
    aux = win.findChild(QCheckBox, "aux")
    assert aux.isChecked()
    aux.click()
    assert not win.document.spec.aux_enabled
    assert not any(i.startswith("aux:") for i in win.graph_view.visible_ids())
    win.document.undo_stack.undo()
    assert win.findChild(QCheckBox, "aux").isChecked()


def test_fixed_stages_have_no_count_field(make_window):
    win = make_window("inception_v4")
    assert win.findChild(QSpinBox, "stage.reduction_a.count") is None
    names = {w.objectName() for w in win.editor.findChildren(QSpinBox)}
    assert {"input_size", "num_classes", "in_channels", "stage.inception_a.count", "stage.inception_c.count"} <= names
