"""Looking at a run from outside: one block's feature maps for a probe image, and timing a step."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from inception_studio.core.analysis import analyze
from inception_studio.core.blocks import ModelOutput
from inception_studio.core.build import build_model, output_module
from inception_studio.core.spec import ArchSpec
from inception_studio.engine.device import check_memory, resolve_device
from inception_studio.engine.training.config import MAX_FEATURE_MAPS, TrainConfig
from inception_studio.engine.training.setup import prepare_spec, run_channels_last


class _Captured(Exception):
    """Raised by the probe hook to end the forward pass once the wanted activation is in hand."""


@torch.no_grad()
def probe_feature_maps(model: nn.Module, module_path: str, image: torch.Tensor,
                       max_maps: int = MAX_FEATURE_MAPS) -> tuple[np.ndarray, int] | None:
    """The first ``max_maps`` channels of ``module_path``'s output for ``image`` (1xCxHxW); None if none."""
    target = output_module(model, module_path)
    if target is None:
        return None
    got: list[torch.Tensor] = []

    def hook(_m: nn.Module, _i: Any, out: Any) -> None:
        got.append(out[0] if isinstance(out, (tuple, list)) else out)
        raise _Captured

    was_training = model.training
    handle = target.register_forward_hook(hook)
    model.eval()
    try:
        model(image)
    except _Captured:
        pass
    finally:
        handle.remove()
        model.train(was_training)
    if not got or got[0].dim() != 4:
        return None
    act = got[0][0].detach().float()
    return act[:max_maps].to("cpu").contiguous().numpy(), int(act.shape[0])


def measure_step_seconds(spec: ArchSpec, batch_size: int, device: str | torch.device = "cpu",
                         steps: int = 2, warmup: int = 1, aux_weight: float | None = None,
                         should_stop: Callable[[], bool] = lambda: False, channels_last: bool = False) -> float:
    """Seconds per training step on random data (forward, backward, SGD step), after ``warmup`` steps, in the
    memory order a run would use (``channels_last``); NaN when ``should_stop()`` turned True before the last
    step (checked before each)."""
    dev = resolve_device(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build_model(spec).to(dev).to(memory_format=fmt).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(batch_size, spec.in_channels, spec.input_size, spec.input_size, device=dev).contiguous(
        memory_format=fmt)
    y = torch.randint(0, spec.num_classes, (batch_size,), device=dev)
    crit = nn.CrossEntropyLoss()
    t0 = 0.0
    for i in range(warmup + steps):
        if should_stop():
            return math.nan
        if i == warmup:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
        out = model(x)
        loss = crit(out.logits, y) + sum(crit(a, y) for a in out.aux) * (aux_weight or 0.3) \
            if isinstance(out, ModelOutput) else crit(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return (time.perf_counter() - t0) / max(1, steps)


def estimate_epoch(spec: ArchSpec, config: TrainConfig, train_count: int, num_classes: int,
                   should_stop: Callable[[], bool] = lambda: False) -> tuple[float, int, float] | None:
    """(seconds per epoch, steps per epoch, seconds per step) of compute, measured on two steps; None when
    ``should_stop()`` turned True (a run started: its own rate says more, and the estimate would slow it).

    ResourceError up front when a training batch will not fit in the device's free memory. A big
    model is timed at a batch of 4 and scaled, so the estimate itself stays a few seconds.
    """
    spec, _ = prepare_spec(spec, num_classes, config.width_mult, config.image_size, config.train_part)
    device = resolve_device(config.device)
    summary = analyze(spec)
    needed = summary.memory_bytes(config.batch_size, training=True)
    check_memory(needed, device, f"training {spec.name} at batch size {config.batch_size}")
    batch = config.batch_size
    if device.type == "cpu" and summary.macs * batch > 20e9:  # > ~20 GMAC per step: seconds per step
        batch = min(batch, 4)
    per_step = measure_step_seconds(spec, batch, device, steps=2, warmup=1, should_stop=should_stop,
                                    channels_last=run_channels_last(config, device))
    if math.isnan(per_step):
        return None
    per_step *= config.batch_size / batch
    steps = max(1, train_count // config.batch_size)
    return per_step * steps, steps, per_step
