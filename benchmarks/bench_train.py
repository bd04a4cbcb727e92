"""Training throughput of our engine (engine.train) against a bare hand-written torch loop.

Same spec, same initial weights, same data (demo shapes through the same ImageDataset, transform and
DataLoader settings), same optimizer class and device. Both include data loading; the timed window
skips the first steps (warm-up) and ends before the epoch does (no validation inside it). Runs are
interleaved in rounds (bare, ours, ...; each round starting one contender later) and the medians compared.
Target: ours / bare >= 0.95.

``--window`` adds a third contender: the app's own run, in its training process, with the main window
open on the Train workspace, live plots and the feature maps of block 3a every 10 steps (steps timed as
their events reach the window). Its ratio to the same bare loop is the one a user of the app gets.

The bare loop keeps activations in the memory order the engine picks for the device (channels-last on the
CPU and CUDA: engine.device.use_channels_last), so the ratios measure the loop, not the layout.
``--layouts`` adds the bare loop in plain NCHW order, to show what channels-last itself buys.

The app's training process keeps the memory a step frees (engine.allocator); the bench's own process, where
the bare loop runs, has the C library's defaults, as a user's script would. To compare the loops under the
same allocator, put engine.allocator.CHILD_ENV in the environment (the child then keeps those). Besides the
medians, the bench prints the median of the per-round ratios (each round's contenders ran back to back,
so load from other processes mostly cancels in them).

    python benchmarks/bench_train.py [--variant googlenet] [--window] [--layouts] [--rounds 7]
"""
from __future__ import annotations

import argparse
import math
import os
from dataclasses import replace
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from inception_studio.core.blocks import ModelOutput  # noqa: E402
from inception_studio.core.build import build_model  # noqa: E402
from inception_studio.core.presets import get_spec  # noqa: E402
from inception_studio.engine import data as D  # noqa: E402
from inception_studio.engine import train as T  # noqa: E402
from inception_studio.engine.allocator import CHILD_ENV, child_env  # noqa: E402
from inception_studio.engine.device import resolve_device  # noqa: E402
from inception_studio.engine.training.setup import run_channels_last  # noqa: E402


def ours(cfg: T.TrainConfig, spec, data: T.TrainData, warm: int, steps: int) -> float:
    """Images/s of engine.train over steps warm+1 .. warm+steps."""
    stamps: dict[int, float] = {}
    for ev in T.train(cfg, spec, data):
        if isinstance(ev, T.StepEvent):
            stamps[ev.step] = time.perf_counter()
    return steps * cfg.batch_size / (stamps[warm + steps] - stamps[warm])


