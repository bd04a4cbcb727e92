"""GPU inference throughput: our Inception-v3 / v4 against timm's, batch 64, bf16 autocast, channels-last.

Both models are random-initialised with identical shapes, moved to the GPU, put in eval mode and
channels-last, and run under ``torch.autocast(bfloat16)`` (fp16 where bf16 is unsupported) with
``torch.inference_mode``. "ours" is what Predictor runs (BatchNorm folded into the convs); "ours
(plain)" is the model as built. Timed with CUDA synchronisation, interleaved, median of N; prints
images/s and the ratio ours/timm (>= 1.0 means we are at least as fast).

Prints "skipped: no CUDA" and exits 0 on machines without a CUDA GPU.

    python benchmarks/bench_gpu_infer.py [--batch 64] [--repeats 20] [--variants inception_v3 inception_v4]
"""
from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _util import interleaved

from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.engine.device import autocast_dtype
from inception_studio.engine.infer import fold_batchnorm

TIMM_NAMES = {"inception_v3": "inception_v3", "inception_v4": "inception_v4",
              "inception_resnet_v2": "inception_resnet_v2"}


def prepared(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Eval mode, on the GPU, channels-last."""
    return model.eval().to(device).to(memory_format=torch.channels_last)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison (or say why not)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=["inception_v3", "inception_v4"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("skipped: no CUDA")
        return 0
    import timm

    device = torch.device("cuda")
    dtype = autocast_dtype(device)
    torch.backends.cudnn.benchmark = True
    print(f"{torch.cuda.get_device_name(0)}, batch {args.batch}, autocast {dtype}, channels-last, "
          f"median of {args.repeats} interleaved runs")
    print(f"{'variant':14} {'ours img/s':>11} {'ours plain':>11} {'timm img/s':>11} {'ours/timm':>10} {'plain/timm':>11}")
    for variant in args.variants:
        spec = replace(get_spec(variant), aux_enabled=False)
        plain = prepared(build_model(spec), device)
        ours = prepared(fold_batchnorm(copy.deepcopy(plain)), device)
        ref = prepared(timm.create_model(TIMM_NAMES[variant], pretrained=False, num_classes=spec.num_classes), device)
        x = torch.randn(args.batch, 3, spec.input_size, spec.input_size, device=device)
        x = x.contiguous(memory_format=torch.channels_last)

        def run(model, x=x):
            with torch.inference_mode(), torch.autocast("cuda", dtype=dtype):
                model(x)
            torch.cuda.synchronize()
        fns = {name: (lambda m=m: run(m)) for name, m in (("ours", ours), ("plain", plain), ("timm", ref))}
        t = interleaved(fns, repeats=args.repeats, warmup=5)
        ips = {k: args.batch / v for k, v in t.items()}
        print(f"{variant:14} {ips['ours']:11.0f} {ips['plain']:11.0f} {ips['timm']:11.0f} "
              f"{ips['ours'] / ips['timm']:10.2f} {ips['plain'] / ips['timm']:11.2f}")
        del plain, ours, ref, x, fns
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
