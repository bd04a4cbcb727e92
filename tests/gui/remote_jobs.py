"""Tiny jobs the process-runner tests give a child process (importable there: no Qt)."""
from __future__ import annotations

import os
import signal
import time


def count(n: int, delay: float = 0.0, should_stop=None, should_pause=None, label=None):
    """Yield 0..n-1 (``delay`` s apart; held while paused, ended early when stopped); return n or where it stopped."""
    for i in range(n):
        while should_pause is not None and should_pause() and not should_stop():
            time.sleep(0.005)
        if should_stop is not None and should_stop():
            return ("stopped", i)
        yield (i, label() if label is not None else None, time.time())
        time.sleep(delay)
    return n


def fail(message: str):
    """Raise an unexpected error."""
    raise ValueError(message)


def die():
    """Kill this process (a crash the parent must survive)."""
    yield "about to die"
    os.kill(os.getpid(), signal.SIGKILL)
    yield "never"


def qt_modules() -> list[str]:
    """The Qt modules this process has imported (none, in a child of the GUI)."""
    import sys

    return sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "PyQt")))


def scheduling() -> dict:
    """How the OS schedules this process: policy (Linux), niceness, session and process group."""
    return {"policy": os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None,
            "nice": os.getpriority(os.PRIO_PROCESS, 0), "sid": os.getsid(0), "pgid": os.getpgid(0),
            "pid": os.getpid()}


def collector() -> dict:
    """What a full garbage collection in this process has to scan: the objects it tracks, and those frozen."""
    import gc

    return {"tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count(),
            "torch": "torch" in __import__("sys").modules}


def page_faults(block_mib: int = 12, blocks: int = 4, rounds: int = 12) -> dict:
    """Allocate ``blocks`` blocks of ``block_mib`` MiB, touch every page, free them all; ``rounds`` times, as a
    training step does with its activations. The minor page faults of the last half of the rounds."""
    import resource

    size = block_mib << 20
    counts = []
    for _ in range(rounds):
        counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
        held = []
        for _ in range(blocks):
            b = bytearray(size)
            b[::4096] = b"\x01" * len(range(0, size, 4096))  # write each page (calloc may leave them unmapped)
            held.append(b)
        del held, b
    counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)
    half = rounds // 2
    return {"faults": counts[-1] - counts[-1 - half], "rounds": half, "pages": blocks * size // 4096}


def environment(*names: str) -> dict:
    """The values of these environment variables in this process."""
    return {n: os.environ.get(n) for n in names}
