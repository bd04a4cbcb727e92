"""Longest GUI event-loop stall while training, against the same window idle.

An offscreen main window with the Train panel trains a small model on the demo data (live plots,
feature maps of a selected block every 10 steps, status bar). A QTimer firing every 10 ms records
the gap between its ticks; a gap is how long the event loop could not run. As the peer, the same
timer first runs for a few seconds with the window idle. Target: longest gap while training < 50 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INCEPTION_STUDIO_NO_DIALOGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tempfile  # noqa: E402

os.environ.setdefault("INCEPTION_STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="stall-config-"))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from inception_studio.gui.app import ensure_app  # noqa: E402


class GapRecorder:
    """Ticks a 10 ms QTimer and keeps the gaps between ticks (ms)."""

    def __init__(self, interval_ms: int = 10):
        self.gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Start recording (forgets earlier gaps)."""
        self.gaps = []
        self._clock.start()
        self._last = self._clock.nsecsElapsed() / 1e6
        self.timer.start()

    def stop(self) -> list[float]:
        """Stop recording and return the gaps (ms)."""
        self.timer.stop()
        return self.gaps

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self._last)
        self._last = now


def spin(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def describe(name: str, gaps: list[float]) -> str:
    """One line: longest, p99 and median gap and how many exceed 50 ms."""
    g = sorted(gaps)
    p99 = g[int(0.99 * (len(g) - 1))] if g else float("nan")
    over = sum(1 for x in gaps if x > 50)
    return (f"{name:9} longest gap {max(g):6.1f} ms   p99 {p99:5.1f} ms   median {statistics.median(g):5.1f} ms   "
            f"{over} gap(s) > 50 ms   ({len(g)} ticks)")


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print both numbers and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--width-mult", type=float, default=0.25)
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--idle-seconds", type=float, default=4.0)
    args = ap.parse_args(argv)
    ensure_app()
    from inception_studio.gui.app import create_main_window
    from inception_studio.gui.training import install

    window = create_main_window("googlenet", dialogs=False)
    panel = install(window)
    window.show()
    spin(300)
    panel.data_view.load("demo")
    deadline = time.monotonic() + 120
    while (panel.data_view.data is None or panel.data_view.busy()) and time.monotonic() < deadline:
        spin(50)
    panel.form.small.setChecked(True)
    panel.form.width.setValue(args.width_mult)
    panel.form.size.setValue(args.image_size)
    panel.form.batch.setValue(args.batch_size)
    panel.form.epochs.setValue(args.epochs)
    panel.out.setText(str(Path(tempfile.mkdtemp(prefix="stall-run-")) / "model.safetensors"))
    spec = window.document.spec
    window.document.select("b:" + spec.stages[1].blocks[0].name)  # live feature maps of 3a
    while panel._estimator is not None and panel._estimator.is_running():
        spin(50)
    spin(1000)  # let the settings' time estimate finish before measuring

    rec = GapRecorder()
    rec.start()  # the peer: the same window, idle, for a few seconds before the run
    spin(int(args.idle_seconds * 1000))
    idle = rec.stop()
    done = {"flag": False}
    panel.runFinished.connect(lambda _d: done.update(flag=True))
    t0 = time.perf_counter()
    rec.start()
    panel.start()
    while not done["flag"]:
        spin(20)
    training = rec.stop()
    seconds = time.perf_counter() - t0
    steps = panel.progress.value()
    panel.shutdown()
    print(f"googlenet x{args.width_mult} at {args.image_size} px, batch {args.batch_size}: {steps} steps in "
          f"{seconds:.1f} s on a worker thread, offscreen window with live plots and feature maps")
    print(describe("idle", idle))
    print(describe("training", training))
    print(f"ratio longest gap training/idle: {max(training) / max(idle):.2f}   "
          f"(target: longest gap while training < 50 ms)")
    from inception_studio.gui.workers import Worker
    Worker.stop_all()  # e.g. the epoch-time estimate, still running when the run ends
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
