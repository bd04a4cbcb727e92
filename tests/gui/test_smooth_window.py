"""What keeps the window from stuttering while the engine works (issue 16): start-up objects out of the
collector's reach and the first jobs' imports done early, settings written once per event-loop turn, worker
threads at a lower CPU priority, a run's start cancelling the time estimate, plot grids that cost little to
paint, axes that keep their picture across a new run."""
from __future__ import annotations

import math
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from inception_studio.engine.data import make_demo_folder
from inception_studio.gui.shared import settings as st
from inception_studio.gui.shared.workers import ENGINE_LANE, Worker
from inception_studio.gui.train.plots import TrainingMonitor, _percentile99


def test_after_start_up_long_lived_objects_are_frozen_and_the_first_jobs_imports_are_done(config_dir, run_python):
    code = ("import gc, sys\n"
            "from inception_studio.gui.app import WARM_MODULES, ensure_app, show_main_window\n"
            "app = ensure_app(); w = show_main_window()\n"
            "def check():\n"
            "    loader = w.panels.feature('inferenceLoader')\n"
            "    if loader is None or loader.is_running() or not gc.get_freeze_count():\n"
            "        return\n"
            "    print(gc.get_freeze_count() > 100000, [m for m in WARM_MODULES if m not in sys.modules])\n"
            "    app.quit()\n"
            "from PySide6.QtCore import QTimer\n"
            "t = QTimer(); t.timeout.connect(check); t.start(50)\n"
            "QTimer.singleShot(90000, app.quit); app.exec()\n")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True []", out.stdout + out.stderr


