"""The Train panel drives short runs: plots receive points, pause / stop work, the trained model is installed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inception_studio.engine import train as T
from inception_studio.engine.data import make_demo_folder
from inception_studio.gui.train.install import install
from inception_studio.gui.train.panel import TrainingPanel


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """16 images per class at 40 px, plus one unreadable file the scan must skip."""
    root = make_demo_folder(tmp_path_factory.mktemp("gui_demo"), per_class=16, size=40)
    (root / "circle" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    return root


@pytest.fixture
def panel(make_train_panel):
    p = make_train_panel(width=0.125, size=48)
    p.form.batch.setValue(8)
    p.form.epochs.setValue(2)
    return p


def load(qtbot, panel: TrainingPanel, source: str, epochs: int = 2, batch: int = 8) -> None:
    """Load data (the auto recipe then fills the form), then set the short run these tests want."""
    panel.data_view.load(source)
    qtbot.waitUntil(lambda: panel.data_view.data is not None and not panel.data_view.busy(), timeout=20000)
    panel.form.epochs.setValue(epochs)
    panel.form.batch.setValue(batch)


def test_dataset_summary_lists_classes_thumbnails_and_skipped_files(qtbot, panel, demo, artifacts):
    assert "Choose the data" in panel.status.text()
    load(qtbot, panel, str(demo))
    assert "press Train" in panel.status.text() and "Choose" not in panel.status.text()  # the next step, not the first
    view = panel.data_view
    table = view.findChild(type(view.table), "classTable")
    assert table.rowCount() == 4
    assert [table.item(i, 0).text() for i in range(4)] == ["circle", "square", "stripes", "triangle"]
    assert table.item(0, 2).data(Qt.ItemDataRole.DecorationRole) is not None  # sample thumbnails
    assert "52 training / 12 validation" in view.summary.text() and "1 skipped" in view.summary.text()
    assert view.skipped.isVisibleTo(view) and view.skipped.count() == 1
    assert "corrupt.png" in view.skipped.item(0).text()
    panel.grab().save(str(artifacts / "training_panel_data.png"))


def test_a_bad_folder_is_reported_inline(qtbot, panel, tmp_path):
    panel.data_view.load(str(tmp_path / "nowhere"))
    qtbot.waitUntil(lambda: panel.data_view.error.isVisibleTo(panel.data_view), timeout=10000)
    text = panel.data_view.error.text()
    assert "nowhere" in text and "not found" in text and "\n" not in text


def test_train_without_data_says_what_to_do(qtbot, panel):
    qtbot.mouseClick(panel.findChild(type(panel.train_button), "trainButton"), Qt.MouseButton.LeftButton)
    assert not panel.running()
    assert panel.error.isVisibleTo(panel) and "Choose the training data" in panel.error.text()


def test_a_short_run_fills_the_plots_maps_and_confusion_and_installs_the_model(qtbot, panel, demo, artifacts):
    load(qtbot, panel, str(demo))
    doc = panel.document
    doc.select("b:" + doc.spec.stages[1].blocks[0].name)  # watch inception 3a's maps form
    with qtbot.waitSignal(panel.runFinished, timeout=90000) as finished:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        assert panel.running() and not panel.train_button.isEnabled() and panel.stop_button.isEnabled()
    done = finished.args[0]
    assert isinstance(done, T.DoneEvent)
    start = next(e for e in panel.events if isinstance(e, T.StartEvent))
    mon = panel.monitor
    counts = mon.point_counts()
    assert counts["loss"] == counts["lr"] == start.total_steps == panel.progress.value()
    assert counts["aux"] == start.total_steps  # GoogLeNet's aux heads: main and aux losses apart
    assert counts["val_loss"] == counts["accuracy"] == 2
    maps = [e for e in panel.events if isinstance(e, T.FeatureMapEvent)]
    assert maps and maps[-1].node_module == f"stages.{doc.spec.stages[1].name}.{doc.spec.stages[1].blocks[0].name}"
    assert mon._maps_item.image is not None and "3a" in mon.maps_title.text()
    table = mon.findChild(type(mon.confusion), "confusionMatrix")
    assert table.rowCount() == 4
    shown = np.array([[int(table.item(i, j).text()) for j in range(4)] for i in range(4)])
    assert np.array_equal(shown, done.confusion) and shown.sum() == start.val_count
    model = doc.model
    assert model is not None and model.class_names == ["circle", "square", "stripes", "triangle"]
    assert model.model is done.model and model.spec.num_classes == 4 and "model.safetensors" in model.source
    assert Path(panel.out.text()).is_file() and T.best_path(panel.out.text()).is_file()
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    mon.grab().save(str(artifacts / "training_monitor.png"))
    panel.grab().save(str(artifacts / "training_panel_done.png"))


def test_pause_holds_the_run_and_stop_keeps_the_weights(qtbot, panel, demo):
    load(qtbot, panel, str(demo))
    panel.form.epochs.setValue(50)
    panel.start()
    qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=60000)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(e, T.PausedEvent) and e.paused for e in panel.events), timeout=20000)
    held = panel.progress.value()
    steps_seen = len(panel.monitor.steps)
    assert held == panel.monitor.steps[-1]  # the bar shows the last step done
    qtbot.wait(400)
    assert panel.progress.value() == held and len(panel.monitor.steps) == steps_seen
    assert "paused" in panel.status.text()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)  # resume
    qtbot.waitUntil(lambda: panel.progress.value() > held, timeout=20000)
    with qtbot.waitSignal(panel.runFinished, timeout=60000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    stopped = next(e for e in panel.events if isinstance(e, T.StoppedEvent))
    assert stopped.reason == "stopped"
    state = T.load_resume(panel.out.text())
    assert state.step >= held + 1 and state.optimizer is not None
    assert panel.document.model is not None and panel.document.model.model is panel.done.model


def test_install_adds_docks_and_a_train_menu(qtbot, make_window, artifacts):
    window = make_window("googlenet", dialogs=False)
    panel = install(window)
    assert window.findChild(type(panel), "trainingPanel") is panel
    docks = {d.objectName() for d in window.findChildren(type(window.findChild(object, "trainingDock")))}
    assert {"trainingDock", "trainingMonitorDock"} <= docks
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Train" in menus
    for name in ("lossPlot", "accuracyPlot", "confusionMatrix", "datasetPath", "trainButton", "stopButton"):
        assert window.findChild(object, name) is not None, name
    window.workspaces.switch("train")
    assert window.findChild(object, "trainingMonitorDock").isVisible() and window.action("startTrainingAction")
    qtbot.wait(50)
    window.grab().save(str(artifacts / "training_window.png"))
    panel.shutdown()


def test_demo_data_gets_the_auto_recipe_with_its_reason(qtbot, panel, tmp_path, monkeypatch):
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    qtbot.mouseClick(panel.data_view.demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.data_view.data is not None and not panel.data_view.busy(), timeout=60000)
    assert panel.data_view.data.classes == ["circle", "square", "stripes", "triangle"]
    cfg = panel.form.config()
    assert (cfg.recipe, cfg.optimizer, cfg.schedule, cfg.crop_scale) == ("auto", "adamw", "onecycle", (0.5, 1.0))
    note = panel.form.recipe_note.text()
    assert note.startswith("Auto: 192 images at 64 px, 4 classes") and "AdamW one-cycle" in note
    assert (cfg.width_mult, cfg.image_size) == (0.125, 48)  # the user's sizing is kept
    panel.form.recipe.setCurrentIndex(panel.form.recipe.findData("googlenet"))  # the papers' stay available
    assert panel.form.config().optimizer == "sgd" and "GoogLeNet" in panel.form.recipe_note.text()
    panel.form.recipe.setCurrentIndex(panel.form.recipe.findData("auto"))
    assert panel.form.config().optimizer == "adamw" and panel.form.recipe_note.text() == note


def test_resume_continues_a_stopped_run_from_its_checkpoint(qtbot, panel, demo):
    load(qtbot, panel, str(demo))
    panel.form.epochs.setValue(3)
    panel.form.set_config(T.recipe_defaults("inception_v3", epochs=3, batch_size=8), sizing=False)
    stop_at = 4

    def on_step(ev):
        if isinstance(ev, T.StepEvent) and ev.step >= stop_at:
            panel.stop()
    panel.start()
    panel.worker.progress.connect(on_step)
    qtbot.waitUntil(lambda: not panel.running(), timeout=60000)
    first = next(e for e in panel.events if isinstance(e, T.StoppedEvent))
    assert first.reason == "stopped"
    saved = T.load_resume(panel.out.text()).step
    with qtbot.waitSignal(panel.runFinished, timeout=60000):
        panel.resume_from(panel.out.text())
    start = next(e for e in panel.events if isinstance(e, T.StartEvent))
    assert (start.init, start.start_step) == ("resume", saved)
    assert panel.form.optimizer.currentText() == "rmsprop"  # the run's own recipe came back with it
    assert next(e for e in panel.events if isinstance(e, T.StoppedEvent)).reason == "finished"
    assert panel.progress.value() == start.total_steps


def test_the_panel_remembers_its_data_and_settings_after_a_restart(qtbot, make_train_panel, demo):
    first = make_train_panel(width=0.25, size=64)
    load(qtbot, first, str(demo))
    first.form.set_recipe("adamw")
    first.form.epochs.setValue(7)
    first.form.lr.setValue(0.0123)
    first.form.seed.setValue(7)
    first.form.channels_last.setChecked(False)
    first.shutdown()  # what quitting the app does

    again = make_train_panel(width=0.25, size=64)  # a new panel (the next start) reads them back
    qtbot.waitUntil(lambda: again.data_view.data is not None and not again.data_view.busy(), timeout=20000)
    assert again.data_view.path.text() == str(demo) and list(again.data_view.data.classes) == ["circle", "square",
                                                                                                "stripes", "triangle"]
    cfg = again.form.config()
    assert (cfg.recipe, cfg.epochs) == ("adamw", 7)
    assert cfg.lr == pytest.approx(0.0123)
    assert (cfg.seed, cfg.channels_last) == (7, False)  # the run's own switches, not the recipe's defaults


def test_a_restart_keeps_the_workspace_while_the_remembered_data_loads(qtbot, make_window, demo):
    from inception_studio.gui.shared import settings as st
    from inception_studio.gui.train.remember import remember

    remember(str(demo), T.TrainConfig(recipe="auto", epochs=3, seed=7))  # the last session trained on it...
    st.set_value("workspace/current", "classify")  # ...and ended in Classify
    win = make_window("googlenet", dialogs=False)
    panel = install(win)
    qtbot.waitUntil(lambda: panel.data_view.data is not None and not panel.data_view.busy(), timeout=20000)
    qtbot.wait(100)
    assert win.workspaces.current == "classify" and panel.data_view.from_memory
    assert panel.form.seed.value() == 7  # the auto recipe chosen again for the data keeps the user's seed
    panel.data_view.load(str(demo))  # data the user chooses opens Train
    qtbot.waitUntil(lambda: win.workspaces.current == "train", timeout=20000)
    panel.shutdown()


def test_a_remembered_folder_that_is_gone_is_left_out_quietly(qtbot, make_train_panel, tmp_path):
    from inception_studio.gui.train.remember import remember, restore
    from inception_studio.engine import train as T

    remember(str(tmp_path / "deleted"), T.TrainConfig(recipe="auto", epochs=3))
    p = make_train_panel()
    assert restore(p.form, p.data_view) is None
    assert p.data_view.data is None and not p.data_view.busy() and not p.error.isVisible()
    assert p.form.recipe.currentData() == "auto"


def test_choosing_data_twice_quickly_shows_the_second_choice(qtbot, make_train_panel, demo, tmp_path):
    p = make_train_panel()
    other = make_demo_folder(tmp_path / "other", per_class=6, size=32)
    p.data_view.load(str(demo))
    p.data_view.load(str(other))  # while the first scan runs
    qtbot.waitUntil(lambda: p.data_view.data is not None and not p.data_view.busy(), timeout=30000)
    assert p.data_view.data.root == str(other) and p.data_view.path.text() == str(other)


def test_a_narrow_confusion_matrix_still_shows_each_class_accuracy_whole(qtbot):
    from inception_studio.gui.train.confusion import ConfusionTable

    table = ConfusionTable()
    qtbot.addWidget(table)
    table.resize(220, 200)  # about the side tab of a 1280-px window
    table.show()
    table.show_matrix(np.array([[10, 0, 0, 2], [1, 11, 0, 0], [0, 0, 12, 0], [0, 1, 0, 11]]),
                      ["circle", "square", "stripes", "triangle"], [10 / 12, 11 / 12, 1.0, 11 / 12])
    qtbot.waitUntil(lambda: table.columnWidth(4) > 0)
    assert table.item(2, 4).text() == "100%"
    assert table.columnWidth(4) >= table.sizeHintForColumn(4)  # what "100%" needs, margins too: not "10..."
    assert min(table.columnWidth(j) for j in range(4)) >= 36  # the counts share what is left
