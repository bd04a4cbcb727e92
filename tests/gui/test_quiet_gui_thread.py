"""Work kept off the GUI thread's frames (issue 16): a workspace switch lays out only the panels it shows,
Fusion's dock icons are made once, the autosave writes on a thread of its own and only what changed, the
time estimate is not measured again for the same inputs, and the painter's thread pool is off."""
from __future__ import annotations

import json
import os
import threading
from collections import Counter

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QSpinBox, QStyle

from inception_studio.engine.data import make_demo_folder


class _Resizes(QObject):
    """Counts the resize events that widgets inside ``root`` receive while ``on``."""

    def __init__(self, root) -> None:
        super().__init__()
        self.root, self.on, self.seen = root, False, Counter()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if (self.on and event.type() == QEvent.Type.Resize and event.oldSize() != event.size()
                and obj.isWidgetType() and self.root.isAncestorOf(obj)):
            self.seen[type(obj).__name__] += 1
        return False


def test_a_workspace_switch_does_not_lay_out_the_panels_it_hides(qtbot, make_window):
    win = make_window("googlenet", panels=True)
    qtbot.waitUntil(lambda: win.panels.get("training") is not None and win.panels.get("run") is not None,
                    timeout=60000)
    ws = win.workspaces
    for key in ("train", "classify", "train", "classify"):  # each workspace's layout saved once
        ws.switch(key)
        qtbot.wait(50)
    training = win.panels.get("training").dock
    size = training.widget().size()
    counter = _Resizes(training)
    QApplication.instance().installEventFilter(counter)
    try:
        counter.on = True
        for key in ("train", "classify", "train", "classify"):
            ws.switch(key)
            qtbot.wait(100)
        counter.on = False
    finally:
        QApplication.instance().removeEventFilter(counter)
    # the Train panel's form (dozens of widgets) is not relaid out when Classify hides it, nor when Train shows it
    assert not counter.seen, counter.seen
    assert training.widget().size() == size


def test_dock_title_icons_are_made_once(qapp):
    from inception_studio.gui.shared.theme import apply_theme

    apply_theme("light")  # as the app starts
    style = qapp.style()
    first = style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
    again = style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
    assert not first.isNull() and first.cacheKey() == again.cacheKey()
    assert style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton).cacheKey() != first.cacheKey()


def test_the_autosave_timer_writes_changes_once_on_a_thread_of_its_own(qtbot, make_window, monkeypatch):
    win = make_window("inception_v4")
    session = win.session
    session.timer.stop()
    writers: list[str] = []
    real = session.store.write

    def write(text, path=None):
        writers.append(threading.current_thread().name)
        real(text, path)
    monkeypatch.setattr(session.store, "write", write)
    win.findChild(QSpinBox, "stage.inception_b.count").setValue(3)
    session._autosave_later()  # the timer's tick
    qtbot.waitUntil(lambda: session.store.current.exists(), timeout=5000)
    session._wait_for_writer()
    assert writers == ["autosave"]  # not the GUI thread
    first = json.loads(session.store.current.read_text())
    assert first["spec"]["name"] == "inception_v4_edited"
    session._autosave_later()  # nothing changed since: nothing written
    session._wait_for_writer()
    assert writers == ["autosave"]
    win.findChild(QSpinBox, "stage.inception_b.count").setValue(4)
    session._autosave_later()
    session._wait_for_writer()
    assert len(writers) == 2 and json.loads(session.store.current.read_text()) != first
    assert session.autosave_now() and writers[-1] == threading.current_thread().name  # at close: at once
    session.document.undo_stack.setClean()  # as after a save: the autosave goes
    assert not session.store.current.exists()


def test_the_time_estimate_is_timed_in_a_child_process_and_not_again_for_the_same_inputs(qtbot, make_train_panel,
                                                                                          tmp_path):
    from inception_studio.gui.shared.process_worker import ProcessWorker

    panel = make_train_panel(width=0.125, size=40)
    panel.data_view.load(str(make_demo_folder(tmp_path / "demo", per_class=8, size=40)))
    qtbot.waitUntil(lambda: panel.data_view.data is not None and not panel.data_view.busy(), timeout=20000)
    a = panel.assistant
    qtbot.waitUntil(lambda: a._estimator is not None, timeout=10000)
    first = a._estimator
    assert isinstance(first, ProcessWorker) and first.pid != os.getpid()  # not a thread of the window's process
    qtbot.waitUntil(lambda: "per epoch" in panel.form.estimate.text() and not first.is_running(), timeout=60000)
    shown = panel.form.estimate.text()
    a._estimate()  # a run ended, say: same spec, recipe and data
    assert a._estimator is first and panel.form.estimate.text() == shown
    panel.form.batch.setValue(panel.form.batch.value() // 2)  # another recipe: measured again
    a._estimate_timer.stop()
    a._estimate()
    assert a._estimator is not first
    qtbot.waitUntil(lambda: not a._estimator.is_running(), timeout=60000)
    assert "per epoch" in panel.form.estimate.text() and panel.form.estimate.text() != shown


def test_the_painters_thread_pool_is_off(run_python):
    code = ("import os\nfrom inception_studio.gui.app import ensure_app\nensure_app()\n"
            "print(os.environ.get('QT_NO_GUI_THREADPOOL'))\n")
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    out = run_python(code, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_a_run_started_elsewhere_opens_train_a_frame_after_its_start(qtbot, make_window):
    win = make_window("googlenet", panels=True)
    qtbot.waitUntil(lambda: win.panels.feature("training") is not None, timeout=60000)
    win.workspaces.switch("classify")
    win.panels.feature("training").runStarted.emit()  # what start() emits once the run is on its way
    assert win.workspaces.current == "classify"  # not inside the start's own frame...
    qtbot.waitUntil(lambda: win.workspaces.current == "train", timeout=2000)  # ...but right after it
    win.workspaces.switch("classify")
    win.action("startTrainingAction").trigger()  # no data: nothing starts, Train shows why at once
    assert win.workspaces.current == "train"


def test_images_dropped_in_another_workspace_are_classified_a_frame_after_classify_opens(qtbot, make_window,
                                                                                         tmp_path):
    win = make_window("googlenet", panels=True)
    qtbot.waitUntil(lambda: win.panels.feature("inference") is not None, timeout=60000)
    ctrl = win.panels.feature("inference")
    folder = make_demo_folder(tmp_path / "images", per_class=1, size=48)
    win.workspaces.switch("train")
    win.imagesDropped.emit([str(folder)])
    assert win.workspaces.current == "classify" and ctrl.busy() and not ctrl.busy("classify")
    qtbot.waitUntil(lambda: not ctrl.busy() and len(ctrl.results) == 4, timeout=60000)
