"""Tests for inception_studio.engine.device: listing, resolving, memory checks, precision policy."""
from __future__ import annotations

import contextlib

import pytest
import torch

from inception_studio.engine import device as dev
from inception_studio.engine.device import (
    DeviceInfo,
    autocast_context,
    autocast_dtype,
    available_memory,
    best_device,
    check_memory,
    format_bytes,
    is_oom_error,
    list_devices,
    resolve_device,
    use_channels_last,
)
from inception_studio.errors import ResourceError

GiB = 1024**3


def test_list_devices_cpu_last_and_labels() -> None:
    devices = list_devices()
    assert devices[-1].id == "cpu" and devices[-1].kind == "cpu"
    assert [d.id for d in devices].count("cpu") == 1
    assert devices[-1].name and devices[-1].total_memory > 0
    assert devices[-1].label.startswith("CPU — ") and devices[-1].label.endswith(" RAM)")
    assert best_device() == devices[0]
    gpu = DeviceInfo("cuda:0", "cuda", "NVIDIA H100", int(79.1 * GiB))
    assert gpu.label == "cuda:0 — NVIDIA H100 (79.1 GiB)"


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device(None) == torch.device(best_device().id)
    assert resolve_device("auto") == torch.device(best_device().id)
    have = ", ".join(d.id for d in list_devices())
    with pytest.raises(ResourceError) as info:
        resolve_device("cuda:3")
    assert str(info.value) == f"device 'cuda:3' is not available here (have: {have})"
    with pytest.raises(ResourceError, match=r"^device 'tpu' is not available here \(have: .*cpu\)$"):
        resolve_device("tpu")


def test_resolve_device_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "_cuda_count", lambda: 0)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    with pytest.raises(ResourceError) as info:
        resolve_device("cuda")
    assert str(info.value) == "device 'cuda' is not available here (have: cpu)"
    assert resolve_device("auto") == torch.device("cpu")


def test_available_memory_cpu() -> None:
    free = available_memory("cpu")
    assert 0 < free <= list_devices()[-1].total_memory
    assert available_memory(torch.device("cpu")) > 0


def test_check_memory_refusal_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "available_memory", lambda device: int(21.0 * GiB))
    with pytest.raises(ResourceError) as info:
        check_memory(int(37.2 * GiB), "cpu")
    assert str(info.value) == "model needs about 37.2 GiB but cpu has 21.0 GiB free"
    with pytest.raises(ResourceError, match=r"^batch needs about 19\.0 GiB"):
        check_memory(int(19.0 * GiB), torch.device("cpu"), what="batch")  # over 90% of 21 GiB
    check_memory(int(18.0 * GiB), "cpu")  # under 90%: allowed, returns quietly


def test_check_memory_real_cpu() -> None:
    check_memory(1024, "cpu")
    with pytest.raises(ResourceError, match=r"^model needs about .* but cpu has .* free$"):
        check_memory(1 << 60, "cpu")


def test_precision_policy_on_cpu() -> None:
    assert autocast_dtype("cpu") is None
    assert autocast_dtype(torch.device("cpu")) is None
    assert use_channels_last("cpu") is True  # oneDNN: NHWC convolutions are faster
    assert isinstance(autocast_context("cpu"), contextlib.nullcontext)
    assert autocast_dtype(torch.device("mps")) == torch.float16
    assert use_channels_last(torch.device("mps")) is False
    assert use_channels_last(torch.device("cuda", 0)) is True
    assert isinstance(autocast_context(torch.device("cuda", 0), enabled=False), contextlib.nullcontext)


def test_is_oom_error() -> None:
    assert is_oom_error(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_oom_error(RuntimeError("MPS backend out of memory"))
    assert is_oom_error(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 9 bytes"))
    assert is_oom_error(MemoryError())
    assert not is_oom_error(RuntimeError("shape mismatch"))
    assert not is_oom_error(ValueError("out of memory"))


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(int(1.5 * GiB)) == "1.5 GiB"
    assert format_bytes(3 * 1024**4) == "3.0 TiB"
