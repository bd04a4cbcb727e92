"""Hostile and careless input in the window (issue 12, points 1, 2, 5, 14).

Bad spec files opened or dropped (one or several), a bad checkpoint loaded, a spec with a huge
description, and autosave with several instances running, one killed, and several documents.
Every failure must show in the window and leave the spec the window had.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QSpinBox

from inception_studio.core import edits
from inception_studio.core import weights as W
from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.gui.shared.autosave import AutosaveStore
from inception_studio.gui.spec.inspector import MAX_SHOWN

REPO = Path(__file__).resolve().parents[2]


def _spec_json(path: list, value, variant: str = "googlenet") -> str:
    d = copy.deepcopy(json.loads(get_spec(variant).to_json()))
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(d)


BAD_SPECS = {
    "num_str.json": _spec_json(["num_classes"], "10"),
    "stages.json": _spec_json(["stages"], "notalist"),
    "dotted.json": _spec_json(["stages", 0, "blocks", 0, "name"], "a.b"),
    "climb.json": _spec_json(["stages", 0, "blocks", 0, "name"], "../../etc"),
    "empty_stage.json": _spec_json(["stages", 0, "name"], ""),
    "inf.json": _spec_json(["num_classes"], 1000).replace('"num_classes": 1000', '"num_classes": Infinity'),
    "zero_mult.json": _spec_json(["width_mult"], 0),
    "deep.json": "[" * 100_000 + "]" * 100_000,
}


def _real_drop(win, paths) -> None:
    """Drop files on the window through a real QDropEvent (as a file manager would)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, QDragEnterEvent(QPoint(5, 5), *args))
    event = QDropEvent(QPointF(5, 5), *args)
    QApplication.sendEvent(win, event)


# ---- point 14: every open/drop failure shown, the previous state intact ----------------------------

def test_bad_specs_opened_or_dropped_leave_the_spec_and_say_why(qtbot, make_window, tmp_path):
    win = make_window("inception_v3")
    win.findChild(QSpinBox, "num_classes").setValue(7)  # unsaved work that must survive every failure
    before, history = win.document.spec, win.document.undo_stack.count()
    for name, text in BAD_SPECS.items():
        (tmp_path / name).write_text(text)
        assert not win.open_file(tmp_path / name)
        message = win.statusBar().currentMessage()
        assert message.startswith(f"{name}: ") and "\n" not in message, message
        _real_drop(win, [tmp_path / name])
        assert win.statusBar().currentMessage().startswith(f"{name}: ")
        assert win.document.spec == before and win.document.undo_stack.count() == history and win.document.dirty
    assert win.findChild(QSpinBox, "num_classes").value() == 7  # the editor shows the spec it had


def test_several_dropped_specs_open_the_first_good_one_and_name_the_rest(qtbot, make_window, tmp_path):
    win = make_window("googlenet")
    bad, good, extra = tmp_path / "bad.json", tmp_path / "good.json", tmp_path / "extra.json"
    bad.write_text(BAD_SPECS["stages.json"])
    good.write_text(get_spec("nin").to_json())
    extra.write_text(get_spec("inception_v4").to_json())
    _real_drop(win, [bad, good, extra])
    message = win.statusBar().currentMessage()
    assert win.document.spec.name == "nin"
    assert "Opened good.json" in message and "not opened (the window holds one spec): extra.json" in message
    assert "bad.json: spec.stages: must be a list" in message
    win.handle_dropped([str(bad), str(tmp_path / "missing.json")])
    assert win.document.spec.name == "nin"
    message = win.statusBar().currentMessage()
    assert message.startswith("No dropped spec opened") and "missing.json: no such file" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_huge_spec_file_is_refused_at_once(qtbot, make_window, tmp_path):
    win = make_window("googlenet")
    os.mkfifo(tmp_path / "pipe.json")
    assert not win.open_file(tmp_path / "pipe.json")
    assert win.statusBar().currentMessage() == "pipe.json: is a named pipe (FIFO), not a file"
    with open(tmp_path / "huge.json", "wb") as fh:
        fh.truncate(5 * 2**20)
    assert not win.open_file(tmp_path / "huge.json")
    assert win.statusBar().currentMessage().startswith("huge.json: too large (5.0 MiB")
    assert win.document.spec == get_spec("googlenet")


