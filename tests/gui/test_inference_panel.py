"""The Run and Feature-maps panels used as a person would: drop real files, read the top-5, pick graph
nodes and look at their channels, branches and Grad-CAM, load a checkpoint, edit, rebuild, export.

Tiny GoogLeNet (width 1/8, 64 px, aux off) everywhere. What the panels show is cross-checked against
the engine's own answers for the same image and model.
"""
from __future__ import annotations

import os
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragLeaveEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDockWidget, QWidget

from inception_studio.core import edits
from inception_studio.core import weights as W
from inception_studio.core.build import build_model
from inception_studio.core.graph import build_graph
from inception_studio.core.identity import same_structure
from inception_studio.core.presets import get_spec
from inception_studio.engine import device as D
from inception_studio.engine import infer
from inception_studio.gui.shared.document import SpecDocument
from inception_studio.gui.run.feature_maps import FeatureMapPanel
from inception_studio.gui.run.controller import InferenceController
from inception_studio.gui.run.install import install
from inception_studio.gui.run.predictions import RunPanel
from inception_studio.gui.shared.workers import ENGINE_LANE, Worker

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
GOOD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("sample"))
BAD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("bad_"))
WAIT = 60000


def tiny_spec():
    spec = edits.set_aux(edits.scale_widths(get_spec("googlenet"), 0.125), False)
    return edits.set_field(spec, "input_size", 64)


@pytest.fixture
def panels(qtbot, monkeypatch):
    """Run + Feature-maps panels bound to a SpecDocument, without a main window."""
    monkeypatch.setenv("INCEPTION_STUDIO_NO_DIALOGS", "1")
    doc = SpecDocument(tiny_spec())
    run, maps = RunPanel(), FeatureMapPanel()
    ctrl = InferenceController(doc, run, maps)
    for w in (run, maps):
        qtbot.addWidget(w)
        w.resize(720, 640)
        w.show()
    qtbot.waitUntil(lambda: run.device_bar.selector.currentData() is not None, timeout=WAIT)
    yield doc, run, maps, ctrl
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=WAIT)  # no thread outlives its widgets


def drag_enter(widget: QWidget, paths=(), image: QImage | None = None) -> tuple:
    """A drag carrying files (as file:// URLs) or raw image data enters ``widget`` (a real QDragEnterEvent)."""
    mime = QMimeData()
    if paths:
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    if image is not None:
        mime.setImageData(image)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():  # PySide6 6.12 marks the only QDragEnterEvent constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(5, 5), *args)  # Qt delivers a drop only where the enter was accepted
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    return args


def drop(qtbot, widget: QWidget, paths=(), image: QImage | None = None) -> None:
    """Drop files (as file:// URLs) or raw image data on ``widget`` through a real QDropEvent."""
    args = drag_enter(widget, paths, image)
    event = QDropEvent(QPointF(5, 5), *args)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def settle(qtbot, ctrl) -> None:
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=WAIT)
    qtbot.wait(20)
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=WAIT)


def test_dropping_files_shows_top5_and_names_bad_files(qtbot, panels):
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.findChild(QWidget, "dropZone"), [*GOOD, *BAD])
    qtbot.waitUntil(lambda: len(ctrl.results) == len(GOOD) and len(ctrl.errors) == len(BAD), timeout=WAIT)
    settle(qtbot, ctrl)
    assert run.strip.count() == len(GOOD)
    assert [r.name for r in ctrl.results] == [p.name for p in GOOD]
    shown = run.findChild(QWidget, "predictionList").rows()
    expected = ctrl.predictor.predict(GOOD[0])  # the engine's own answer for the image on screen
    assert [n for n, _ in shown] == [n for n, _ in expected]
    assert np.allclose([p for _, p in shown], [p for _, p in expected], atol=1e-5)
    assert run.predictions.title() == GOOD[0].name
    text = run.errors.text()
    for bad in BAD:
        assert bad.name + ": " in text
    assert run.errors.isVisible() and "\n" in text
    # switching thumbnails switches predictions
    run.strip.setCurrentRow(3)
    assert run.predictions.title() == GOOD[3].name
    assert [n for n, _ in run.predictions.rows()] == [n for n, _ in ctrl.predictor.predict(GOOD[3])]


def test_only_bad_files_then_good_ones_still_work(qtbot, panels):
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.drop_zone, BAD)
    qtbot.waitUntil(lambda: len(ctrl.errors) == len(BAD), timeout=WAIT)
    settle(qtbot, ctrl)
    assert run.strip.count() == 0 and ctrl.predictor is not None
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: run.strip.count() == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    assert len(run.predictions.rows()) == 5
    qtbot.mouseClick(run.findChild(QWidget, "clearImagesButton"), Qt.MouseButton.LeftButton)
    settle(qtbot, ctrl)
    assert run.strip.count() == 0 and run.predictions.rows() == [] and not run.errors.isVisible()
    assert ctrl.predictor is not None  # the model stays


