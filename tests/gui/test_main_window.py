"""The main window used as a person would: choose a variant, read the paper's table, inspect a
block, compare, save and reopen, autosave/restore, export a picture, remembered layout; plus the
background Worker other panels reuse."""
from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidget,
    QSpinBox,
    QTabBar,
    QTableView,
    QWidget,
)

from inception_studio.core.analysis import analyze, human
from inception_studio.core.presets import get_spec, list_variants
from inception_studio.core.spec import ArchSpec
from inception_studio.gui.shared import settings
from inception_studio.gui.graph.layout import run_key

OBJECT_NAMES = ("variantList", "graphView", "inspector", "blockEditor", "statsPanel", "blockTable", "undoButton")


def test_create_main_window_has_every_named_part(window, artifacts):
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    assert window.document.spec.name == "googlenet"
    avail = window.screen().availableGeometry()
    assert avail.contains(window.frameGeometry()), (avail, window.frameGeometry())  # within the screen
    assert window.width() >= 1200 and window.height() >= 760  # and uses most of a 1280x800 one
    assert "GoogLeNet" in window.windowTitle()
    window.grab().save(str(artifacts / "main_window_start.png"))


def test_variant_list_shows_every_preset_with_its_published_error(window):
    lst = window.findChild(QListWidget, "variantList")
    assert [lst.item(i).data(Qt.ItemDataRole.UserRole) for i in range(lst.count())] == list_variants()
    v4 = lst.item(list_variants().index("inception_v4"))
    assert v4.data(Qt.ItemDataRole.UserRole + 2) == "top-1 20% · top-5 5%"
    assert "uniform Inception-A/B/C" in v4.data(Qt.ItemDataRole.UserRole + 1)


def test_choosing_a_variant_loads_it_everywhere(qtbot, window, artifacts):
    lst = window.findChild(QListWidget, "variantList")
    item = lst.item(list_variants().index("inception_resnet_v2"))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(item).center())
    assert window.document.spec.name == "inception_resnet_v2"
    assert "Inception-ResNet-v2" in window.windowTitle() and not window.isWindowModified()
    assert run_key("b:block17_1") in window.graph_view.visible_ids()
    assert window.findChild(QSpinBox, "stage.inception_resnet_b.count").value() == 20
    expected = analyze(get_spec("inception_resnet_v2"))
    assert window.stats.values()["params"].startswith(f"{human(expected.params)}  ({expected.params:,})")
    window.graph_view.expand_all()
    window.grab().save(str(artifacts / "main_window_irv2_expanded.png"))


def test_googlenet_table_1_in_the_block_table(qtbot, make_window, artifacts):
    win = make_window("googlenet_paper")
    table = win.findChild(QTableView, "blockTable")
    rows = table.rows()
    header, body = rows[0], {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert header[5:11] == ["#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj"]
    table1 = {  # GoogLeNet Table 1: output size and the six width columns
        "inception (3a)": ("28x28x256", "64", "96", "128", "16", "32", "32"),
        "inception (3b)": ("28x28x480", "128", "128", "192", "32", "96", "64"),
        "inception (4a)": ("14x14x512", "192", "96", "208", "16", "48", "64"),
        "inception (4b)": ("14x14x512", "160", "112", "224", "24", "64", "64"),
        "inception (4c)": ("14x14x512", "128", "128", "256", "24", "64", "64"),
        "inception (4d)": ("14x14x528", "112", "144", "288", "32", "64", "64"),
        "inception (4e)": ("14x14x832", "256", "160", "320", "32", "128", "128"),
        "inception (5a)": ("7x7x832", "256", "160", "320", "32", "128", "128"),
        "inception (5b)": ("7x7x1024", "384", "192", "384", "48", "128", "128"),
    }
    for name, (out, *cols) in table1.items():
        row = body[name]
        assert row["output size"] == out and [row[c] for c in header[5:11]] == cols, name
    assert body["inception (3a)"]["params"].endswith("K") and body["inception (3a)"]["ops"] == "128.05M"
    types = [r[1] for r in rows[1:]]
    assert types[:4] == ["conv", "max pool", "conv", "max pool"]
    assert [r[2] for r in rows[1:4]] == ["7x7/2", "3x3/2", "3x3/1"]
    assert (rows[3][6], rows[3][7]) == ("64", "192")  # conv 3x3 with its 1x1 reduce, as Table 1
    assert ["avg pool", "dropout (40%)", "linear", "softmax"] == types[types.index("avg pool"):types.index("softmax") + 1]
    assert body["avg pool"]["patch size/stride"] == "7x7/1" and body["linear"]["output size"] == "1x1x1000"
    md = table.to_markdown()
    assert md.splitlines()[0].startswith("| # | type | patch size/stride | output size | depth | #1x1 |")
    assert "| inception (4e) |" in md
    csv_text = table.to_csv()
    assert csv_text.count("\n") == len(rows)
    table.copy_markdown()
    assert QGuiApplication.clipboard().text() == md
    from inception_studio.gui.spec.block_table import BlockTable

    full = BlockTable(win.document)  # the whole table in one picture, as the paper prints it
    qtbot.addWidget(full)
    full.resize(1120, 24 * len(rows) + 30)
    full.show()
    full.grab().save(str(artifacts / "googlenet_table1.png"))


def test_table_sorts_and_selects_the_block(qtbot, make_window):
    win = make_window("googlenet_paper")
    table = win.table
    col = table.source.columns.index("params")
    table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert table.rows()[1][1].startswith("aux classifier")  # the biggest rows first
    idx = next(table.proxy.index(r, 1) for r in range(table.proxy.rowCount()) if table.proxy.index(r, 1).data() == "inception (4a)")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(idx).center())
    assert win.document.selection == "b:inception4a"
    assert win.graph_view.item_for("b:inception4a").selected


