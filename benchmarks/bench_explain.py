"""Explanation speed: explain(spec, block) runs whenever the graph selection changes (target < 5 ms).

Peer (same run): analyze() of the same spec, the per-block table the Inspector already recomputes on
every edit. For each variant, the slowest block's explanation (median of interleaved repeats) is
printed with its ratio to analyze(), and the worst block of all against the 5 ms target.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _util import interleaved  # noqa: E402

from inception_studio import analyze, explain, get_spec, list_variants  # noqa: E402

TARGET_S = 0.005


def main() -> None:
    print(f"{'variant':27} {'slowest block':24} {'explain ms':>10} {'analyze ms':>10} {'ratio':>6}  {'network ms':>10}")
    worst = (0.0, "", "")
    for name in list_variants():
        spec = get_spec(name)
        blocks = [b.name for _s, _i, b in spec.iter_blocks()]
        # One cheap pass to find the slowest block, then time it against analyze(), interleaved.
        quick = interleaved({b: (lambda b=b: explain(spec, b)) for b in blocks}, repeats=3, warmup=1)
        slow = max(quick, key=quick.get)
        t = interleaved({"explain": lambda: explain(spec, slow), "analyze": lambda: analyze(spec),
                         "network": lambda: explain(spec)}, repeats=30, warmup=3)
        label = next(b.label for _s, _i, b in spec.iter_blocks() if b.name == slow)
        print(f"{name:27} {label[:24]:24} {t['explain'] * 1e3:10.2f} {t['analyze'] * 1e3:10.2f} "
              f"{t['explain'] / t['analyze']:6.2f}  {t['network'] * 1e3:10.2f}")
        if t["explain"] > worst[0]:
            worst = (t["explain"], name, label)
    print(f"\nslowest explanation: {worst[1]} {worst[2]} {worst[0] * 1e3:.2f} ms; "
          f"ratio to the 5 ms target = {worst[0] / TARGET_S:.3f} (<= 1 passes)")


if __name__ == "__main__":
    main()
