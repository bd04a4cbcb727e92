"""Longest GUI event-loop gap during each long job, against the same window idle (measured in the same run).

An offscreen main window with every panel (the app as a user has it) runs, one after another:

- ``train-demo``: Demo data, then Train with the form as the Demo leaves it (auto recipe, "Small model
  for the CPU"), live plots, feature maps of block 3a every 10 steps, status bar; ends when the trained
  model is installed and the Run panel has prepared it (that is part of finishing a run);
- ``train-small``: the same at the small-model settings of the issue (x0.25, 96 px, batch 32, 8 epochs);
- ``build``: Model -> Build model (random weights) of the window's variant;
- ``classify``: a folder of demo images dropped on the window (from the Train workspace when it follows the
  training jobs: the drop opens Classify);
- ``features``: feature maps for a shown image, the graph selection moving over blocks;
- ``gradcam``: the same with Grad-CAM on;
- ``export``: File -> Export ONNX (trained weights, or random ones).

A QTimer firing every 10 ms records the gap between its ticks: how long the event loop could not run.
Each job prints its longest gap, p99, median and the number of gaps over 33 ms (two frames); the peer is
the idle window, recorded first. Target: longest gap < 33 ms in every job (goal 16 ms).

On Linux a job with gaps over 33 ms also prints where their time went, from the kernel's accounting of the
GUI thread (/proc/thread-self/schedstat, read at every tick): computing (the app's own work on that thread),
waiting for a core (runnable while other tasks had both cores), and the rest, asleep or blocked (the GIL, a
lock, the timer's own wait, or a virtual machine's core taken away by its host: "host steal", from
/proc/stat, for the whole machine, in 10 ms ticks). On a shared virtual machine the host can stop every core
for 50-100 ms at a time; those gaps show computing near 0 and steal near the gap.

``--diagnose FILE`` writes every thread's stack to FILE each time the event loop is held longer than
``--diagnose-ms`` (40 ms; faulthandler, no GIL needed), to see what held it. faulthandler reads the other
threads' stacks while they run, which on rare occasions crashes the process (a segmentation fault): the
figures to report come from a run without it.

    python benchmarks/bench_gui_stall.py [--jobs train-demo,build,...] [--variant googlenet]
"""
from __future__ import annotations

import argparse
import faulthandler
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INCEPTION_STUDIO_NO_DIALOGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INCEPTION_STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="stall-config-"))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from inception_studio.gui.app import ensure_app  # noqa: E402

JOBS = ("train-demo", "train-small", "build", "classify", "features", "gradcam", "export", "stop-pause")
FRAMES2 = 33.0  # ms: two frames at 60 Hz


class GapRecorder:
    """Ticks a 10 ms QTimer and keeps the gaps between ticks (ms)."""

    def __init__(self, interval_ms: int = 10, diagnose=None, diagnose_ms: float = 40.0):
        self.gaps: list[float] = []
        self.held: list[tuple[float, float, float, float]] = []  # per gap > 33 ms: see _sched
        self._diagnose_ms = diagnose_ms
        self.at: list[float] = []  # when each gap ended (ms since start)
        self._clock = QElapsedTimer()
        self._last = 0.0
        self._diagnose = diagnose
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Start recording (forgets earlier gaps)."""
        self.gaps, self.at, self.held = [], [], []
        self._clock.start()
        self._last = self._clock.nsecsElapsed() / 1e6
        self._sched_last = _sched()
        self.timer.start()
        self._arm()

    def stop(self) -> list[float]:
        """Stop recording and return the gaps (ms)."""
        self.timer.stop()
        if self._diagnose is not None:
            faulthandler.cancel_dump_traceback_later()
        return self.gaps

    def _arm(self) -> None:
        if self._diagnose is not None:
            faulthandler.dump_traceback_later(self._diagnose_ms / 1000, repeat=False, file=self._diagnose)

    def now(self) -> float:
        """Milliseconds since :meth:`start`."""
        return self._clock.nsecsElapsed() / 1e6

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        sched = _sched()
        if now - self._last > FRAMES2 and sched and self._sched_last:
            on_cpu, queued, steal = (b - a for a, b in zip(self._sched_last, sched))
            self.held.append((now - self._last, on_cpu, queued, steal))
        self._sched_last = sched
        self.gaps.append(now - self._last)
        self.at.append(now)
        if self._diagnose is not None and now - self._last > self._diagnose_ms:
            self._diagnose.write(f"GAP {now - self._last:.1f} ms ending at {now / 1000:.2f} s\n")
            self._diagnose.flush()
        self._last = now
        self._arm()


_TICK_MS = 1000.0 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def _sched() -> tuple[float, float, float] | None:
    """The GUI thread's time on a core and waiting for one, and the machine's stolen time (all ms, Linux
    /proc; None elsewhere). Read at each tick, so each long gap splits into: computing, waiting for a core
    (another runnable thread or process had it), and the rest (blocked: on a lock, the GIL, I/O)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            run_ns, wait_ns, _n = f.read().split()
        with open("/proc/stat") as f:
            steal = int(f.readline().split()[8])
    except (OSError, ValueError, IndexError):
        return None
    return int(run_ns) / 1e6, int(wait_ns) / 1e6, steal * _TICK_MS