def test_inspector_shows_paper_columns_for_a_selected_block(qtbot, make_window):
    win = make_window("googlenet_paper")
    view = win.graph_view
    view.center_on_node("b:inception4a")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(view.scene_point("b:inception4a")))
    text = win.inspector.text()
    assert "4a" in text and "14x14x512" in text
    for col, v in (("#1x1", "192"), ("#3x3 reduce", "96"), ("#5x5", "48"), ("pool proj", "64")):
        assert col in text and v in text
    assert "params" in text and "multiply-adds" in text and "stages.inception_4.inception4a" in text
    win.document.select("")
    assert "Szegedy et al. 2014" in win.inspector.text() and "top-5 10.07%" in win.inspector.text()


def test_stats_totals_memory_and_stage_shares(qtbot, make_window):
    win = make_window("inception_v4")
    vals, expected = win.stats.values(), analyze(get_spec("inception_v4"))
    assert f"({expected.params:,})" in vals["params"] and f"({expected.macs:,})" in vals["macs"]
    assert "batch 32" in vals["mem_train"]
    shares = win.stats.shares()
    assert [s[0] for s in shares] == [st.label for st in win.document.spec.stages]
    assert sum(s[1] for s in shares) == pytest.approx(100.0) and sum(s[2] for s in shares) == pytest.approx(100.0)
    win.stats.batch.setValue(8)
    assert "batch 8" in win.stats.values()["mem_train"]
    chart = win.stats.ensure_chart()
    assert chart.objectName() == "statsChart" and len(win.stats._bars) == 2


