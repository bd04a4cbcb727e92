"""Analysis speed: analyze() + build_graph() per edit, against measuring the same numbers with torch.

Peer (same run): building the module and counting with FlopCounterMode, which is what a tool
without analytic analysis would do on every edit. Target: analyze(inception_resnet_v2) < 20 ms.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _util import median_time  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from inception_studio import analyze, build_model, get_spec, list_variants  # noqa: E402
from inception_studio.core import edits  # noqa: E402
from inception_studio.core.graph import build_graph  # noqa: E402


def torch_count(spec):
    model = build_model(spec, check_memory=False).eval()
    with FlopCounterMode(display=False) as c, torch.no_grad():
        model(torch.zeros(1, 3, spec.input_size, spec.input_size))
    return sum(p.numel() for p in model.parameters()), c.get_total_flops() / 2


def main() -> None:
    torch.set_num_threads(2)
    print(f"{'variant':27} {'analyze ms':>10} {'+graph ms':>10} {'edit ms':>8} {'torch ms':>9} {'speed-up':>9}")
    for name in list_variants():
        spec = get_spec(name)
        t_an = median_time(lambda: analyze(spec), repeats=50)
        t_gr = median_time(lambda: build_graph(spec), repeats=30)
        t_edit = median_time(lambda: analyze(edits.apply_edit(spec, "num_classes", 10)), repeats=30)
        t_torch = median_time(lambda: torch_count(spec), repeats=2, warmup=1)
        print(f"{name:27} {t_an * 1e3:10.2f} {t_gr * 1e3:10.2f} {t_edit * 1e3:8.2f} {t_torch * 1e3:9.0f} {t_torch / t_an:8.0f}x")
    spec = get_spec("inception_resnet_v2")
    t = median_time(lambda: analyze(spec), repeats=100)
    print(f"\ninception_resnet_v2: analyze {t * 1e3:.2f} ms; ratio to the 20 ms target = {t / 0.020:.3f} (<= 1 passes)")


if __name__ == "__main__":
    main()