def held_by(rec: GapRecorder) -> str:
    """Where the gaps over 33 ms went (sums over them): the GUI thread computing, waiting for a core,
    blocked; and the time the hypervisor stole from the machine's cores meanwhile."""
    if not rec.held:
        return ""
    gap, cpu, queued, steal = (sum(x) for x in zip(*rec.held))
    worst = max(rec.held)
    return (f"   gaps > 33 ms: {gap:.0f} ms in all: GUI thread computing {cpu:.0f} ms, waiting for a core "
            f"{queued:.0f} ms, asleep or blocked {max(0.0, gap - cpu - queued):.0f} ms; host steal {steal:.0f} ms "
            f"(longest {worst[0]:.0f} ms: computing {worst[1]:.0f}, waiting {worst[2]:.0f}, steal {worst[3]:.0f}); "
            f"most computing in one gap {max(h[1] for h in rec.held):.0f} ms")


def spin(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(cond, timeout_s: float = 600.0, step_ms: int = 20) -> None:
    """Run the event loop until ``cond()`` is true (or raise after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("the job did not finish in time")
        spin(step_ms)


def describe(name: str, gaps: list[float], seconds: float | None = None) -> str:
    """One line: longest, p99 and median gap and how many exceed two frames (33 ms)."""
    g = sorted(gaps) or [float("nan")]
    p99 = g[int(0.99 * (len(g) - 1))]
    over = sum(1 for x in gaps if x > FRAMES2)
    took = f"  {seconds:6.1f} s" if seconds is not None else ""
    return (f"{name:12} longest {max(g):6.1f} ms   p99 {p99:5.1f} ms   median {statistics.median(g):5.1f} ms   "
            f"{over:3d} gap(s) > 33 ms   ({len(gaps)} ticks){took}")


def process_state(pid: int) -> str:
    """The state letter of process ``pid`` (Linux /proc: R running, S sleeping, T stopped), "" if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def phases(rec: GapRecorder, ends: list[tuple[str, float]]) -> str:
    """Gaps over 33 ms per phase of a job (each phase ends at its time, ms since the recording started)."""
    counts = {name: [] for name, _ in ends}
    for gap, at in zip(rec.gaps, rec.at):
        if gap > FRAMES2:
            name = next(n for n, end in ends if at <= end or end == float("inf"))
            counts[name].append(gap)
    return "   gaps > 33 ms by phase: " + ", ".join(
        f"{n} {len(g)}" + (f" (max {max(g):.0f})" if g else "") for n, g in counts.items())


class Bench:
    """The window, its panels and the jobs (each returns when its job has finished and been shown)."""

    def __init__(self, args):
        from inception_studio.engine.data import make_demo_folder
        from inception_studio.gui.app import show_main_window

        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="stall-"))
        self.window = show_main_window(args.variant, dialogs=False)  # as the app starts: panels once torch is in
        self.window.resize(1280, 800)
        wait_for(lambda: self.window.panels.feature("inferenceLoader") is not None, 120)
        wait_for(lambda: not self.window.panels.feature("inferenceLoader").is_running(), 120)
        self.panel = self.window.panels.feature("training")
        self.ctrl = self.window.panels.feature("inference")
        self.images = make_demo_folder(self.tmp / "images", per_class=args.images // 4, size=96)
        spin(300)

    def idle(self) -> None:
        """Nothing runs: the peer."""
        spin(int(self.args.idle_seconds * 1000))

    def _load_demo(self) -> None:
        self.panel.data_view.load("demo")
        wait_for(lambda: self.panel.data_view.data is not None and not self.panel.data_view.busy(), 120)

    def _train(self) -> str:
        p = self.panel
        p.out.setText(str(Path(tempfile.mkdtemp(dir=self.tmp)) / "model.safetensors"))
        spec = self.window.document.spec
        self.window.document.select("b:" + spec.stages[1].blocks[0].name)  # live feature maps of 3a
        wait_for(lambda: not any(w.is_running() for w in p.assistant.busy()), 120)  # estimate, preview, lr finder
        spin(500)
        done = {"flag": False}
        marks: dict[str, float] = {}
        p.runFinished.connect(lambda _d: done.update(flag=True))

        def mark(ev) -> None:
            name = type(ev).__name__
            if name in ("StepEvent", "StoppedEvent") and name not in marks:
                marks[name] = self.rec.now()
        cfg = p.form.config()
        t0 = time.perf_counter()
        self.rec.start()
        p.start()
        p.worker.progress.connect(mark)
        wait_for(lambda: done["flag"])
        marks["finished"] = self.rec.now()
        wait_for(lambda: not self.ctrl.busy())  # the trained model prepared for classifying
        self.took = time.perf_counter() - t0
        self.phases = phases(self.rec, [("start", marks.get("StepEvent", 0.0)),
                                        ("steps", marks.get("StoppedEvent", marks["finished"])),
                                        ("finish", marks["finished"]), ("install", float("inf"))])
        return (f"{cfg.recipe} recipe, x{cfg.width_mult} at {cfg.image_size} px, batch {cfg.batch_size}, "
                f"{p.progress.value()} steps")

    def train_demo(self) -> str:
        """Demo data, then Train at the form's settings after the Demo (epochs capped by --demo-epochs)."""
        self._load_demo()
        self.panel.form.epochs.setValue(min(self.panel.form.epochs.value(), self.args.demo_epochs))
        return self._train()

    def train_small(self) -> str:
        """The small-model settings: x0.25, 96 px, batch 32, 8 epochs."""
        if self.panel.data_view.data is None:
            self._load_demo()
        f = self.panel.form
        f.small.setChecked(True)
        f.width.setValue(0.25)
        f.size.setValue(96)
        f.batch.setValue(32)
        f.epochs.setValue(self.args.epochs)
        return self._train()

    def stop_pause(self) -> str:
        """Pause, Resume (three times) and Stop pressed during a run at the demo's settings: how long until
        the run acts (a PausedEvent, the next step, the StoppedEvent) and until the panel is free again."""
        from inception_studio.engine import train as T

        if self.panel.data_view.data is None:
            self._load_demo()
        p = self.panel
        p.form.epochs.setValue(50)
        p.out.setText(str(Path(tempfile.mkdtemp(dir=self.tmp)) / "model.safetensors"))
        seen: list[tuple[float, object]] = []
        self.rec.start()
        p.start()
        p.worker.progress.connect(lambda ev: seen.append((time.perf_counter(), ev)))

        def after(t0: float, kind, cond=lambda ev: True) -> float:
            wait_for(lambda: any(t >= t0 and isinstance(ev, kind) and cond(ev) for t, ev in seen), 120, 2)
            return 1e3 * (next(t for t, ev in seen if t >= t0 and isinstance(ev, kind) and cond(ev)) - t0)
        wait_for(lambda: sum(isinstance(ev, T.StepEvent) for _t, ev in seen) >= 3, 300, 5)
        pauses, resumes, held = [], [], []
        pid = p.worker.pid
        for _ in range(3):
            spin(300)
            t0 = time.perf_counter()
            p.pause_button.click()
            after(t0, T.PausedEvent, lambda ev: ev.paused)
            wait_for(lambda: process_state(pid) == "T", 10, 1)  # frozen: it computes nothing more
            pauses.append(1e3 * (time.perf_counter() - t0))
            steps_then = sum(isinstance(ev, T.StepEvent) for _t, ev in seen)
            spin(500)
            held.append(sum(isinstance(ev, T.StepEvent) for _t, ev in seen) - steps_then)
            t0 = time.perf_counter()
            p.pause_button.click()
            resumes.append(after(t0, T.StepEvent))  # the next step arrives: the run goes on
        spin(300)
        done = {"t": 0.0}
        p.runFinished.connect(lambda _d: done.update(t=time.perf_counter()))
        steps = [t for t, ev in seen if isinstance(ev, T.StepEvent)]
        step_ms = 1e3 * statistics.median(b - a for a, b in zip(steps, steps[1:]))
        t0 = time.perf_counter()
        p.stop_button.click()
        stop = after(t0, T.StoppedEvent)
        wait_for(lambda: done["t"] > 0, 120)
        med = lambda xs: statistics.median(xs)  # noqa: E731
        return (f"paused (process frozen) {med(pauses):.0f} ms after the click (max {max(pauses):.0f}), "
                f"{sum(held)} step(s) arrived while paused; next step {med(resumes):.0f} ms after Resume; "
                f"StoppedEvent {stop:.0f} ms after Stop, runFinished after {1e3 * (done['t'] - t0):.0f} ms; "
                f"a step takes {step_ms:.0f} ms")

    def build(self) -> str:
        """Model -> Build model, random weights."""
        self.ctrl.use_random()
        self.rec.start()
        self.ctrl.build()
        wait_for(lambda: not self.ctrl.busy("build"))
        return f"{self.window.document.spec.name}: {self.ctrl.run.device_bar.status.text()[:70]}"

    def _ensure_model(self) -> None:
        if self.ctrl.predictor is None:
            self.ctrl.build()
            wait_for(lambda: self.ctrl.predictor is not None and not self.ctrl.busy())

    def classify(self) -> str:
        """A folder of images dropped on the window from the workspace it is in (a drop opens Classify)."""
        self._ensure_model()
        self.ctrl.clear()
        spin(200)
        was = self.window.workspaces.current
        self.rec.start()
        self.window.imagesDropped.emit([str(self.images)])
        wait_for(lambda: not self.ctrl.busy())
        return f"{len(self.ctrl.results)} images classified, dropped in {was.title()}"

    def _walk_blocks(self, cam: bool) -> str:
        self._ensure_model()
        if not self.ctrl.results:
            self.ctrl.add_sources([str(self.images)])
            wait_for(lambda: not self.ctrl.busy())
        self.ctrl.run.gradcam_toggle.setChecked(cam)
        wait_for(lambda: not self.ctrl.busy())
        spec = self.window.document.spec
        blocks = [f"b:{b.name}" for st in spec.stages for b in st.blocks][: self.args.nodes]
        shown = {"n": 0}
        self.ctrl.featuresShown.connect(lambda _v: shown.update(n=shown["n"] + 1))
        self.rec.start()
        for node in blocks:
            before = shown["n"]
            self.window.document.select(node)
            wait_for(lambda: shown["n"] > before and not self.ctrl.busy())
        self.ctrl.run.gradcam_toggle.setChecked(False)
        return f"{len(blocks)} selections, Grad-CAM {'on' if cam else 'off'}"

    def features(self) -> str:
        """Feature maps for the shown image as the selection moves over the blocks."""
        return self._walk_blocks(False)

    def gradcam(self) -> str:
        """The same with Grad-CAM."""
        return self._walk_blocks(True)

    def export(self) -> str:
        """File -> Export ONNX."""
        done = {"r": None}
        self.ctrl.exportFinished.connect(lambda r: done.update(r=r))
        self.rec.start()
        self.ctrl.export_onnx(str(self.tmp / "model.onnx"))
        wait_for(lambda: done["r"] is not None or not self.ctrl.busy())
        return str(done["r"].summary())[:80] if done["r"] is not None else "failed"


def main(argv: list[str] | None = None) -> int:
    """Run the idle peer, then each job, and print a line per job."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default=",".join(JOBS), help=f"comma-separated, from {', '.join(JOBS)}")
    ap.add_argument("--variant", default="googlenet")
    ap.add_argument("--epochs", type=int, default=8, help="train-small epochs")
    ap.add_argument("--demo-epochs", type=int, default=3, help="train-demo epochs at most")
    ap.add_argument("--images", type=int, default=64, help="images in the classified folder")
    ap.add_argument("--nodes", type=int, default=8, help="selections for the feature-map / Grad-CAM jobs")
    ap.add_argument("--idle-seconds", type=float, default=4.0)
    ap.add_argument("--diagnose", default="", help="file for thread stacks at each gap over --diagnose-ms")
    ap.add_argument("--diagnose-ms", type=float, default=40.0)
    args = ap.parse_args(argv)
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    unknown = set(jobs) - set(JOBS)
    if unknown:
        ap.error(f"unknown job(s): {', '.join(sorted(unknown))}")
    ensure_app()
    from inception_studio.gui.shared.workers import Worker, collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()  # as the app does (app.main)
    diagnose = open(args.diagnose, "w") if args.diagnose else None  # noqa: SIM115 - closed at the end
    bench = Bench(args)
    bench.rec = GapRecorder(diagnose=diagnose, diagnose_ms=args.diagnose_ms)
    bench.rec.start()
    bench.idle()
    lines = [describe("idle", bench.rec.stop(), args.idle_seconds)]
    print(lines[0], flush=True)
    for job in jobs:
        if diagnose is not None:
            diagnose.write(f"\n===== {job} =====\n")
            diagnose.flush()
        t0 = time.perf_counter()
        what = getattr(bench, job.replace("-", "_"))()
        gaps = bench.rec.stop()
        took = getattr(bench, "took", None) if job.startswith("train") else time.perf_counter() - t0
        lines.append(describe(job, gaps, took) + f"   [{what}]")
        extra = ([bench.phases] if job.startswith("train") else []) + [x for x in [held_by(bench.rec)] if x]
        lines += extra
        print("\n".join(lines[-1 - len(extra):]), flush=True)
        spin(500)
    print(f"\n{args.variant}, offscreen window 1280x800 with every panel; target: longest gap < 33 ms "
          "(goal 16 ms) in every job")
    for line in lines:
        print(line)
    bench.panel.shutdown()
    Worker.stop_all()
    if diagnose is not None:
        diagnose.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