def test_bad_checkpoint_shows_one_line_not_a_type_error(qtbot, tmp_path, monkeypatch):
    from inception_studio.gui.run.controller import InferenceController
    from inception_studio.gui.run.feature_maps import FeatureMapPanel
    from inception_studio.gui.run.predictions import RunPanel
    from inception_studio.gui.shared.document import SpecDocument
    from safetensors import safe_open
    from safetensors.torch import save_file

    monkeypatch.setenv("INCEPTION_STUDIO_NO_DIALOGS", "1")
    spec = edits.set_field(edits.set_aux(edits.scale_widths(get_spec("googlenet"), 0.125), False), "input_size", 64)
    good = tmp_path / "good.safetensors"
    W.save_checkpoint(good, spec, build_model(spec), [f"c{i}" for i in range(spec.num_classes)])
    with safe_open(str(good), "pt") as fh:
        meta, sd = dict(fh.metadata()), {k: fh.get_tensor(k) for k in fh.keys()}
    doc = SpecDocument(spec)
    run, maps = RunPanel(), FeatureMapPanel()
    ctrl = InferenceController(doc, run, maps)
    for w in (run, maps):
        qtbot.addWidget(w)
    for field, value, want in [("class_names", "null", "class_names must be a list of names"),
                               ("metadata", "[1]", "metadata must be a JSON object")]:
        bad = tmp_path / f"bad_{field}.safetensors"
        save_file(sd, str(bad), metadata={**meta, field: value})
        ctrl.load_checkpoint(str(bad))
        qtbot.waitUntil(lambda: not ctrl.busy(), timeout=60000)
        status = run.device_bar.status.text()
        assert want in status and "TypeError" not in status and "AttributeError" not in status, status
        assert doc.spec == spec
    import torch
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "resnet.pth")
    ctrl.load_checkpoint(str(tmp_path / "resnet.pth"))
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=60000)
    assert "resnet.pth: a PyTorch pickle" in run.device_bar.status.text()
    assert "import-weights" in run.device_bar.status.text() and doc.spec == spec


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_dropped_on_the_run_panel_never_blocks_the_engine(qtbot, tmp_path, monkeypatch):
    from inception_studio.gui.run.controller import InferenceController
    from inception_studio.gui.run.feature_maps import FeatureMapPanel
    from inception_studio.gui.run.predictions import RunPanel
    from inception_studio.gui.shared.document import SpecDocument

    monkeypatch.setenv("INCEPTION_STUDIO_NO_DIALOGS", "1")
    spec = edits.set_field(edits.set_aux(edits.scale_widths(get_spec("googlenet"), 0.125), False), "input_size", 64)
    run, maps = RunPanel(), FeatureMapPanel()
    ctrl = InferenceController(SpecDocument(spec), run, maps)
    for w in (run, maps):
        qtbot.addWidget(w)
    os.mkfifo(tmp_path / "pipe.jpg")
    ctrl.hover([str(tmp_path / "pipe.jpg")])  # a drag carrying it: decoded (and classified) ahead
    ctrl.end_hover()
    ctrl.add_sources([str(tmp_path / "pipe.jpg")])
    qtbot.waitUntil(lambda: len(ctrl.errors) == 1, timeout=60000)
    assert ctrl.errors == ["pipe.jpg: is a named pipe (FIFO), not a file"]
    ctrl.add_sources([str(REPO / "assets" / "samples" / "sample.bmp")])  # the engine thread is still free
    qtbot.waitUntil(lambda: len(ctrl.results) == 1, timeout=60000)
    qtbot.waitUntil(lambda: not ctrl.busy(), timeout=60000)


# ---- point 5: bounded description rendering ----------------------------------------------------------

def test_a_huge_unbroken_description_is_shown_bounded(qtbot, make_window):
    win = make_window("nin")
    huge = replace(get_spec("nin"), name="mynet", title="T" * 5000, description="x" * 1_000_000)
    win.document.replace_spec(huge)  # through the Python API: no reader in between to bound it
    text = win.inspector.text()
    assert len(text) < 3 * MAX_SHOWN + 2000
    assert "998,000 more characters" in text and "4,800 more characters" in text


# ---- point 2: autosave per instance and per document ---------------------------------------------------

