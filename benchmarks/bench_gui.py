"""GUI responsiveness: each figure against its target (measured/target) and against the bare core
call it wraps, measured in the same run (so the GUI's own overhead shows as a ratio).

1. Edit -> graph, stats, table, editor and inspector updated, on inception_resnet_v2 (target 30 ms with
   the graph collapsed, 50 ms fully expanded; issue 16), then each panel's own share of it.
   Peer: edits.apply_edit + analyze + build_graph alone.
2. Build and lay out the fully expanded inception_resnet_v2 graph and paint it once (target 500 ms).
   Peer: build_graph + graph_layout.layout_graph alone.
3. Start-up: a new Python process to the first shown main window (target 2 s).
   Peers: a process that imports the core and analyses the default variant; a bare Qt window.
   Also checks that starting the GUI never imports torch.

    python benchmarks/bench_gui.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else os.environ.get("QT_QPA_PLATFORM", ""))
os.environ.setdefault("INCEPTION_STUDIO_NO_DIALOGS", "1")
if not os.environ.get("INCEPTION_STUDIO_CONFIG_DIR"):
    import tempfile

    os.environ["INCEPTION_STUDIO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="bench_gui_")  # never the user's settings

from _util import interleaved

TARGETS = {"edit": 0.100, "collapsed": 0.030, "fully": 0.050, "expand": 0.500, "startup": 2.0}

STARTUP_GUI = """
import sys, time
from inception_studio.gui.app import ensure_app, show_main_window
from PySide6.QtWidgets import QApplication
ensure_app()
w = show_main_window()  # what the app does: window first, Run/Train panels once torch has loaded
QApplication.processEvents()
print("SHOWN", "torch" in sys.modules, flush=True)
"""
STARTUP_CORE = """
from inception_studio.core.presets import get_spec
from inception_studio.core.analysis import analyze
from inception_studio.core.graph import build_graph
s = get_spec("googlenet"); analyze(s); build_graph(s)
print("SHOWN", False, flush=True)
"""
STARTUP_QT = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([]); w = QMainWindow(); w.resize(1400, 900); w.show(); app.processEvents()
print("SHOWN", False, flush=True)
"""


def line(name: str, measured: float, target: float | None, peer_name: str, peer: float) -> None:
    """One result: measured vs target and vs the same-run peer."""
    tgt = f", target {target * 1e3:.0f} ms, measured/target = {measured / target:.2f}" if target else ""
    print(f"{name}: {measured * 1e3:.1f} ms{tgt}; peer {peer_name} {peer * 1e3:.1f} ms, "
          f"GUI/peer = {measured / peer:.1f}x")


def bench_edit(repeats: int) -> None:
    from PySide6.QtWidgets import QApplication

    from inception_studio.core import edits
    from inception_studio.core.analysis import analyze
    from inception_studio.core.graph import build_graph
    from inception_studio.gui.app import create_main_window

    win = create_main_window("inception_resnet_v2")
    win.show()

    QApplication.processEvents()
    doc = win.document
    win.document.select("b:block17_1")  # the editor shows a block section too
    win.panels.dock("stats").raise_()  # the statistics tab in front: its chart is redrawn on every edit
    win.stats.ensure_chart()
    path = "stage.inception_resnet_b.count"

    def gui_edit() -> None:
        n = 19 if doc.spec.stage("inception_resnet_b").count == 20 else 20
        assert doc.apply_path(path, n) and doc.spec.stage("inception_resnet_b").count == n
        # graph, stats, table, editor and inspector are updated when apply returns; then paint them
        QApplication.processEvents()

    def core_edit() -> None:
        n = 19 if doc.spec.stage("inception_resnet_b").count == 20 else 20
        s = edits.apply_edit(doc.spec, path, n)
        analyze(s)
        build_graph(s)

    for label, expand in (("collapsed graph", False), ("fully expanded graph", True)):
        if expand:
            win.graph_view.expand_all()
        t = interleaved({"gui": gui_edit, "core": core_edit}, repeats=repeats)
        cpu = interleaved({"gui": gui_edit, "core": core_edit}, repeats=repeats, clock=time.thread_time)
        line(f"edit -> all panels updated (inception_resnet_v2, {label})", t["gui"], TARGETS[label.split()[0]],
             "apply_edit+analyze+build_graph", t["core"])
        print(f"   the same in CPU time of the GUI thread (what other processes on the machine cannot inflate): "
              f"{cpu['gui'] * 1e3:.1f} ms, peer {cpu['core'] * 1e3:.1f} ms")
        print("   each panel's share (CPU ms, its reaction to the edit then its repaint; a hidden panel waits): "
              + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in panel_costs(win, path, repeats).items()))
    win.close()