def test_inception_v4_to_2_4_2_with_narrow_b_compare_and_save(qtbot, make_window, tmp_path, artifacts):
    """The issue's acceptance story: a person edits Inception-v4, sees what it saves, saves it."""
    win = make_window("inception_v4")
    for stage, n in (("inception_a", 2), ("inception_b", 4), ("inception_c", 2)):
        win.findChild(QSpinBox, f"stage.{stage}.count").setValue(n)
    win.document.select("b:inception_b1")
    for j, k in ((0, 0), (1, 2), (2, 4), (3, 1)):
        spin = win.findChild(QSpinBox, f"stage.inception_b.block.*.branch.{j}.op.{k}.width")
        spin.setValue(spin.value() // 2)
    win.show_compare()
    assert win.panels.dock("compare").isVisible()
    d = win.compare.diff
    params = {w: (a, b) for w, a, b in d.totals}
    assert params["params"][0] < params["params"][1] and params["multiply-adds"][0] < params["multiply-adds"][1]
    summary = win.findChild(QLabel, "compareSummary").text()
    assert "params −" in summary and "Inception-v4" in summary
    stages = {s.name: s for s in d.stages}
    assert (stages["inception_b"].count_a, stages["inception_b"].count_b) == (4, 7)
    assert stages["reduction_a"].params_a == stages["reduction_a"].params_b
    assert run_key("b:inception_b1") in win.graph_view.marked("diff")  # narrower B blocks, in A's graph
    assert "b:reduction_a" not in win.graph_view.marked("diff")
    assert win.compare.graph_b.marked("diff") >= {run_key("b:inception_b1"), run_key("b:inception_c1")}
    qtbot.waitUntil(lambda: any(b.isVisible() and {"Block Table", "Compare"} <= {b.tabText(i) for i in range(b.count())}
                                for b in win.findChildren(QTabBar)))  # Compare sits in a tab beside the table
    win.grab().save(str(artifacts / "compare_v4_242_vs_preset.png"))
    path = tmp_path / "v4_242.json"
    assert win.session.save_as(path)
    assert not win.isWindowModified() and path.name in win.windowTitle()
    saved = ArchSpec.from_json(path.read_text())
    assert [saved.stage(s).count for s in ("inception_a", "inception_b", "inception_c")] == [2, 4, 2]
    assert saved == win.document.spec


def test_compare_inception_v4_with_inception_resnet_v2(qtbot, make_window):
    win = make_window("inception_v4")
    win.show_compare()
    win.compare.compare_with_preset("inception_resnet_v2")
    d = win.compare.diff
    assert d.totals[0][1:] == (analyze(get_spec("inception_v4")).params, analyze(get_spec("inception_resnet_v2")).params)
    assert len(d.blocks_b) > 20 and win.compare.graph_b.graph.spec.name == "inception_resnet_v2"
    assert win.graph_view.marked("diff")
    win.panels.dock("table").raise_()  # the compare tab goes behind the table
    qtbot.waitUntil(lambda: not win.graph_view.marked("diff"))  # highlights go with the panel


def test_save_reopen_recent_and_drop(qtbot, make_window, tmp_path):
    win = make_window("googlenet_paper")
    win.findChild(QSpinBox, "num_classes").setValue(10)
    path = tmp_path / "g10.json"
    assert win.session.save_as(path)
    assert str(path.resolve()) in settings.recent_files()
    win.open_variant("nin")
    assert win.document.spec.name == "nin"
    assert win.open_file(path)
    assert win.document.spec.num_classes == 10 and win.document.path == str(path.resolve())
    win.open_variant("nin")
    dropped = []
    win.imagesDropped.connect(dropped.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)), QUrl.fromLocalFile("/x/cat.jpg")])
    event = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)  # as a file manager drop lands
    assert win.document.spec.num_classes == 10 and dropped == [["/x/cat.jpg"]]


def test_opening_a_bad_file_reports_one_line_and_keeps_the_spec(make_window, tmp_path):
    win = make_window("inception_v3")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "name": "x"}')
    assert not win.open_file(bad)
    msg = win.statusBar().currentMessage()
    assert msg.startswith("bad.json:") and "\n" not in msg
    assert win.document.spec.name == "inception_v3"
    (tmp_path / "junk.json").write_text("not json")
    assert not win.open_file(tmp_path / "junk.json")
    assert "junk.json" in win.statusBar().currentMessage()


def test_unsaved_changes_prompt_on_close(qtbot, make_window):
    win = make_window("googlenet", dialogs=True)
    win.findChild(QSpinBox, "num_classes").setValue(7)
    asked = []
    win.session.ask_unsaved = lambda: asked.append(1) or "cancel"
    win.close()
    assert asked and win.isVisible()  # cancel keeps the window and the work
    win.session.ask_unsaved = lambda: "discard"
    win.close()
    assert not win.isVisible()


def test_autosave_and_restore_on_next_start(qtbot, make_window, config_dir):
    win = make_window("inception_v4")
    win.findChild(QSpinBox, "stage.inception_b.count").setValue(3)
    assert win.session.autosave_now()
    data = json.loads(win.session.store.current.read_text())
    assert (data["spec"]["name"], data["spec"]["based_on"]) == ("inception_v4_edited", "inception_v4")
    win.session.close()  # as after a crash: the instance is gone, its autosave is still there
    second = make_window()
    assert second.action("restoreAutosaveAction").isEnabled()
    assert "Restore Autosaved Spec" in second.statusBar().currentMessage()
    second.action("restoreAutosaveAction").trigger()
    assert second.document.spec.stage("inception_b").count == 3 and second.document.dirty
    second.document.undo_stack.undo()
    assert second.document.spec == get_spec("inception_v4")  # undo goes back to the preset
    second.document.undo_stack.redo()
    assert second.session.write(config_dir / "saved.json")
    assert list((config_dir / "autosave").glob("*.json")) == []  # saved work needs no autosave


def test_export_graph_picture(make_window, tmp_path):
    win = make_window("inception_v3")
    assert win.export_graph("png", tmp_path / "v3.png") and win.export_graph("svg", tmp_path / "v3.svg")
    assert QImage(str(tmp_path / "v3.png")).width() > 300
    assert "Mixed_6a" in "".join(ET.parse(tmp_path / "v3.svg").getroot().itertext())
    assert "Exported" in win.statusBar().currentMessage()


