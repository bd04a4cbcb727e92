"""Dropped file -> top-5, against a bare forward of the same model on the same device and backend.

The engine path is what the GUI's worker runs for a dropped file: ``Predictor.classify`` = load_image
(JPEG draft decoding for big photos) + resize + thumbnail + crop + normalise + forward + softmax + top-5.
It is timed twice:
  - cold: the file was never seen (``use_cache=False``): decoding is part of the time;
  - prefetched: the file was prepared while the drag hovered over the window (``Predictor.prefetch``,
    which the GUI starts on drag-enter), so the drop only pays the forward and the top-5.
The peer is ``Predictor.forward`` on the already-prepared input: the same model (BN-folded, channels-last
for PyTorch; the exported graph for onnxruntime), same device, batch 1. All are timed interleaved,
median of N, each after 30 ms idle (a drop comes to an idle app, and a pool still spinning from the
previous contender would steal a core from the next). Target: overhead (engine / bare forward - 1) <= 10%. The last column times a plain eager
forward of the model as built (NCHW, BatchNorm unfolded) — what "just run the model" costs.

Photos are synthetic JPEGs (smooth gradients, shapes and sensor-like noise, quality 90) at the
average ImageNet validation size (500x375), a downsized phone photo (1600x1200) and a 12 MP one.

    python benchmarks/bench_predict.py [--variants googlenet inception_v3] [--backends torch onnxruntime]
                                       [--repeats 25] [--threads N]
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _util import interleaved

from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.engine.infer import Predictor

SIZES = ((500, 375), (1600, 1200), (4000, 3000))


def make_photo(path: Path, w: int, h: int, seed: int = 0) -> Path:
    """A photo-like JPEG: gradients, a few shapes, mild noise (compresses like a real photo, ~2 bits/pixel)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([120 + 100 * np.sin(x / w * 3.1), 90 + 80 * (y / h), 140 - 60 * (x + y) / (w + h)], -1)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(w // 20, w // 5))
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    arr = np.asarray(img).astype(np.int16) + rng.integers(-6, 7, (h, w, 3))
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path


def main(argv: list[str] | None = None) -> int:
    """Print the cold and prefetched engine-path times, the bare-forward time and the overheads."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["googlenet", "inception_v3"])
    ap.add_argument("--backends", nargs="+", default=["torch", "onnxruntime"], choices=["torch", "onnxruntime"])
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"dropped file -> top-5 vs bare forward, {args.device}, batch 1, {args.threads} threads, "
          f"median of {args.repeats} interleaved runs")
    print(f"{'variant':13} {'backend':12} {'photo':>10} {'KiB':>5} {'forward':>8} {'cold':>7} {'overhead':>9} "
          f"{'prefetched':>11} {'overhead':>9} {'plain fwd':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INCEPTION_STUDIO_CACHE_DIR"] = tmp  # onnxruntime exports go here, not into the user's cache
        photos = [make_photo(Path(tmp) / f"photo_{w}x{h}.jpg", w, h) for w, h in SIZES]
        for variant in args.variants:
            model = build_model(replace(get_spec(variant), aux_enabled=False)).eval().to(args.device)
            for backend in args.backends:
                if backend == "onnxruntime" and args.device != "cpu":
                    continue
                pred = Predictor(copy.deepcopy(model), device=args.device, backend=backend)
                for photo in photos:
                    t = _time_photo(pred, model, photo, args.repeats)
                    w, h = Image.open(photo).size
                    print(f"{variant:13} {backend:12} {f'{w}x{h}':>10} {photo.stat().st_size / 1024:5.0f} "
                          f"{t['bare'] * 1e3:6.1f}ms {t['cold'] * 1e3:5.1f}ms {100 * (t['cold'] / t['bare'] - 1):8.1f}% "
                          f"{t['prefetched'] * 1e3:9.1f}ms {100 * (t['prefetched'] / t['bare'] - 1):8.1f}% "
                          f"{t['plain'] * 1e3:8.1f}ms")
    return 0


def _time_photo(pred: Predictor, model: torch.nn.Module, photo: Path, repeats: int) -> dict[str, float]:
    """Median seconds of each path for one photo (interleaved)."""
    x = pred._batch([photo])
    x_plain = x.contiguous()
    sync = torch.cuda.synchronize if pred.device.type == "cuda" else (lambda: None)

    def cold():
        [result] = pred.classify([photo], batch_size=1, use_cache=False)
        assert result.ok and len(result.top) == 5
        sync()

    def prefetched():
        assert pred.images.cached(photo)  # prepared on "drag-enter" (the _batch call above)
        [result] = pred.classify([photo], batch_size=1)
        assert result.ok and len(result.top) == 5
        sync()

    def bare():
        pred.forward(x)
        sync()

    def plain():
        with torch.inference_mode():
            model(x_plain)
        sync()
    return interleaved({"cold": cold, "prefetched": prefetched, "bare": bare, "plain": plain},
                       repeats=repeats, warmup=3, settle=0.03)


if __name__ == "__main__":
    raise SystemExit(main())
