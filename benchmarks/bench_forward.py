"""Forward speed of our built models against the torchvision/timm reference, same input, CPU.

Same weights (loaded through core.weights), eval mode, no grad, interleaved repeats, median.
Target: ours / reference <= 1.05.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _util import interleaved  # noqa: E402

from inception_studio.core.sources import SOURCES  # noqa: E402
from inception_studio.core.weights import import_reference  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU, {args.threads} threads, batch {args.batch}, median of {args.repeats} interleaved runs")
    print(f"{'model':28} {'ours ms':>9} {'ref ms':>9} {'ratio':>7}")
    for source, record in SOURCES.items():
        ref = record.reference_model(aux=False, init=True).eval()  # torchvision's / timm's own module
        ours = import_reference(source, ref.state_dict()).eval()
        size = ours.spec.input_size
        x = torch.randn(args.batch, 3, size, size)
        with torch.inference_mode():
            assert (ours(x) - ref(x)).abs().max() < 1e-3
            t = interleaved({"ours": lambda: ours(x), "ref": lambda: ref(x)}, repeats=args.repeats)
        print(f"{source:28} {t['ours'] * 1e3:9.1f} {t['ref'] * 1e3:9.1f} {t['ours'] / t['ref']:7.3f}")


if __name__ == "__main__":
    main()
