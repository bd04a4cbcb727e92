"""A training run lives in a child process: killing it mid-run (as an out-of-memory kill would) leaves the
window, the document and the checkpoints saved so far, and says what happened in one line."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from inception_studio.engine import train as T
from tests.gui.test_process_worker import gone
from tests.gui.test_training_panel import demo, load, panel  # noqa: F401 - fixtures


def test_killing_the_training_process_mid_run_is_a_message_and_nothing_is_lost(qtbot, panel, demo):  # noqa: F811
    load(qtbot, panel, str(demo))
    panel.form.epochs.setValue(50)
    spec_before, model_before = panel.document.spec, panel.document.model
    finished: list = []
    panel.runFinished.connect(finished.append)
    assert panel.start()
    qtbot.waitUntil(lambda: any(isinstance(e, T.CheckpointEvent) for e in panel.events), timeout=120000)
    steps = len(panel.monitor.steps)
    pid = panel.worker.pid
    assert pid is not None and pid != os.getpid()  # the run is not in this process
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    assert finished == [None] and not panel.running()
    text = panel.error.text()
    assert panel.error.isVisibleTo(panel) and "\n" not in text
    assert "training process was killed" in text and "out of memory" in text and "Resume" in text
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    assert len(panel.monitor.steps) >= steps and panel.events  # the plots and events so far stay
    assert Path(panel.out.text()).is_file() and T.load_resume(panel.out.text()).step > 0  # the checkpoint stays
    assert panel.document.spec is spec_before and panel.document.model is model_before
    qtbot.waitUntil(lambda: gone(pid), timeout=30000)