def test_settings_are_written_from_the_event_loop_once_per_turn_and_at_exit(qapp, config_dir, run_python):
    ini = config_dir / "settings.ini"
    st.set_value("test/a", 1)
    st.set_value("test/b", "two")
    assert st.value("test/a") in (1, "1") and st.value("test/b") == "two"  # read back at once
    assert not ini.exists()  # not written inside the handler that changed them
    qapp.processEvents()  # Qt writes the file here, once for both
    text = ini.read_text()
    assert "a=1" in text and "b=two" in text
    # A process that stores a value and exits without another event-loop turn still has it on disk.
    code = ("from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
            "from inception_studio.gui.shared import settings as st; st.set_value('test/exit', 'kept')\n")
    out = run_python(code, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "exit=kept" in ini.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is a Linux feature")
@pytest.mark.parametrize("lane", [None, ENGINE_LANE])
def test_worker_threads_run_at_a_lower_cpu_priority_than_the_gui_thread(qtbot, lane):
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = Worker(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    with qtbot.waitSignal(worker.finished, timeout=20000) as got:
        worker.start(lane=lane)
    assert got.args[0] > gui
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui  # the GUI thread is untouched


def test_starting_a_run_cancels_the_time_estimate_and_its_rate_replaces_it(qtbot, make_train_panel, tmp_path):
    panel = make_train_panel(width=0.125, size=40)
    panel.data_view.load(str(make_demo_folder(tmp_path / "demo", per_class=8, size=40)))
    qtbot.waitUntil(lambda: panel.data_view.data is not None and not panel.data_view.busy(), timeout=20000)
    assistant = panel.assistant
    assistant._estimate()  # as the form's change timer does
    estimator = assistant._estimator
    assert estimator is not None and estimator.is_running()
    panel.form.epochs.setValue(1)  # (the change would estimate again; the run's start forbids it)
    assert panel.start()
    assert estimator.cancelled and panel.form.estimate.text() == ""
    assert not assistant._estimate_timer.isActive()
    with qtbot.waitSignal(panel.runFinished, timeout=120000):
        pass
    # the run's own rate is the estimate of its settings: no steps are timed in the window's process after it
    qtbot.waitUntil(lambda: "the last run's rate" in panel.form.estimate.text(), timeout=5000)
    qtbot.wait(800)  # past the estimate timer
    assert assistant._estimator is estimator and "the last run's rate" in panel.form.estimate.text()


def _grid_levels(plot, side: str) -> list[float]:
    vb = plot.getViewBox()
    lo, hi = vb.viewRange()[0 if side == "bottom" else 1]
    pixels = vb.size().width() if side == "bottom" else vb.size().height()
    return [float(v) for v in plot.getAxis(side).tickValues(lo, hi, pixels)[0][1]]


def test_plot_grids_are_drawn_at_the_axes_major_ticks_not_by_the_axes(qtbot):
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.resize(900, 600)
    monitor.show()
    monitor.set_length(120, 4)
    for step in range(1, 60):
        monitor.add_step(step, 2.0 / step + 0.2, 2.0 / step + 0.2, None, 1e-3)
    monitor.redraw_all()
    qtbot.wait(200)  # the staggered axis ranges
    for plot in (monitor.loss_plot, monitor.lr_plot, monitor.accuracy_plot):
        item = plot.getPlotItem()
        assert not item.getAxis("left").grid and not item.getAxis("bottom").grid  # thin axes, cheap to repaint
        path = plot.grid._path
        pairs = [(path.elementAt(i), path.elementAt(i + 1)) for i in range(0, path.elementCount(), 2)]
        ys = {round(a.y, 9) for a, b in pairs if a.y == b.y}
        xs = {round(a.x, 9) for a, b in pairs if a.x == b.x}
        assert ys == set(np.round(_grid_levels(item, "left"), 9)) and ys
        assert xs == set(np.round(_grid_levels(item, "bottom"), 9)) and xs
    assert monitor.loss_plot.getViewBox().viewRange()[0][1] >= 120  # the run's length


def test_a_new_run_keeps_the_axes_until_its_length_is_known(qtbot):
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.set_length(200, 5)
    qtbot.wait(150)
    before = monitor.loss_plot.getViewBox().viewRange()[0]
    monitor.reset()  # the next run starts: nothing to repaint until its StartEvent
    qtbot.wait(50)
    assert monitor.loss_plot.getViewBox().viewRange()[0] == before
    monitor.set_length(40, 2)
    qtbot.waitUntil(lambda: monitor.accuracy_plot.getViewBox().viewRange()[0][1] == pytest.approx(2.5), timeout=2000)
    assert monitor.loss_plot.getViewBox().viewRange()[0][1] == pytest.approx(40.8, rel=0.05)


def test_the_loss_axis_percentile_matches_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 17, 250):
        values = rng.lognormal(size=n)
        assert _percentile99(values) == pytest.approx(float(np.percentile(values, 99)), rel=1e-12)


def test_settings_file_is_the_one_in_the_config_dir(config_dir):
    assert Path(st.settings().fileName()) == config_dir / "settings.ini"


def test_a_warm_up_repaints_the_lr_axis_a_few_times_and_the_curve_stays_inside_it(qtbot):
    # One-cycle's warm-up raises the lr for a run's first quarter: an axis fitted to each new top was repainted
    # (~4 ms, its labels) at every tick of it.
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.set_length(400, 4)
    peak, spans = 5e-3, []
    for step in range(1, 401):
        warm = step <= 100  # a linear warm-up to the peak, then a cosine down
        lr = peak * (0.04 + 0.96 * step / 100) if warm else peak * 0.5 * (1 + math.cos(math.pi * (step - 100) / 300))
        monitor.add_step(step, 1.0, 1.0, None, lr)
        monitor._draw_lr()  # as a timer tick would, after every step
        top = monitor.lr_plot.getViewBox().viewRange()[1][1]
        assert max(monitor.lr) <= top  # the curve never leaves the plot
        spans.append(top)
    assert len(set(spans)) <= 7  # 25x up in doublings, not 100 new axes
    monitor.redraw_all()  # the run's end: the axis fits the schedule
    assert monitor.lr_plot.getViewBox().viewRange()[1] == pytest.approx([0.0, 1.1 * peak])


def test_while_steps_arrive_the_loss_is_redrawn_about_4_times_a_second_and_the_lr_once(qtbot):
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.set_length(1000, 4)
    drawn = {"loss": 0, "lr": 0}
    for name in drawn:
        real = getattr(monitor, f"_draw_{name}")

        def counted(real=real, name=name):
            drawn[name] += 1
            real()
        setattr(monitor, f"_draw_{name}", counted)
    from PySide6.QtCore import QTimer

    steps = iter(range(1, 1000))
    feed = QTimer(interval=60)  # a step every 60 ms, as a small model on the CPU
    feed.timeout.connect(lambda: monitor.add_step((s := next(steps)), 1.0 / s, 1.0 / s, None, 1e-3))
    feed.start()
    qtbot.wait(4000)
    feed.stop()
    assert 12 <= drawn["loss"] <= 18 and 3 <= drawn["lr"] <= 5, drawn  # each plot's repaint takes from training
    assert len(monitor.steps) >= 50
