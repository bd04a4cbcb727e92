"""GPU training throughput of our Inception-v3 against timm's, in the same bare loop on the same GPU.

Inception-v3 at 299 px, batch 128, bf16 autocast, channels_last, SGD momentum 0.9, synthetic data
already on the GPU (so the models are compared, not the data pipeline); no aux heads on either side
(timm's default). Rounds are interleaved and the medians compared; ours / timm near 1.0 means the
spec-built network costs nothing over the hand-written one. Without CUDA it prints "skipped: no CUDA"
(``--device cpu`` with small sizes runs the same code on the CPU, to check the script itself).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from inception_studio.core import edits  # noqa: E402
from inception_studio.core.build import build_model  # noqa: E402
from inception_studio.core.presets import get_spec  # noqa: E402


def images_per_s(model: nn.Module, device: torch.device, size: int, batch: int, steps: int, warm: int,
                 dtype: torch.dtype | None, channels_last: bool) -> float:
    """Images/s of forward + backward + SGD step on one fixed random batch."""
    model = model.to(device).train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, 1000, (batch,), device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    t0 = 0.0
    for i in range(warm + steps):
        if i == warm:
            sync()
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(x)
            out = out[0] if isinstance(out, tuple) else out
            loss = crit(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync()
    return steps * batch / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print both numbers and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--image-size", type=int, default=299)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("skipped: no CUDA")
        return 0
    import timm

    device = torch.device(args.device)
    dtype = None if args.fp32 else torch.bfloat16
    channels_last = device.type == "cuda"
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    spec = edits.set_aux(get_spec("inception_v3"), False)
    torch.manual_seed(0)
    ours_model = build_model(spec, check_memory=False)
    timm_model = timm.create_model("inception_v3", pretrained=False, num_classes=1000)
    runs: dict[str, list[float]] = {"timm": [], "ours": []}
    for _ in range(args.rounds):
        for name, model in (("timm", timm_model), ("ours", ours_model)):
            runs[name].append(images_per_s(model, device, args.image_size, args.batch_size, args.steps, args.warm,
                                           dtype, channels_last))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    t, o = statistics.median(runs["timm"]), statistics.median(runs["ours"])
    print(f"inception_v3 at {args.image_size} px, batch {args.batch_size}, {'fp32' if dtype is None else 'bf16'}, "
          f"{'channels_last' if channels_last else 'NCHW'}, {name}, median of {args.rounds} interleaved rounds")
    print(f"timm inception_v3 : {t:8.1f} images/s  {[round(v, 1) for v in runs['timm']]}")
    print(f"ours (spec-built) : {o:8.1f} images/s  {[round(v, 1) for v in runs['ours']]}")
    print(f"ratio ours/timm   : {o / t:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