def test_a_dropped_folder_and_pixels(qtbot, panels, tmp_path):
    _doc, run, _maps, ctrl = panels
    for p in GOOD[:2]:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "readme.txt").write_text("not an image")
    drop(qtbot, run.drop_zone, [tmp_path])
    qtbot.waitUntil(lambda: run.strip.count() == 2, timeout=WAIT)
    settle(qtbot, ctrl)
    img = QImage(40, 30, QImage.Format.Format_RGB32)
    img.fill(QColor(200, 30, 30))
    drop(qtbot, run.drop_zone, image=img)
    qtbot.waitUntil(lambda: run.strip.count() == 3, timeout=WAIT)
    settle(qtbot, ctrl)
    assert ctrl.results[-1].name.startswith("pasted image")
    QGuiApplication.clipboard().setImage(img)
    ctrl.paste()
    qtbot.waitUntil(lambda: run.strip.count() == 4, timeout=WAIT)
    settle(qtbot, ctrl)
    pasted = ctrl.results[-1]
    assert tuple(pasted.input.shape) == (3, 64, 64)
    assert [n for n, _ in pasted.top] == [n for n, _ in ctrl.predictor.predict(pasted.input)]


def test_a_new_drop_shows_its_first_image(qtbot, panels):
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    drop(qtbot, run.drop_zone, [GOOD[4], GOOD[5]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 3, timeout=WAIT)
    settle(qtbot, ctrl)
    assert run.strip.currentRow() == 1 and run.predictions.title() == GOOD[4].name
    assert [n for n, _ in run.predictions.rows()] == [n for n, _ in ctrl.predictor.predict(GOOD[4])]
    # the preview is the model's input crop, made on the engine thread
    assert np.array_equal(run.preview.image.image, ctrl.results[1].preview)


def test_a_drop_is_answered_first_then_the_rest_of_the_panel(qtbot, panels):
    """The top-5 is painted before the thumbnail, preview and feature maps are touched; the lit drop zone
    goes back to normal once the answer is shown."""
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    seen = []

    def answered(result) -> None:  # at this moment: the rows are up and painted, the strip not updated yet
        seen.append((result.name, run.predictions.rows() == result.top, run.predictions.title(),
                     run.strip.count(), run.drop_zone.property("hover"), len(ctrl.results)))
    ctrl.answerShown.connect(answered)
    with qtbot.waitSignal(ctrl.resultAdded, timeout=WAIT):
        drop(qtbot, run.drop_zone, [GOOD[3], GOOD[4]])
        assert run.drop_zone.property("hover") is True  # lit while the drop is being classified
    settle(qtbot, ctrl)
    assert seen == [(GOOD[3].name, True, GOOD[3].name, 1, True, 1)]  # once per drop, for its first image
    assert run.strip.count() == 3 and run.strip.currentRow() == 1
    assert run.drop_zone.property("hover") is False
    assert "\t" in run.predictions.accessibleDescription()  # screen readers get the rows afterwards


def test_a_drop_right_after_a_drop_is_classified_too(qtbot, panels):
    _doc, run, _maps, ctrl = panels
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    with qtbot.waitSignal(ctrl.answerShown, timeout=WAIT):
        drop(qtbot, run.drop_zone, [GOOD[1]])
    drop(qtbot, run.drop_zone, [GOOD[2]])  # while the last one is still classifying or just answered
    qtbot.waitUntil(lambda: len(ctrl.results) == 3, timeout=WAIT)
    settle(qtbot, ctrl)
    assert [r.name for r in ctrl.results] == [GOOD[0].name, GOOD[1].name, GOOD[2].name]
    assert run.predictions.title() == GOOD[2].name and run.strip.currentRow() == 2


def test_a_drop_nobody_answers_stops_lighting_the_zone(qtbot):
    from inception_studio.gui.run.drop_zone import DropZone
    zone = DropZone()
    qtbot.addWidget(zone)
    zone._settle.setInterval(50)
    got = []
    zone.filesDropped.connect(got.append)
    drop(qtbot, zone, [GOOD[0]])
    assert got == [[str(GOOD[0])]] and zone.property("hover") is True
    qtbot.waitUntil(lambda: zone.property("hover") is False, timeout=2000)
    drag_enter(zone, [GOOD[1]])  # a new drag hovering: an old answer must not switch its border off
    zone.settle()
    assert zone.property("hover") is True


def test_hovering_classifies_ahead_and_the_drop_is_answered_from_it(qtbot, panels, monkeypatch, tmp_path):
    _doc, run, _maps, ctrl = panels
    assert ctrl.answer_ahead  # the default
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        run.device_bar.build_button.click()
    settle(qtbot, ctrl)
    p = ctrl.predictor
    drag_enter(run.drop_zone, GOOD[1:3])
    qtbot.waitUntil(lambda: all(p.answered(f) for f in GOOD[1:3]), timeout=WAIT)
    settle(qtbot, ctrl)
    forwards, forward = [], p.forward
    monkeypatch.setattr(p, "forward", lambda x: (forwards.append(len(x)), forward(x))[1])
    drop(qtbot, run.drop_zone, GOOD[1:4])  # the third file was not hovered: it is classified at the drop
    qtbot.waitUntil(lambda: len(ctrl.results) == 3, timeout=WAIT)
    settle(qtbot, ctrl)
    assert forwards == [1]
    cold = list(p.classify(GOOD[1:4], use_cache=False))
    for shown, ref in zip(ctrl.results, cold):
        assert [n for n, _ in shown.top] == [n for n, _ in ref.top]
        assert np.allclose([q for _, q in shown.top], [q for _, q in ref.top], atol=1e-5)
    assert run.predictions.rows() == ctrl.results[0].top
    # a file that changed after it was classified ahead is classified again, as it is now
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(GOOD[1].read_bytes())
    drag_enter(run.drop_zone, [photo])
    qtbot.waitUntil(lambda: p.answered(photo), timeout=WAIT)
    settle(qtbot, ctrl)
    photo.write_bytes(GOOD[5].read_bytes())
    os.utime(photo, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert not p.answered(photo)
    forwards.clear()
    drop(qtbot, run.drop_zone, [photo])
    qtbot.waitUntil(lambda: len(ctrl.results) == 4, timeout=WAIT)
    settle(qtbot, ctrl)
    assert forwards == [1]
    assert [n for n, _ in ctrl.results[-1].top] == [n for n, _ in p.predict(GOOD[5])]


def test_hovering_decodes_ahead_and_the_drop_uses_it(qtbot, panels, monkeypatch):
    _doc, run, _maps, ctrl = panels
    ctrl.answer_ahead = False  # Model → Classify while dragging, off: decoding ahead only
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        run.device_bar.build_button.click()
    settle(qtbot, ctrl)
    images = ctrl.predictor.images
    drag_enter(run.drop_zone, GOOD[1:3])  # the pointer is over the drop zone, not released yet
    qtbot.waitUntil(lambda: all(images.cached(p) for p in GOOD[1:3]), timeout=WAIT)
    settle(qtbot, ctrl)
    decoded, load = [], images.load
    monkeypatch.setattr(images, "load", lambda image, name=None: (decoded.append(image), load(image, name))[1])
    drop(qtbot, run.drop_zone, GOOD[1:3])
    qtbot.waitUntil(lambda: len(ctrl.results) == 2, timeout=WAIT)
    settle(qtbot, ctrl)
    assert decoded == []  # the drop only ran the forward pass
    cold = list(ctrl.predictor.classify(GOOD[1:3], use_cache=False))
    for shown, ref in zip(ctrl.results, cold):
        assert [n for n, _ in shown.top] == [n for n, _ in ref.top]
        assert np.allclose([p for _, p in shown.top], [p for _, p in ref.top], atol=1e-6)
    # a drag that leaves again stops its prefetch (here before it started: the lane was busy)
    gate = threading.Event()
    Worker(lambda: gate.wait(WAIT / 1000)).start(lane=ENGINE_LANE)
    drag_enter(run.drop_zone, [GOOD[5]])
    QApplication.sendEvent(run.drop_zone, QDragLeaveEvent())
    gate.set()
    settle(qtbot, ctrl)
    assert not images.cached(GOOD[5]) and len(ctrl.results) == 2


def test_engine_work_runs_on_one_lane_thread_not_the_gui_thread(qtbot, panels, monkeypatch):
    _doc, run, _maps, ctrl = panels
    threads: list[str] = []  # names: a fresh thread may reuse an ended one's ident
    for name in ("forward", "feature_maps", "gradcam"):
        real = getattr(infer.Predictor, name)
        monkeypatch.setattr(infer.Predictor, name, lambda self, *a, real=real, **k: (
            threads.append(QThread.currentThread().objectName()), real(self, *a, **k))[1])
    drop(qtbot, run.drop_zone, [GOOD[0], GOOD[2]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 2, timeout=WAIT)
    settle(qtbot, ctrl)
    with qtbot.waitSignal(ctrl.featuresShown, timeout=WAIT, check_params_cb=lambda v: v.cam is not None):
        run.gradcam_toggle.setChecked(True)
    settle(qtbot, ctrl)
    assert len(threads) >= 3 and set(threads) == {f"lane-{ENGINE_LANE}"}  # classify, maps, Grad-CAM: one thread


def test_feature_maps_for_chosen_nodes(qtbot, panels):
    doc, run, maps, ctrl = panels
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    graph = build_graph(doc.spec)
    image = ctrl.results[0].input
    for node_id in ("b:conv1/br0/0", "b:inception3a/br1", "b:inception4a"):
        with qtbot.waitSignal(ctrl.featuresShown, timeout=WAIT, check_params_cb=lambda v, n=node_id:
                              v.module == graph.nodes[n].module):
            doc.select(node_id)
        settle(qtbot, ctrl)
        node = graph.nodes[node_id]
        assert maps.maps.shape == tuple(node.shape), node_id
        assert maps.title.text().startswith(node.label)
        engine = ctrl.predictor.feature_maps(image, [node.module])[node.module].numpy()
        tiles = [t for t in maps._tiles if t.channel >= 0]
        assert len(tiles) == min(16, node.shape[0])
        assert np.allclose(tiles[2].image, engine[tiles[2].channel], atol=1e-5)
    # an Inception block: one mean map per branch, labelled with its role
    roles = [b.role for b in doc.spec.stage("inception_4").blocks[0].branches]
    assert [label.split(" · ")[0] for label, _ in maps.branches] == [f"branch {j} ({r})" for j, r in enumerate(roles)]
    # paging, shared normalisation and click-to-enlarge
    qtbot.mouseClick(maps.next_button, Qt.MouseButton.LeftButton)
    assert maps.visible_channels()[0] == 16 and maps._tiles[0].channel == 16
    maps.per_channel.setChecked(False)
    lo, hi = float(maps.maps.min()), float(maps.maps.max())
    assert tuple(maps._tiles[0].levels) == pytest.approx((lo, hi))
    maps.colormap.setCurrentText("inferno")

    class Click:
        def button(self):
            return Qt.MouseButton.LeftButton

        def accept(self):
            pass
    maps._tiles[1].mouseClickEvent(Click())
    assert maps.stack.currentWidget() is maps.big and maps.enlarged == 17
    assert np.allclose(maps._big_item.image, maps.maps[17])
    maps._big_item.mouseClickEvent(Click())
    assert maps.stack.currentWidget() is maps.grid


def test_gradcam_overlay(qtbot, panels):
    doc, run, _maps, ctrl = panels
    drop(qtbot, run.drop_zone, [GOOD[1]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    doc.select("b:inception4b/br2")  # a branch: the CAM is taken at the block that holds it
    settle(qtbot, ctrl)
    toggle = run.findChild(QCheckBox, "gradcamToggle")
    with qtbot.waitSignal(ctrl.featuresShown, timeout=WAIT, check_params_cb=lambda v: v.cam is not None):
        toggle.setChecked(True)
    settle(qtbot, ctrl)
    cam = run.preview.cam_data
    assert cam.shape == (64, 64) and 0 <= cam.min() and cam.max() == pytest.approx(1.0)
    assert np.allclose(cam, ctrl.predictor.gradcam(ctrl.results[0].input, "stages.inception_4.inception4b"), atol=1e-5)
    assert run.preview.cam.isVisible() and "4b" in run.cam_label.text()
    with qtbot.waitSignal(ctrl.featuresShown, timeout=WAIT):
        toggle.setChecked(False)
    settle(qtbot, ctrl)
    assert run.preview.cam_data is None and not run.preview.cam.isVisible()


def test_device_selector_and_memory_refusal(qtbot, panels, monkeypatch):
    _doc, run, _maps, ctrl = panels
    selector = run.findChild(QComboBox, "deviceSelector")
    devices = D.list_devices()
    assert [selector.itemData(i) for i in range(selector.count())] == [d.id for d in devices]
    assert selector.currentIndex() == 0 and selector.currentText() == devices[0].label
    monkeypatch.setattr(D, "available_memory", lambda _d: 1 << 20)
    with qtbot.waitSignal(ctrl.failed, timeout=WAIT):
        run.device_bar.build_button.click()
    settle(qtbot, ctrl)
    status = run.device_bar.status
    assert "needs about" in status.text() and "1.0 MiB free" in status.text() and status.property("error")
    assert ctrl.predictor is None and run.device_bar.build_button.isEnabled()
    monkeypatch.undo()
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        run.device_bar.build_button.click()
    settle(qtbot, ctrl)
    assert not status.property("error") and ctrl.predictor.device.type == devices[0].kind


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_build_and_predict(qtbot, panels):
    doc, run, _maps, ctrl = panels
    run.device_bar.set_device("cuda:0")
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        run.device_bar.build_button.click()
    drop(qtbot, run.drop_zone, [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    assert ctrl.predictor.device.type == "cuda" and doc.model.device.startswith("cuda")
    assert len(run.predictions.rows()) == 5


# ---- in the main window -----------------------------------------------------------------------

@pytest.fixture
def app_window(make_window, tmp_path, qtbot):
    spec_file = tmp_path / "tiny.json"
    spec_file.write_text(tiny_spec().to_json())
    win = make_window(str(spec_file))
    ctrl = install(win)
    qtbot.waitUntil(lambda: win.findChild(QComboBox, "deviceSelector").currentData() is not None, timeout=WAIT)
    yield win, ctrl
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=WAIT)


def _action(win, menu: str, key: str):
    action = win.action(key)
    assert action is not None and action in win.menu(menu).actions(), (menu, key)
    return action


def test_main_window_drop_menus_and_docks(qtbot, app_window, artifacts):
    win, ctrl = app_window
    assert win.findChild(QDockWidget, "runDock") and win.findChild(QDockWidget, "featureMapsDock")
    for name in ("deviceSelector", "dropZone", "predictionList", "featureMapView", "gradcamToggle"):
        assert win.findChild(QWidget, name) is not None, name
    assert _action(win, "file", "exportOnnxAction") and _action(win, "model", "loadPretrainedAction")
    win.handle_dropped([str(p) for p in (*GOOD[:3], BAD[0])])  # the window-level drop handler
    qtbot.waitUntil(lambda: len(ctrl.results) == 3 and len(ctrl.errors) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    assert BAD[0].name in win.statusBar().currentMessage() or ctrl.errors[0].startswith(BAD[0].name)
    win.document.select("b:inception3b")
    settle(qtbot, ctrl)
    assert win.findChild(QWidget, "featureMapView").maps.shape[0] == build_graph(win.document.spec).nodes[
        "b:inception3b"].shape[0]
    win.grab().save(str(artifacts / "inference_main_window.png"))


def test_checkpoint_edit_rebuild_marks_reinitialised_blocks(qtbot, app_window, tmp_path):
    win, ctrl = app_window
    spec = replace(tiny_spec(), num_classes=3)
    path = tmp_path / "three.safetensors"
    W.save_checkpoint(path, spec, build_model(spec), ["red", "green", "blue"])
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        ctrl.load_checkpoint(str(path))
    settle(qtbot, ctrl)
    assert same_structure(win.document.spec, spec) and win.document.model.source == "checkpoint: three.safetensors"
    assert win.document.spec.name == "googlenet_edited"  # an edited GoogLeNet does not call itself GoogLeNet
    assert win.graph_view.marked("reinitialised") == set()
    win.document.apply_path("stage.inception_4.block.1.branch.0.op.0.width", 40)
    assert "Build model" in ctrl.run.device_bar.status.text()
    with qtbot.waitSignal(ctrl.modelReady, timeout=WAIT):
        _action(win, "model", "buildModelAction").trigger()
    settle(qtbot, ctrl)
    ck = W.load_checkpoint(path)
    new = build_model(win.document.spec).state_dict()
    changed = {f"b:{k.split('.')[2]}" for k, v in new.items() if ck.state_dict[k].shape != v.shape}
    assert set(win.document.model.reinitialised) == changed == {"b:inception4b", "b:inception4c"}
    win.graph_view.expand_all()
    assert changed <= win.graph_view.marked("reinitialised")
    drop(qtbot, win.findChild(QWidget, "dropZone"), [GOOD[0]])
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=WAIT)
    settle(qtbot, ctrl)
    assert {n for n, _ in ctrl.run.predictions.rows()} == {"red", "green", "blue"}


def test_export_onnx_reports_parity(qtbot, app_window, tmp_path):
    win, ctrl = app_window
    out = tmp_path / "tiny.onnx"
    with qtbot.waitSignal(ctrl.exportFinished, timeout=WAIT) as sig:
        ctrl.export_onnx(str(out))
    settle(qtbot, ctrl)
    report = sig.args[0]
    assert out.is_file() and report.checker_ok and report.max_abs_diff < 1e-3
    assert "onnxruntime max |diff|" in ctrl.run.device_bar.status.text()
    assert "tiny.onnx" in win.statusBar().currentMessage()
