"""Small timing helpers shared by the benchmark scripts (median of interleaved repeats)."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    """Median wall time of ``fn`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 10, warmup: int = 2,
                settle: float = 0.0, clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Median time of each function, alternating between them so drift hits all equally.

    ``settle`` seconds of idle before each timed call let the thread pools that the previous call woke
    (OpenMP, onnxruntime) stop spinning, so each call starts from an idle process, as a user's drop does.
    ``clock``: wall time by default; ``time.thread_time`` counts only this thread's CPU time.
    """
    for _ in range(warmup):
        for f in fns.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            if settle:
                time.sleep(settle)
            t = clock()
            f()
            times[k].append(clock() - t)
    return {k: statistics.median(v) for k, v in times.items()}