def panel_costs(win, path: str, repeats: int) -> dict[str, float]:
    """What each panel's reaction to an edit costs on its own, in CPU time of the GUI thread (other
    processes on the machine do not count): the document changes with its signals blocked, then that
    panel alone reacts as its specChanged slot does (a hidden panel defers its work: ~0) and repaints."""
    import statistics

    from PySide6.QtWidgets import QApplication

    doc = win.document
    why, table, editor = win.panels.widget("why"), win.panels.widget("table"), win.panels.widget("editor")
    panels = {
        "graph": (win.graph_view.viewport(), win.graph_view._follow),
        "editor": (editor, lambda: (editor.clear_errors(), editor._update())),
        "inspector": (win.inspector, win.inspector._update),
        "ideas": (win.inspector.ideas, win.inspector.ideas._update),
        "stats": (win.stats, win.stats.refresh),
        "table": (table.viewport(), table._update),
        "why": (why, why._changed),
        "compare": (win.panels.widget("compare"), lambda: win.panels.widget("compare")._on_spec()),
        "title": (win.totals_label, lambda: (win._refresh_title(), win._show_variant())),
    }

    def toggle() -> None:
        n = 19 if doc.spec.stage("inception_resnet_b").count == 20 else 20
        doc.blockSignals(True)
        try:
            doc.apply_path(path, n)
        finally:
            doc.blockSignals(False)

    out = {}
    for name, (widget, update) in panels.items():
        times = []
        for i in range(max(5, repeats // 2) + 2):
            toggle()
            t = time.thread_time()
            update()
            widget.repaint()
            if i >= 2:
                times.append(time.thread_time() - t)
        out[name] = statistics.median(times)
        QApplication.processEvents()  # deferred work (hidden panels) does not pile up into the next panel
    return out


def bench_expand(repeats: int) -> None:
    from PySide6.QtWidgets import QApplication

    from inception_studio.core.graph import build_graph
    from inception_studio.core.presets import get_spec
    from inception_studio.gui.shared.document import SpecDocument
    from inception_studio.gui.graph.layout import all_expandable, layout_graph
    from inception_studio.gui.graph.view import GraphView

    spec = get_spec("inception_resnet_v2")
    view = GraphView(SpecDocument(spec))
    view.resize(1000, 800)
    view.show()
    QApplication.processEvents()

    def gui() -> None:
        view._cache.clear()  # no cached layout: a cold build, lay out, populate and paint
        view.collapse_all()
        t0 = time.perf_counter()
        view.expand_all()
        view.viewport().repaint()
        gui.took = time.perf_counter() - t0

    def core() -> None:
        g = build_graph(spec)
        layout_graph(g, all_expandable(g))

    times_gui, times_core = [], []
    for _ in range(repeats):
        gui()
        times_gui.append(gui.took)
        t0 = time.perf_counter()
        core()
        times_core.append(time.perf_counter() - t0)
    times_gui.sort()
    times_core.sort()
    line(f"expand all -> laid out and painted (inception_resnet_v2, {len(view.visible_ids())} nodes)",
         times_gui[len(times_gui) // 2], TARGETS["expand"], "build_graph+layout_graph", times_core[len(times_core) // 2])
    view.close()


def _spawn(code: str) -> tuple[float, bool]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL, env=os.environ.copy())
    torch_loaded = False
    for out in proc.stdout:
        if out.startswith("SHOWN"):
            elapsed = time.perf_counter() - t0
            torch_loaded = out.split()[1] == "True"
            break
    else:
        raise RuntimeError("start-up probe did not report")
    proc.wait()
    return elapsed, torch_loaded


def bench_startup(repeats: int) -> None:
    n = max(3, repeats // 3)
    gui, core, qt, torch_seen = [], [], [], False
    for _ in range(n):  # interleaved so that load elsewhere hits each alike
        t, torch_loaded = _spawn(STARTUP_GUI)
        gui.append(t)
        torch_seen |= torch_loaded
        core.append(_spawn(STARTUP_CORE)[0])
        qt.append(_spawn(STARTUP_QT)[0])
    med = lambda xs: sorted(xs)[len(xs) // 2]
    line("start-up -> first shown main window (new process)", med(gui), TARGETS["startup"],
         "core import+analyze", med(core))
    line("start-up, same figure against a bare Qt window", med(gui), None, "bare QMainWindow", med(qt))
    print(f"torch imported during GUI start-up: {torch_seen}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", choices=("edit", "expand", "startup"), help="one part only")
    args = ap.parse_args()
    from inception_studio.gui.app import ensure_app

    ensure_app()
    if args.only in (None, "edit"):
        bench_edit(args.repeats)
    if args.only in (None, "expand"):
        bench_expand(max(5, args.repeats // 2))
    if args.only in (None, "startup"):
        bench_startup(args.repeats)


if __name__ == "__main__":
    main()
