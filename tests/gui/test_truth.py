"""The window tells the truth: what it says about the network (params, name, published error, weights,
the model that runs, the feature maps shown) is what it has, and an edit that changes nothing says so."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QComboBox, QListWidget, QWidget

from inception_studio.core import edits
from inception_studio.core.build import build_model
from inception_studio.core.identity import same_structure, with_identity
from inception_studio.core.presets import get_spec, list_variants
from inception_studio.errors import WeightsError
from inception_studio.engine.building import BuiltModel

from .test_inference_panel import GOOD, WAIT, drop, panels, settle, tiny_spec  # noqa: F401 - panels: fixture


def _status(win) -> str:
    return win.findChild(QWidget, "statusTotals").text()


@pytest.mark.parametrize("name, shown", [("googlenet", "6.62M"), ("googlenet_paper", "7.00M"),
                                         ("inception_v3", "23.83M")])
def test_headline_params_leave_out_the_training_only_aux_heads(make_window, name, shown):
    win = make_window(name)
    assert f"{shown} params" in _status(win)
    assert win.stats.values()["params"].startswith(shown) and "aux heads (training only)" in win.stats.values()["params"]
    lines = win.inspector.text().splitlines()
    params_line = lines[lines.index("params") + 1]
    assert shown in params_line and "in aux heads (training only)" in params_line


def test_an_edited_spec_is_not_the_preset_any_more(qtbot, make_window, tmp_path, monkeypatch):
    win = make_window("inception_v4")
    lst = win.findChild(QListWidget, "variantList")
    assert lst.currentItem().data(0x0100) == "inception_v4"
    win.document.apply_path("stage.inception_a.count", 2)
    spec = win.document.spec
    assert (spec.name, spec.title, spec.based_on) == ("inception_v4_edited", "Inception-v4 (edited)", "inception_v4")
    assert "(4/7/3)" not in spec.description and "Inception-A ×2 (was ×4)" in spec.description
    assert spec.top1_error is None and spec.weights_source == ""
    text = win.inspector.text()
    assert "20%" not in text and "timm:inception_v4" not in text and "edited from inception_v4" in text
    assert lst.currentItem() is None or not lst.selectedItems()  # no preset highlighted: it is none of them
    asked = []
    from PySide6.QtWidgets import QFileDialog
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(a[2]), "")[1:] + ("",))
    win.session.dialogs = True
    win.session.save_as()
    assert asked and asked[0].endswith("inception_v4_edited.json")  # Save offers the edited name
    win.session.dialogs = False
    path = tmp_path / "mine.json"
    assert win.session.save_as(path)
    saved = json.loads(path.read_text())
    assert (saved["name"], saved["based_on"], saved["top1_error"]) == ("inception_v4_edited", "inception_v4", None)
    win.open_variant("googlenet")
    assert win.open_file(path)
    assert win.document.spec.name == "inception_v4_edited" and not lst.selectedItems()
    win.compare.refresh()
    assert win.compare._b()[0] == get_spec("inception_v4")  # compared with the preset it came from
    win.document.apply_path("stage.inception_a.count", 4)  # back to the preset's structure: the preset again
    assert win.document.spec == get_spec("inception_v4")
    assert lst.currentItem().data(0x0100) == "inception_v4"


def test_an_old_file_claiming_a_preset_name_is_shown_as_edited(make_window, tmp_path):
    old = edits.apply_edit(get_spec("inception_v4"), "stage.inception_b.count", 3)  # as saved before this fix
    assert old.name == "inception_v4"
    path = tmp_path / "old.json"
    path.write_text(old.to_json())
    win = make_window(str(path))
    assert win.document.spec.name == "inception_v4_edited" and "inception_v4_edited" in _status(win)


def test_identity_round_trips_for_every_preset():
    for name in list_variants():
        spec = get_spec(name)
        assert with_identity(spec) == spec
        edited = with_identity(edits.apply_edit(spec, "num_classes", 7))
        assert edited.name == f"{name}_edited" and same_structure(edited, edits.apply_edit(spec, "num_classes", 7))
        assert with_identity(edits.apply_edit(edited, "num_classes", spec.num_classes)) == spec


def test_stacked_on_a_3x3_field_says_why_nothing_changed(qtbot, make_window):
    win = make_window("googlenet")
    win.document.select("b:inception3a")
    path = "stage.inception_3.block.0.branch.2.kernel"  # 3a's "5x5" branch: a 3x3 conv, as torchvision's
    combo = win.findChild(QComboBox, path)
    before = win.document.spec
    combo.setCurrentText("stacked")
    combo.activated.emit(combo.currentIndex())
    assert win.document.spec == before
    assert combo.currentText() == "single"  # the field shows what the branch is
    message = win.editor.error_text(path)
    assert "3x3 field" in message and "nothing changed" in message


def test_a_trained_small_model_is_what_the_window_shows(qtbot, make_window):
    from inception_studio.gui.run.install import install

    win = make_window("googlenet")
    ctrl = install(win)
    small = edits.set_field(edits.scale_widths(get_spec("googlenet"), 0.25), "input_size", 96)
    small = edits.set_field(small, "num_classes", 3)
    model = build_model(small)
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        win.document.set_model(BuiltModel(model, small, ["a", "b", "c"], "cpu", "trained: last.safetensors"))
    assert same_structure(win.document.spec, small)
    assert "96x96x3" in _status(win) and "googlenet_edited" in _status(win)
    assert win.graph_view.graph.spec.input_size == 96
    assert "96x96" in win.inspector.text()
    assert ctrl.run.device_bar.weights_label.text().endswith("trained: last.safetensors")
    settle(qtbot, ctrl)
    win.document.apply_path("num_classes", 4)  # an edit rebuilds from the trained weights, not random ones
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        ctrl.build()
    settle(qtbot, ctrl)
    assert ctrl.run.device_bar.weights_label.text().endswith("trained: last.safetensors")


def test_switching_variant_clears_the_old_models_feature_maps(qtbot, panels):  # noqa: F811
    doc, run, maps, ctrl = panels
    drop(qtbot, run.findChild(QWidget, "dropZone"), GOOD[:1])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    doc.select("b:inception3a")
    settle(qtbot, ctrl)
    assert maps.maps is not None
    doc.replace_spec(get_spec("inception_v3"))
    settle(qtbot, ctrl)
    assert maps.maps is None  # nothing of the old model stays on screen
    doc.select("b:Mixed_5b")  # nor comes back when a node of the new network is chosen
    settle(qtbot, maps_ctrl := ctrl)
    assert maps.maps is None and maps_ctrl.predictor is not None


def test_failed_pretrained_download_keeps_the_model_and_points_to_the_local_file(qtbot, panels, monkeypatch):  # noqa: F811
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.findChild(QWidget, "dropZone"), GOOD[:1])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    label = run.device_bar.weights_label.text()

    def offline(source, *a, **k):
        raise WeightsError(f"{source}: could not get pretrained weights (no network); "
                           "download the file elsewhere and use import-weights")
    from inception_studio.core import weights as W
    monkeypatch.setattr(W, "download_reference", offline)
    ctrl.load_pretrained("torchvision:googlenet")
    settle(qtbot, ctrl)
    assert run.device_bar.weights_label.text() == label  # not "pretrained": the model kept its weights
    status = run.device_bar.status.text()
    assert "Load pretrained" in status and "local file" in status and "import-weights" not in status
    ctrl.clear()
    drop(qtbot, run.findChild(QWidget, "dropZone"), GOOD[1:2])  # and it still classifies
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    assert run.predictions.rows()


def test_a_spec_file_named_like_a_preset_but_identical_highlights_it(make_window, tmp_path):
    path = tmp_path / "copy.json"
    path.write_text(get_spec("inception_v3").to_json())
    win = make_window(str(path))
    lst = win.findChild(QListWidget, "variantList")
    assert lst.currentItem().data(0x0100) == "inception_v3"  # it *is* the preset
    assert replace(win.document.spec) == get_spec("inception_v3")
