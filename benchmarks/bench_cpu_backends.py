"""CPU inference: our PyTorch path against onnxruntime running the same exported model (same run, same input).

Prints, per variant, the median batch-1 latency of
  - torch (plain):  the built model as is (NCHW, BatchNorm as a separate op),
  - torch (ours):   what Predictor runs on the CPU (BatchNorm folded into the convs, channels-last),
  - onnxruntime:    the model exported by engine.export (BN folded by the exporter), ORT_ENABLE_ALL,
and the ratios ours/onnxruntime and plain/onnxruntime (< 1.0 means PyTorch is faster). Timings are
interleaved in rounds (one untimed run, then three timed ones per contender) so that load from other
processes hits every contender alike. Predictor's default ``backend="auto"`` runs trained weights on
the CPU in onnxruntime (exported once, cached), so its ratio to onnxruntime is 1.0 by construction;
the "ours" column is ``backend="torch"``, used for hooks (feature maps, Grad-CAM) and random weights.

    python benchmarks/bench_cpu_backends.py [--variants googlenet inception_v3] [--repeats 15] [--threads N]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.engine.export import export_onnx, ort_session
from inception_studio.engine.infer import Predictor


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(variant: str, repeats: int, threads: int, tmp: Path) -> dict[str, float]:
    """Median seconds per batch-1 forward for each contender."""
    spec = replace(get_spec(variant), aux_enabled=False)
    model = build_model(spec).eval()
    predictor = Predictor(copy.deepcopy(model), device="cpu", backend="torch")
    path = tmp / f"{variant}.onnx"
    export_onnx(model, spec, path)
    session = ort_session(path, threads=threads)
    x = torch.randn(1, spec.in_channels, spec.input_size, spec.input_size)
    x_ours = x.contiguous(memory_format=torch.channels_last)
    xn = x.numpy()

    def plain():
        with torch.inference_mode():
            model(x)

    contenders = {"torch (plain)": plain, "torch (ours)": lambda: predictor.forward(x_ours),
                  "onnxruntime": lambda: session.run(None, {"image": xn})}
    for fn in contenders.values():  # warm-up: oneDNN primitive caches, ORT arenas
        fn(), fn()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            # One untimed run first: onnxruntime's pool keeps spinning for a while after a run and would
            # otherwise steal the CPU from whichever contender is timed right after it.
            fn()
            times[name] += [_time(fn) for _ in range(3)]
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a table with ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["googlenet", "inception_v3"])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"CPU inference, batch 1, {args.threads} threads, median of {args.repeats} interleaved runs")
    print(f"{'variant':14} {'torch plain':>12} {'torch ours':>12} {'onnxruntime':>12} {'ours/ORT':>9} {'plain/ORT':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for v in args.variants:
            t = bench(v, args.repeats, args.threads, Path(tmp))
            ort = t["onnxruntime"]
            print(f"{v:14} {t['torch (plain)'] * 1e3:10.1f}ms {t['torch (ours)'] * 1e3:10.1f}ms {ort * 1e3:10.1f}ms "
                  f"{t['torch (ours)'] / ort:9.2f} {t['torch (plain)'] / ort:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