def bare(cfg: T.TrainConfig, spec, data: T.TrainData, warm: int, steps: int, layout: str = "engine") -> float:
    """Images/s of the plainest correct loop: load, forward, loss (+aux), backward, step. ``layout`` "engine"
    stores activations as the engine does on this device, "nchw" always in plain NCHW order."""
    device = resolve_device(cfg.device)
    fmt = torch.channels_last if layout == "engine" and run_channels_last(cfg, device) else torch.contiguous_format
    torch.manual_seed(cfg.seed)
    model = build_model(spec).to(device).to(memory_format=fmt).train()
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    crit = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    weights = [a.loss_weight for a in spec.active_aux]
    pre = D.Preprocess(spec.input_size, spec.crop_pct, spec.mean, spec.std, spec.interpolation, spec.in_channels)
    ds = D.ImageDataset(data.train, pre.train_transform(cfg.augment, cfg.crop_scale, cfg.flip, cfg.color_jitter))
    loader = DataLoader(ds, batch_size=cfg.batch_size, shuffle=True, drop_last=True, num_workers=cfg.num_workers or 0,
                        pin_memory=device.type == "cuda")
    t0 = 0.0
    for i, (x, y) in enumerate(loader):
        if i == warm:
            t0 = time.perf_counter()
        if i == warm + steps:
            break
        x, y = x.to(device).contiguous(memory_format=fmt), y.to(device)
        out = model(x)
        if isinstance(out, ModelOutput):
            loss = crit(out.logits, y) + sum(w * crit(a, y) for w, a in zip(weights, out.aux, strict=True))
        else:
            loss = crit(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * cfg.batch_size / (time.perf_counter() - t0)


class WindowRun:
    """The app's main window, its Train panel showing runs that the bench starts in a training process."""

    def __init__(self):
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ.setdefault("INCEPTION_STUDIO_NO_DIALOGS", "1")
        os.environ.setdefault("INCEPTION_STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="bench-train-config-"))
        from inception_studio.gui.app import create_main_window, ensure_app

        ensure_app()
        self.window = create_main_window("googlenet", dialogs=False)
        self.window.resize(1280, 800)
        self.window.show()
        self.window.workspaces.switch("train")
        self.panel = self.window.panels.feature("training")

    def spin(self, ms: int) -> None:
        """Run the window's event loop for ``ms`` milliseconds."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(self, *signals) -> None:
        """Run the window's event loop until one of ``signals`` fires: one loop that sleeps in between, not
        a poll (a poll every 20 ms took 1.4% of a core from the contenders)."""
        from PySide6.QtCore import QEventLoop

        loop = QEventLoop()
        for sig in signals:
            sig.connect(loop.quit)
        loop.exec()

    def settle(self) -> None:
        """Before the next contender: no training process left, and the next one warm (interpreter and torch
        imported), so that its start-up overlaps no contender's timing (the app starts it seconds after a
        run, when it would fall into the next contender's timed steps)."""
        import select

        from inception_studio.gui.shared.process_worker import ProcessWorker

        while ProcessWorker._active:
            self.spin(100)
        ProcessWorker.prewarm()
        child = ProcessWorker._standby
        while child is not None and not child.ready and child.alive():
            select.select([child.sock], [], [], 0.5)
            child.messages()

    def on_lane(self, fn, *args) -> float:
        """``fn(*args)`` on the app's engine thread, where all of its in-process torch work runs (a second
        thread driving torch would slow both: two OpenMP teams on two cores); the window stays open."""
        from inception_studio.gui.shared.workers import ENGINE_LANE, Worker

        w = Worker(fn, *args)
        w.start(lane=ENGINE_LANE)
        if w.is_running():
            self.wait_for(w.finished, w.failed)
        if w.error:
            raise RuntimeError(w.error)
        return w.result

    def images_per_s(self, cfg: T.TrainConfig, spec, data: T.TrainData, warm: int, steps: int) -> float:
        """Images/s of one run shown live in the window (steps warm+1 .. warm+steps, timed on arrival)."""
        from inception_studio.gui.train.run_process import TrainingProcess

        self.settle()  # a warm training process, as the panel keeps one once data is loaded
        p = self.panel
        target = f"stages.{spec.stages[1].name}.{spec.stages[1].blocks[0].name}"  # block 3a's maps, live
        run = TrainingProcess(cfg, spec, data, "scratch", feature_target=target)
        stamps: dict[int, float] = {}
        ended: list = []
        p.monitor.reset()
        run.progress.connect(lambda ev: stamps.setdefault(ev.step, time.perf_counter())
                             if isinstance(ev, T.StepEvent) else None)
        # plots, maps, status: what the panel draws for a run (not the model install at the end, whose work on
        # the engine thread would overlap the next contender's timing)
        run.progress.connect(lambda ev: None if isinstance(ev, T.DoneEvent) else p.on_event(ev))
        run.finished.connect(ended.append)
        run.failed.connect(lambda m: ended.append(RuntimeError(m)))
        run.start()
        if not ended:
            self.wait_for(run.finished, run.failed)
        if isinstance(ended[0], Exception):
            raise ended[0]
        self.settle()
        return steps * cfg.batch_size / (stamps[warm + steps] - stamps[warm])


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print both rates and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="googlenet")
    ap.add_argument("--width-mult", type=float, default=0.25)
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--warm", type=int, default=8, help="untimed first steps (a fresh training process's first "
                    "steps are slower: its allocator and kernels warm up)")
    ap.add_argument("--steps", type=int, default=60, help="timed steps per contender (on two shared cores 30 "
                    "left the ratios +-5%% apart from one run to the next)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader workers for both loops")
    ap.add_argument("--window", action="store_true", help="also the app's run with its window open (see above)")
    ap.add_argument("--layouts", action="store_true", help="also the bare loop in plain NCHW order (see above)")
    args = ap.parse_args(argv)
    window = WindowRun() if args.window else None
    # Enough images that one epoch covers the timed window (4 classes, 20% held out for validation).
    per_class = math.ceil((args.warm + args.steps + 1) * args.batch_size / 4 / 0.8) + 1
    with tempfile.TemporaryDirectory() as tmp:
        root = D.make_demo_folder(tmp, per_class=per_class, size=64)
        data = T.prepare_data(root, val_fraction=0.2)
        cfg = T.recipe_defaults("googlenet", batch_size=args.batch_size, width_mult=args.width_mult,
                                image_size=args.image_size, device=args.device, num_workers=args.workers,
                                max_steps=args.warm + args.steps)
        spec, _ = T.prepare_spec(get_spec(args.variant), len(data.classes), args.width_mult, args.image_size)
        runs: dict[str, list[float]] = {"bare": [], "ours": [], "window": [], "nchw": []}
        run = window.on_lane if window is not None else (lambda fn, *a: fn(*a))
        contenders = {"bare": lambda: run(bare, cfg, spec, data, args.warm, args.steps),
                      "ours": lambda: run(ours, cfg, spec, data, args.warm, args.steps)}
        if args.layouts:
            contenders["nchw"] = lambda: run(bare, cfg, spec, data, args.warm, args.steps, "nchw")
        if window is not None:
            cfg_w = replace(cfg, feature_every=10)
            contenders["window"] = lambda: window.images_per_s(cfg_w, spec, data, args.warm, args.steps)
        names = list(contenders)
        for r in range(args.rounds):
            # Each round starts one contender later: none always runs first (a fresh training process) or
            # right after the window's run (its process ending, the next one warming).
            for name in names[r % len(names):] + names[:r % len(names)]:
                runs[name].append(contenders[name]())
    b, o = statistics.median(runs["bare"]), statistics.median(runs["ours"])

    def paired(name: str) -> float:
        """Median over rounds of that round's rate of ``name`` over the bare loop's."""
        return statistics.median(v / w for v, w in zip(runs[name], runs["bare"], strict=True))

    print(f"{spec.name} x{args.width_mult} at {args.image_size} px, batch {args.batch_size}, {args.device}, "
          f"{args.workers} loader workers, {len(data.train)} training images, {args.steps} timed steps, "
          f"median of {args.rounds} interleaved rounds")
    layout = "channels-last" if run_channels_last(cfg, resolve_device(args.device)) else "NCHW"
    own, child = ({k: env[k] for k in CHILD_ENV if k in env} for env in (os.environ, child_env(os.environ)))
    print(f"allocator of the bare loops: {own or 'the C library defaults'}; of the app's training process: "
          f"{child or 'the C library defaults'}")
    print(f"bare torch loop : {b:8.1f} images/s  {[round(v, 1) for v in runs['bare']]}  ({layout}, as the engine)")
    print(f"engine.train    : {o:8.1f} images/s  {[round(v, 1) for v in runs['ours']]}")
    print(f"ratio ours/bare : {o / b:.3f}  (median of per-round ratios {paired('ours'):.3f}; target >= 0.95)")
    if window is not None:
        w = statistics.median(runs["window"])
        print(f"app, window open: {w:8.1f} images/s  {[round(v, 1) for v in runs['window']]}  (training process, "
              "live plots and maps of 3a every 10 steps)")
        print(f"ratio app/bare  : {w / b:.3f}  (median of per-round ratios {paired('window'):.3f}; target >= 0.95)")
    if args.layouts:
        n = statistics.median(runs["nchw"])
        print(f"bare loop, NCHW : {n:8.1f} images/s  {[round(v, 1) for v in runs['nchw']]}")
        print(f"channels-last / NCHW (bare loops): {b / n:.3f}  (median of per-round ratios "
              f"{1 / paired('nchw'):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
