"""Dropped file -> top-5 shown in the app, against a bare forward of the same model on the same thread.

The real window (Run panel installed, model built on the CPU; random weights classify in PyTorch, a
checkpoint's in onnxruntime, as the GUI runs them). Each photo is dropped on ``dropZone`` through real QDragEnterEvent / QDropEvent events,
and the clock runs from the drop to the moment the prediction list shows that file's top-5 and has
been painted (the app's ``answerShown``; the bench checks the list's paint count). Three ways to drop:
  - classified ahead (the app's default): the drag rests over the window for 100 ms before the release
    (a person's drag takes longer), and the work that drag-enter starts has decoded and classified the
    file by the drop, which is then answered from memory;
  - decoded ahead (Model -> Classify while dragging, off): the same hover, but only decoding runs ahead,
    and the drop pays the forward pass: this column is the GUI's own overhead on the forward;
  - no hover: enter and drop in the same instant: the drop pays the decoding and the forward.
Peers, measured in the same run:
  - forward: ``Predictor.forward`` of the prepared input, timed on the engine lane (the thread the
    app classifies on), batch 1;
  - fresh-thread forward: the same forward on a new thread each time, which is what a worker thread
    per drop cost (torch's OpenMP pool then stops spinning between ops; see gui/workers.py).
Target: drop -> shown overhead (drop->shown / forward - 1) <= 10%. The overhead is the median of each
round's ratio to the forward of the same round, which cancels the machine's slow drifts.

    python benchmarks/bench_gui_drop.py [--variants googlenet inception_v3] [--repeats 10]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INCEPTION_STUDIO_NO_DIALOGS", "1")
os.environ.setdefault("INCEPTION_STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="bench_gui_drop_"))

from bench_predict import SIZES, make_photo
from PySide6.QtCore import QEventLoop, QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from inception_studio.core.build import build_model
from inception_studio.core.weights import save_checkpoint
from inception_studio.gui.app import create_main_window
from inception_studio.gui.shared.workers import ENGINE_LANE, Worker

HOVER_S = 0.100


def _events(path: Path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return QDragEnterEvent(QPoint(5, 5), *args), QDropEvent(QPointF(5, 5), *args), mime


def _wait(cond, timeout: float = 120.0, signal=None) -> None:
    """Run the Qt event loop until ``cond()`` holds: checked when ``signal`` fires, else polled every 5 ms.

    A drop is timed with a signal, not polling: the GUI thread then idles in the event loop as in the
    app, instead of waking every millisecond and taking the GIL from the engine lane's forward pass.
    """
    loop, end = QEventLoop(), time.perf_counter() + timeout

    def check(*_args) -> None:
        if cond() or time.perf_counter() > end:
            loop.quit()
    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(5 if signal is None else int(timeout * 1000))
    if signal is not None:
        signal.connect(check)
    try:
        if not cond():
            loop.exec()
    finally:
        timer.stop()
        if signal is not None:
            signal.disconnect(check)
    if not cond():
        raise TimeoutError("the app did not answer in time")


def _idle(ctrl, seconds: float = 0.05) -> None:
    """Wait until the engine lane is idle (feature maps of the last drop included), then a little more."""
    _wait(lambda: not ctrl.busy())
    end = time.perf_counter() + seconds
    _wait(lambda: time.perf_counter() > end)


def drop_to_shown(window, path: Path, hover: float) -> float:
    """Seconds from the drop of ``path`` to its top-5 painted in the prediction list.

    The clock stops at ``answerShown``, which the app emits after it repainted the prediction list; the
    bench checks that the bars were painted by then, and that the list shows this file's top-5.
    """
    ctrl = window.panels.feature("inference")
    zone = ctrl.run.drop_zone
    done: list[float] = []
    paints: list[int] = []

    def shown(result) -> None:
        if result.name == path.name and not done:
            done.append(time.perf_counter())
            paints.append(ctrl.run.predictions.paint_count - before[0])
    ctrl.answerShown.connect(shown)
    try:
        enter, drop, _mime = _events(path)
        QApplication.sendEvent(zone, enter)
        if hover:
            end = time.perf_counter() + hover
            _wait(lambda: time.perf_counter() > end)
        started: list[float] = []
        before = [0]

        def release() -> None:  # from inside the running event loop, as a real drop arrives
            before[0] = ctrl.run.predictions.paint_count
            started.append(time.perf_counter())
            QApplication.sendEvent(zone, drop)
        QTimer.singleShot(0, release)
        _wait(lambda: bool(done), signal=ctrl.answerShown)
    finally:
        ctrl.answerShown.disconnect(shown)
    shown_list = ctrl.run.predictions
    assert paints[0] > 0, "the answer was announced before the list was painted"
    assert not shown_list.visibleRegion().isEmpty(), "the prediction list is scrolled out of view"
    _wait(lambda: not ctrl.busy("classify"))
    assert shown_list.rows() == ctrl.results[-1].top and ctrl.results[-1].name == path.name
    return done[0] - started[0]


def lane_forward(pred, x, fresh_thread: bool = False) -> float:
    """Seconds of one bare forward, run on the engine lane (or on a thread of its own)."""
    out: list[float] = []

    def job() -> None:
        t = time.perf_counter()
        pred.forward(x)
        out.append(time.perf_counter() - t)
    if fresh_thread:
        th = threading.Thread(target=job)
        th.start()
        th.join()
    else:
        w = Worker(job)
        finished = w.finished
        w.start(lane=ENGINE_LANE)
        _wait(lambda: bool(out), signal=finished)
    return out[0]


def main(argv: list[str] | None = None) -> int:
    """Print drop -> shown (hover / no hover) against the bare forward, per variant and photo size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["googlenet", "inception_v3"])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--weights", nargs="+", default=["random", "checkpoint"], choices=["random", "checkpoint"],
                    help="random init classifies in PyTorch; a checkpoint's weights in onnxruntime (the CPU default)")
    args = ap.parse_args(argv)
    print(f"drop on dropZone -> top-5 painted, CPU, batch 1, hover {HOVER_S * 1e3:.0f} ms, {args.repeats} interleaved "
          "runs; time: median; overhead: median of (drop / forward of the same round) - 1")
    print(f"{'variant':13} {'backend':12} {'photo':>10} {'forward':>8} | {'classified ahead':>17} | "
          f"{'decoded ahead':>17} | {'no hover':>17} | {'fresh-thread fwd':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        photos = [make_photo(Path(tmp) / f"photo_{w}x{h}.jpg", w, h) for w, h in SIZES]
        os.environ["INCEPTION_STUDIO_CACHE_DIR"] = tmp  # onnxruntime exports go here, not into the user's cache
        for variant, weights in [(v, w) for v in args.variants for w in args.weights]:
            window = create_main_window(variant, dialogs=False)
            window.resize(1400, 900)
            window.show()
            ctrl = window.panels.feature("inference")
            if weights == "checkpoint":
                path = Path(tmp) / f"{variant}.safetensors"
                save_checkpoint(path, window.document.spec, build_model(window.document.spec))
                ctrl.load_checkpoint(str(path))
            else:
                ctrl.build()
            _wait(lambda: ctrl.predictor is not None and not ctrl.busy())
            drop_to_shown(window, photos[0], 0.0)  # the first result brings the Run panel to the front, once
            for photo in photos:
                pred = ctrl.predictor
                x = pred._batch([photo])
                times: dict[str, list[float]] = {"forward": [], "ahead": [], "decoded": [], "cold": [], "fresh": []}
                for i in range(args.repeats + 2):  # two warm-up rounds
                    row = {}
                    _idle(ctrl)
                    row["forward"] = lane_forward(pred, x)
                    for mode, ahead, hover in (("ahead", True, HOVER_S), ("decoded", False, HOVER_S), ("cold", False, 0.0)):
                        ctrl.answer_ahead = ahead
                        _idle(ctrl)
                        pred.images.clear()  # nothing prepared or classified from the round before
                        row[mode] = drop_to_shown(window, photo, hover)
                    _idle(ctrl)
                    row["fresh"] = lane_forward(pred, x, fresh_thread=True)
                    if i >= 2:
                        for k, v in row.items():
                            times[k].append(v)
                ctrl.answer_ahead = True
                fwd = times["forward"]

                def col(mode: str) -> str:
                    over = statistics.median(d / f - 1 for d, f in zip(times[mode], fwd))
                    return f"{statistics.median(times[mode]) * 1e3:7.1f}ms {100 * over:+7.1f}%"
                w, h = SIZES[photos.index(photo)]
                print(f"{variant:13} {pred.backend:12} {f'{w}x{h}':>10} {statistics.median(fwd) * 1e3:6.1f}ms | "
                      f"{col('ahead')} | {col('decoded')} | {col('cold')} | {statistics.median(times['fresh']) * 1e3:14.1f}ms")
            window.close()
    Worker.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
