"""The Train panel's helpers: the lr finder's curve and applied suggestion, the hint for a run that is not
learning, the augmentation preview following the settings, the loss plot's log axis and spike-proof scale."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from inception_studio.engine import train as T
from inception_studio.engine.data import make_demo_folder
from inception_studio.gui.train.plots import TrainingMonitor, loss_range, spike_steps


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return make_demo_folder(tmp_path_factory.mktemp("assist_demo"), per_class=12, size=40)


@pytest.fixture
def panel(qtbot, make_train_panel, demo):
    p = make_train_panel(width=0.125, size=40)
    p.data_view.load(str(demo))
    qtbot.waitUntil(lambda: p.data_view.data is not None and not p.data_view.busy(), timeout=20000)
    p.form.batch.setValue(8)
    return p


def test_lr_finder_draws_its_curve_and_applies_the_suggestion(qtbot, panel, artifacts):
    panel.form.lr.setValue(0.5)
    panel.form.find_lr.click()
    assert not panel.form.find_lr.isEnabled()
    qtbot.waitUntil(lambda: panel.lr_view.suggestion is not None, timeout=120000)
    view = panel.lr_view
    assert panel.monitor.side.currentWidget() is view
    xs, ys = view.curve.getData()
    assert len(xs) >= 10 and np.all(np.isfinite(ys))
    assert view.marker.isVisible() and math.isclose(10 ** view.marker.value(), view.suggestion, rel_tol=1e-6)
    # applied as the spin box holds it: rounded to its decimals (6), e.g. 0.00031165 -> 0.000312
    assert panel.form.lr.value() == pytest.approx(round(view.suggestion, panel.form.lr.decimals()), abs=1e-12)
    assert "Suggested learning rate" in view.title.text()
    qtbot.waitUntil(lambda: panel.form.find_lr.isEnabled(), timeout=5000)
    panel.monitor.grab().save(str(artifacts / "training_lr_finder.png"))


def test_a_diverging_run_shows_a_hint_in_the_panel_and_above_the_loss(qtbot, panel, artifacts):
    panel.form.schedule.setCurrentText("constant")
    panel.form.lr.setValue(10.0)
    panel.form.epochs.setValue(3)
    with qtbot.waitSignal(panel.runFinished, timeout=120000):
        panel.start()
    hints = [e for e in panel.events if isinstance(e, T.HintEvent)]
    assert hints, [type(e).__name__ for e in panel.events]
    assert panel.hint.isVisibleTo(panel) and "learning rate" in panel.hint.text()
    assert panel.monitor.hint.isVisibleTo(panel.monitor) and hints[0].message in panel.monitor.hint.text()
    panel.grab().save(str(artifacts / "training_hint_panel.png"))


def test_augmentation_preview_follows_the_settings(qtbot, panel, artifacts):
    preview = panel.preview
    qtbot.waitUntil(lambda: len(preview.samples) == 8, timeout=30000)
    first = [img.copy() for img, _ in preview.samples]
    assert first[0].shape == (40, 40, 3) and "40 px" in preview.title.text()
    assert sorted({name for _, name in preview.samples}) == ["circle", "square", "stripes", "triangle"]
    panel.form.crop_min.setValue(0.1)
    qtbot.waitUntil(lambda: "crops ≥ 10%" in preview.title.text(), timeout=30000)
    assert any(not np.array_equal(a, img) for a, (img, _) in zip(first, preview.samples))
    panel.grab().save(str(artifacts / "training_augment_preview.png"))


def test_start_from_and_what_trains_reach_the_run(qtbot, panel):
    form = panel.form
    assert not form.init.model().item(1).isEnabled()  # no current model yet
    assert form.init.model().item(2).isEnabled()  # googlenet has released weights
    form.part.setCurrentIndex(form.part.findData("last"))
    assert form.stages.isVisibleTo(form)
    form.stages.setValue(2)
    cfg = form.config()
    assert (cfg.train_part, cfg.train_stages) == ("last", 2)


def test_loss_axis_has_a_log_option_and_ignores_the_first_spike(qtbot):
    mon = TrainingMonitor()
    qtbot.addWidget(mon)
    mon.add_step(1, 50.0, 50.0, None, 0.1)
    for s in range(2, 60):
        mon.add_step(s, 2.0 - s / 100, 2.0 - s / 100, None, 0.1)
    mon.redraw_all()
    lo, hi = mon.loss_plot.getViewBox().viewRange()[1]
    assert hi < 5  # the step-1 spike of 50 does not flatten the curve
    mon.log_loss.setChecked(True)
    assert mon.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert spike_steps(100) == 5
    assert loss_range([50, 1, 2, 3], skip=1) == (0.0, pytest.approx(np.percentile([1, 2, 3], 99) * 1.05))


def test_an_existing_checkpoint_is_not_replaced_by_a_new_run(qtbot, panel, tmp_path):
    out = tmp_path / "run" / "model.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"a trained model")
    assert panel.start() is False
    assert "already exists" in panel.error.text() and "Resume" in panel.error.text()
    assert out.read_bytes() == b"a trained model" and not panel.running()


def test_scrolling_the_form_never_changes_a_setting(qtbot, panel):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    size = panel.form.size
    before = size.value()
    centre = QPointF(size.rect().center())
    wheel = QWheelEvent(centre, QPointF(size.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(size, wheel)
    assert size.value() == before  # the wheel went to the panel's scroll area
    size.setFocus()
    qtbot.waitUntil(size.hasFocus, timeout=2000)
    QApplication.sendEvent(size, wheel)
    assert size.value() != before  # once focused, the wheel steps the value


def test_an_edit_of_the_spec_keeps_the_users_recipe_changes(qtbot, panel):
    panel.form.lr.setValue(0.0123)
    panel.form.epochs.setValue(7)
    assert panel.document.apply_path("stage.inception_4.count", 3)  # an edit of the same network
    qtbot.wait(500)
    assert (panel.form.lr.value(), panel.form.epochs.value()) == (0.0123, 7)