def test_layout_and_orientation_are_remembered(qtbot, make_window):
    win = make_window("googlenet")
    win.set_orientation("LR")
    dock = win.findChild(QDockWidget, "historyDock")
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    win.close()
    again = make_window("googlenet")
    assert again.graph_view.orientation == "LR" and again.action("layoutLRAction").isChecked()
    assert again.dockWidgetArea(again.findChild(QDockWidget, "historyDock")) == Qt.DockWidgetArea.RightDockWidgetArea
    panel = QLabel("late panel")
    late = again.panels.add("late", panel, "Late", "explore")  # a panel added after start-up shows at once
    assert late.widget() is panel and again.panels.widget("late") is panel and late.isVisible()
    assert again.dockWidgetArea(again.findChild(QDockWidget, "historyDock")) == Qt.DockWidgetArea.RightDockWidgetArea


def test_search_box_finds_and_reports_misses(qtbot, make_window):
    win = make_window("inception_v3")
    qtbot.keyClicks(win.search, "Mixed_6c")
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    assert win.document.selection == "b:Mixed_6c"
    win.search.setText("zzz")
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    assert "zzz" in win.statusBar().currentMessage()


# ---- the Worker other panels reuse ------------------------------------------------------------

def _count(n, should_stop=None):
    for i in range(n):
        if should_stop and should_stop():
            return f"stopped at {i}"
        time.sleep(0.002)
        yield i
    return "done"


def test_worker_runs_a_generator_off_the_gui_thread(qtbot):
    from inception_studio.gui.shared.workers import Worker

    seen, threads = [], []
    w = Worker(_count, 5)
    w.progress.connect(lambda e: (seen.append(e), threads.append(threading.current_thread())))
    with qtbot.waitSignal(w.finished, timeout=5000) as blocker:
        w.start()
    assert blocker.args == ["done"] and seen == [0, 1, 2, 3, 4]
    assert all(t is threading.main_thread() for t in threads)  # delivered on the GUI thread


def test_worker_cancel_and_failure(qtbot):
    from inception_studio.errors import DataError
    from inception_studio.gui.shared.workers import Worker

    w = Worker(_count, 10_000)
    seen = []
    w.progress.connect(lambda e: (seen.append(e), w.cancel() if e == 3 else None))
    with qtbot.waitSignal(w.finished, timeout=5000) as blocker:
        w.start()
    result = blocker.args[0]
    # stopped either by the generator reading should_stop, or by the worker closing it between yields
    assert w.cancelled and (result is None or result.startswith("stopped at"))
    assert 3 in seen and len(seen) < 1000

    def bad():
        raise DataError("data/: no class folders with images")

    f = Worker(bad)
    with qtbot.waitSignal(f.failed, timeout=5000) as blocker:
        f.start()
    assert blocker.args == ["data/: no class folders with images"]


MAIN_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from inception_studio.gui.app import ensure_app, main
from inception_studio.gui.main_window import MainWindow
ensure_app()  # the timer below needs the application's event dispatcher
shown = []
def close_all():
    for w in QApplication.topLevelWidgets():
        if isinstance(w, MainWindow) and w.isVisible():
            shown.append(w.document.spec.name)
            w.close()
    QApplication.instance().quit()
QTimer.singleShot(300, close_all)
code = main(sys.argv[1:])
print(code, shown)
"""


@pytest.mark.parametrize("args, expected", [(["inception_v3"], "0 ['inception_v3']"), (["no_such_variant"], "2 []")])
def test_main_runs_the_event_loop_until_quit(config_dir, run_python, args, expected):
    # In a process of its own: once a QApplication's exec() has returned, Qt stops delivering
    # queued cross-thread signals in that process, which would break every later test.
    out = run_python(MAIN_SCRIPT, *args)
    assert out.stdout.strip().splitlines()[-1] == expected, out.stderr
    if args == ["no_such_variant"]:
        assert "unknown variant 'no_such_variant'" in out.stderr  # one line on stderr, no window


def test_gui_start_up_shows_the_window_before_torch_then_adds_run_and_train(config_dir, run_python):
    code = ("import sys; from PySide6.QtWidgets import QApplication, QPushButton\n"
            "from inception_studio.gui.app import ensure_app, show_main_window\n"
            "app = ensure_app(); w = show_main_window(); print(w.isVisible(), 'torch' in sys.modules)\n"
            "w.panelsReady.connect(app.quit); app.exec()\n"
            "print(w.findChild(QPushButton, 'trainButton') is not None, w.findChild(object, 'dropZone') is not None)")
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True", "True"]
