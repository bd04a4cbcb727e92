"""Device choice: which accelerators exist, how much memory they have, and mixed-precision settings.

Owns the mapping from a user's device spec ("auto", "cuda:1", "cpu", ...) to a ``torch.device``,
each device's free memory, the memory checks that refuse work up front with a one-line ``ResourceError``
(by core.memory's policy, the one the model builder follows too), and the per-device autocast /
channels-last policy. Pure Python/torch, no Qt.
"""
from __future__ import annotations

import contextlib
import platform
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from inception_studio.core.memory import format_bytes, fits, ram_available, ram_total
from inception_studio.errors import ResourceError


@dataclass(frozen=True)
class DeviceInfo:
    """One device torch can run on: its id ("cuda:0", "mps", "cpu"), kind, name and total memory."""

    id: str
    kind: str
    name: str
    total_memory: int

    @property
    def label(self) -> str:
        """Human-readable one-liner, e.g. "cuda:0 — NVIDIA H100 (79.1 GiB)"."""
        mem = format_bytes(self.total_memory) if self.total_memory > 0 else "memory unknown"
        if self.kind == "cpu":
            suffix = f"{mem} RAM" if self.total_memory > 0 else mem
            return f"CPU — {self.name} ({suffix})"
        return f"{self.id} — {self.name} ({mem})"

    @property
    def torch_device(self) -> torch.device:
        """The ``torch.device`` for this entry."""
        return torch.device(self.id)


@lru_cache(maxsize=1)
def _cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else platform.processor(), else the machine type."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    name = line.split(":", 1)[1].strip()
                    if name:
                        return " ".join(name.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _mps_available() -> bool:
    """Whether Apple's Metal backend can be used."""
    try:
        return bool(torch.backends.mps.is_available())
    except (AttributeError, RuntimeError):
        return False


def _cuda_count() -> int:
    """Number of usable CUDA devices (0 when CUDA is missing or broken)."""
    try:
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except (RuntimeError, AssertionError):
        return 0


def _mps_recommended() -> int:
    """Metal's recommended working-set size in bytes (0 when unknown)."""
    try:
        return int(torch.mps.recommended_max_memory())
    except (AttributeError, RuntimeError):
        return 0


def list_devices() -> list[DeviceInfo]:
    """Every CUDA GPU, then MPS if available, then the CPU (always present, always last)."""
    devices: list[DeviceInfo] = []
    for index in range(_cuda_count()):
        try:
            props = torch.cuda.get_device_properties(index)
        except (RuntimeError, AssertionError):
            continue
        devices.append(DeviceInfo(f"cuda:{index}", "cuda", str(props.name), int(props.total_memory)))
    if _mps_available():
        devices.append(DeviceInfo("mps", "mps", "Apple GPU (Metal)", _mps_recommended() or ram_total()))
    devices.append(DeviceInfo("cpu", "cpu", _cpu_name(), ram_total()))
    return devices


def best_device() -> DeviceInfo:
    """The fastest device present: the first CUDA GPU, else MPS, else the CPU."""
    return list_devices()[0]


def resolve_device(spec: str | torch.device | None) -> torch.device:
    """Turn "auto"/None, "cuda", "cuda:1", "mps" or "cpu" into a torch.device; ResourceError if absent."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    text = (spec or "auto").strip().lower()
    devices = list_devices()
    if text == "auto":
        return torch.device(devices[0].id)
    if text == "cuda":
        text = "cuda:0"
    ids = [d.id for d in devices]
    if text in ids:
        return torch.device(text)
    raise ResourceError(f"device '{spec}' is not available here (have: {', '.join(ids)})")


def _as_device(device: torch.device | str | DeviceInfo | None) -> torch.device:
    """Accept a torch.device or DeviceInfo as is; resolve a spec string (ResourceError if absent)."""
    if isinstance(device, DeviceInfo):
        return torch.device(device.id)
    if isinstance(device, torch.device):
        return device
    return resolve_device(device)


def _available(device: torch.device) -> int | None:
    """Free memory in bytes on ``device``, or None when it cannot be measured."""
    if device.type == "cuda":
        try:
            index = device.index if device.index is not None else torch.cuda.current_device()
            return int(torch.cuda.mem_get_info(index)[0])
        except (RuntimeError, AssertionError, AttributeError):
            return None
    if device.type == "mps":
        recommended = _mps_recommended()
        if recommended <= 0:
            return None
        try:
            used = int(torch.mps.driver_allocated_memory())
        except (AttributeError, RuntimeError):
            used = 0
        return max(0, recommended - used)
    return ram_available()


def available_memory(device: torch.device | str | DeviceInfo | None) -> int:
    """Bytes free now on ``device`` (cuda: mem_get_info; cpu: MemAvailable; mps: recommended minus used); 0 if unknown."""
    return _available(_as_device(device)) or 0


def _device_name(device: torch.device) -> str:
    """Short name for messages: "cpu", "mps", "cuda:0"."""
    if device.type == "cuda" and device.index is None:
        return "cuda"
    return str(device)


def check_memory(needed_bytes: int, device: torch.device | str | DeviceInfo | None, what: str = "model") -> None:
    """Raise ResourceError when ``needed_bytes`` is more than core.memory's policy allows of what ``device`` has free."""
    dev = _as_device(device)
    free = available_memory(dev)
    if not fits(needed_bytes, free):  # (free memory that cannot be measured never refuses)
        raise ResourceError(
            f"{what} needs about {format_bytes(needed_bytes)} but {_device_name(dev)} has {format_bytes(free)} free"
        )


def autocast_dtype(device: torch.device | str | DeviceInfo | None) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16/fp16 on CUDA, fp16 on MPS, None on CPU."""
    dev = _as_device(device)
    if dev.type == "cuda":
        try:
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        except (RuntimeError, AssertionError):
            return torch.float16
    if dev.type == "mps":
        return torch.float16
    return None


def use_channels_last(device: torch.device | str | DeviceInfo | None) -> bool:
    """Whether to store conv activations channels-last on ``device``: on CUDA, and on the CPU, where oneDNN
    runs these networks' convolutions faster in NHWC (training 1.04-1.5x per step, inference up to 2x:
    benchmarks/bench_train.py --layouts, bench_cpu_backends.py). Not on MPS."""
    return _as_device(device).type in ("cuda", "cpu")


def autocast_context(device: torch.device | str | DeviceInfo | None, enabled: bool = True) -> Any:
    """A torch.autocast context for ``device``, or a nullcontext when disabled or unsupported."""
    dev = _as_device(device)
    dtype = autocast_dtype(dev)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=dev.type, dtype=dtype)


def is_oom_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory failure (CUDA/MPS OOM, CPU allocator failure, MemoryError)."""
    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return "out of memory" in text or "can't allocate memory" in text
    return False
