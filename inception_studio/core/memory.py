"""The memory policy: how much RAM is free, and when work is refused up front for want of memory.

One rule for everything that checks before it allocates (building a model here in core, a forward or a
training batch on a device in engine.device): refuse when the estimate needs more than ``HEADROOM`` of
what is free now. RAM is read as the kernel's MemAvailable, bounded by a container's cgroup limit.
Byte counts are shown in binary units (``format_bytes``). No torch, no Qt.
"""
from __future__ import annotations

import os

# Refuse work that needs more than this share of the memory that is free now.
HEADROOM = 0.9


def format_bytes(n: int | float) -> str:
    """Format a byte count with binary units and one decimal: 1610612736 -> "1.5 GiB"."""
    n = float(n)
    if abs(n) < 1024:
        return f"{int(n)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024.0
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} TiB"  # pragma: no cover - loop always returns


def fits(needed: int | float, free: int | float) -> bool:
    """Whether ``needed`` bytes may be asked of ``free`` bytes (unknown free memory, <= 0, never refuses)."""
    return free <= 0 or needed <= HEADROOM * free


def read_proc_kv(path: str, key: str) -> int | None:
    """Read one "Key: value kB" entry from a /proc file, in bytes, or None."""
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    parts = line.split()
                    value = int(parts[1])
                    return value * 1024 if len(parts) > 2 and parts[2].lower() == "kb" else value
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sysconf(name: str) -> int | None:
    """Pages of physical memory (``name``) times the page size, or None where unsupported."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf(name))
    except (AttributeError, ValueError, OSError):
        return None


def cgroup_free() -> int | None:
    """Memory left under a cgroup v2/v1 limit (containers), or None when there is no limit."""
    candidates = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    )
    for limit_path, usage_path in candidates:
        try:
            with open(limit_path, encoding="ascii") as fh:
                raw = fh.read().strip()
            if raw == "max":
                return None
            limit = int(raw)
            if limit >= 1 << 60:  # cgroup v1 "unlimited"
                return None
            with open(usage_path, encoding="ascii") as fh:
                usage = int(fh.read().strip())
            return max(0, limit - usage)
        except (OSError, ValueError):
            continue
    return None


def ram_total() -> int:
    """Total RAM in bytes (0 when unknown)."""
    return read_proc_kv("/proc/meminfo", "MemTotal") or _sysconf("SC_PHYS_PAGES") or 0


def ram_available() -> int | None:
    """RAM free now in bytes (MemAvailable, bounded by a cgroup limit), or None when it cannot be measured."""
    free = read_proc_kv("/proc/meminfo", "MemAvailable")
    if free is None:
        free = _sysconf("SC_AVPHYS_PAGES")
    limit_free = cgroup_free()
    if limit_free is not None:
        free = limit_free if free is None else min(free, limit_free)
    return free
