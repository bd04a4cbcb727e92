"""How the app's own processes use the C allocator (glibc's malloc, which PyTorch's CPU tensors come from).

By default glibc gives a freed block of more than 128 KiB (up to 32 MiB once it has seen such blocks) back
to the OS at once, and trims the heap's free top; the next training step or forward then faults every page
of its activations in again. Measured on two cores: a training process took 30,000-140,000 page faults and
0.2-0.8 s of system time per 60 steps of googlenet x0.25 (3-10% of its CPU), and a googlenet forward at
224 px took 12,500 faults and 87 ms for 8 images, 73 ms without them.

- A job's child process (training, building, export) keeps all it frees: every block comes from the heap
  and the heap is never trimmed; it exits after its one job. Set through its environment (:data:`CHILD_ENV`),
  so the settings hold from its interpreter's start and reach its data-loader processes.
- The window's process lives on: blocks up to 32 MiB come from the heap, and the heap's free top goes back to
  the OS once it passes :data:`WINDOW_TRIM_BYTES` (:func:`tune_window_process`).

A user's own ``MALLOC_*`` settings (or ``GLIBC_TUNABLES`` for malloc) win. Other C libraries: nothing changes.
No Qt, no torch.
"""
from __future__ import annotations

import os
import platform
from collections.abc import Mapping

MIB = 1 << 20
HEAP_BLOCKS_UP_TO = 32 * MIB  # glibc's largest mmap threshold
WINDOW_TRIM_BYTES = 256 * MIB  # the window's process keeps at most this much freed memory for its next job

# name -> value, for a child's environment
CHILD_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(HEAP_BLOCKS_UP_TO),
    "MALLOC_MMAP_MAX_": "0",  # larger blocks from the heap too (googlenet x1.0 at 224 px: a step 520 -> 470 ms)
    "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
}

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)


def _users_own(env: Mapping[str, str], name: str) -> bool:
    return name in env or "glibc.malloc" in env.get("GLIBC_TUNABLES", "")


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the child's allocator settings added where the user has set none of their own."""
    out = dict(env)
    for name, value in CHILD_ENV.items():
        if not _users_own(env, name):
            out[name] = value
    return out


def tune_window_process() -> dict[str, int]:
    """Set the window's process's allocator (glibc only, and not where the user set their own); what was set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return {}
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return {}
    done: dict[str, int] = {}
    for name, param, value in (("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO),
                               ("MALLOC_TRIM_THRESHOLD_", _M_TRIM_THRESHOLD, WINDOW_TRIM_BYTES)):
        if not _users_own(os.environ, name) and mallopt(param, value) == 1:
            done[name] = value
    return done