_OTHER_INSTANCE = textwrap.dedent("""
    import json, os, sys, time
    os.environ["INCEPTION_STUDIO_CONFIG_DIR"] = sys.argv[1]
    from inception_studio.core import edits
    from inception_studio.core.presets import get_spec
    from inception_studio.gui.shared.autosave import AutosaveStore
    store = AutosaveStore()
    spec = edits.set_count(get_spec("inception_v4"), "inception_b", int(sys.argv[2]))
    store.write(json.dumps({"path": "", "spec": spec.to_dict()}))
    print(store.current, flush=True)
    time.sleep(120)
""")


def _other_instance(config_dir: Path, count: int) -> tuple[subprocess.Popen, Path]:
    """Another running app instance (its own process) with unsaved work autosaved."""
    proc = subprocess.Popen([sys.executable, "-c", _OTHER_INSTANCE, str(config_dir), str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    return proc, Path(proc.stdout.readline().strip())


def test_only_instances_that_are_gone_are_offered_and_restored(qtbot, make_window, config_dir):
    live, live_file = _other_instance(config_dir, 2)
    dead, dead_file = _other_instance(config_dir, 5)
    try:
        dead.send_signal(signal.SIGKILL)  # a crash: its lock stays behind, its process is gone
        dead.wait(10)
        win = make_window()
        assert win.session.pending_autosave() == dead_file  # never the live instance's
        assert win.action("restoreAutosaveAction").isEnabled()
        win.action("restoreAutosaveAction").trigger()
        assert win.document.spec.stage("inception_b").count == 5 and win.document.dirty
        assert not dead_file.exists() and live_file.exists()  # claimed by this instance, the live one untouched
        assert win.session.pending_autosave() is None
        win.session.discard_autosave(live_file)  # even asked to, it cannot take a live instance's file...
        assert live_file.exists() or live.poll() is not None  # ...unless that instance ended meanwhile
        assert win.session.write(config_dir / "saved.json")
        assert live_file.exists()  # saving here never deletes another instance's work
    finally:
        live.kill()
        live.wait(10)
        dead.kill()


def test_two_windows_and_two_documents_keep_separate_autosaves(qtbot, make_window, config_dir):
    first, second = make_window("googlenet"), make_window("inception_v3")
    first.findChild(QSpinBox, "num_classes").setValue(11)
    second.findChild(QSpinBox, "num_classes").setValue(22)
    assert first.session.autosave_now() and second.session.autosave_now()
    a, b = first.session.store.current, second.session.store.current
    assert a != b and json.loads(a.read_text())["spec"]["num_classes"] == 11
    assert json.loads(b.read_text())["spec"]["num_classes"] == 22
    assert first.session.pending_autosave() is None and second.session.pending_autosave() is None  # both alive
    assert second.session.write(config_dir / "two.json") and a.exists() and not b.exists()
    first.open_variant("nin")  # no dialogs: the googlenet work is kept in its own autosave
    first.findChild(QSpinBox, "num_classes").setValue(33)
    assert first.session.autosave_now()
    assert json.loads(a.read_text())["spec"]["num_classes"] == 11  # the first document's work, untouched
    assert json.loads(first.session.store.current.read_text())["spec"]["num_classes"] == 33
    first.session.close()  # this instance ends: both of its documents are offered to the next start
    third = make_window()
    offered = []
    while (p := third.session.pending_autosave()) is not None and len(offered) < 5:
        offered.append(json.loads(p.read_text())["spec"]["num_classes"])
        third.session.discard_autosave(p)
    assert sorted(offered) == [11, 33]


def test_autosave_store_claim_is_exclusive(tmp_path):
    orphan = tmp_path / "999999-dead.1.json"
    orphan.write_text("{}")
    one, two = AutosaveStore(tmp_path), AutosaveStore(tmp_path)
    assert one.orphans() == [orphan] == two.orphans()
    assert one.claim(orphan) is not None and two.claim(orphan) is None
    assert two.orphans() == []  # what one claimed is now a live instance's file


# ---- point 1: the Train panel's default output is a plain file name in the runs folder ---------------

def test_default_training_output_never_follows_a_spec_name_path(tmp_path):
    from inception_studio.paths import cache_dir as user_cache_dir
    from inception_studio.gui.train.panel import default_run_path

    for name in ("/etc/evil", "../../x/y"):
        out = Path(default_run_path(replace(get_spec("nin"), name=name)))
        assert out.parent == user_cache_dir() / "runs" and out.suffix == ".safetensors"
