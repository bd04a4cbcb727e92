"""Building a model on a device: the generator the GUI's Model menu, the CLI and ``Predictor`` share.

Owns ``build_on_device`` (yields progress events: checks memory first, resolves the weights choice,
builds the spec, carries the weights over where they fit, moves the model to its device with the
channels-last policy and turns an out-of-memory failure into a ResourceError), ``BuiltModel`` (a model
ready on its device, with its weights' provenance: the one record of a built model the engine and the
GUI pass around), ``fold_batchnorm`` for inference and ``copy_model``. No Qt.
"""
from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..core.analysis import analyze
from ..core.build import build_model
from ..core.spec import ArchSpec
from ..errors import ResourceError
from . import device as D
from .classes import class_names_for
from .loading import Weights, WeightsChoice, apply_weights, resolve_weights, spec_for_weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildEvent:
    """One step of building a model: what is happening, and how far along (None = unknown)."""

    stage: str  # "memory" | "weights" | "build" | "carry" | "device" | "done"
    message: str
    fraction: float | None = None


@dataclass
class BuiltModel:
    """A model ready to run on its device, with its weights' provenance: what Predictor runs and what the
    GUI's document holds (built from the Model menu, or installed by a training run)."""

    model: nn.Module
    spec: ArchSpec
    class_names: list[str]
    device: str
    source: str = "random init"
    reinitialised: list[str] = field(default_factory=list)  # graph ids: "b:<block>", "head", "aux:<name>"
    loaded: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"BuiltModel({self.spec.name} on {self.device}, {self.source}, "
                f"{len(self.reinitialised)} re-initialised, {len(self.class_names)} classes)")


def inference_memory(spec: ArchSpec, batch_size: int = 1) -> int:
    """Bytes a forward pass of ``spec`` needs (weights + activations) at ``batch_size``."""
    return analyze(spec).memory_bytes(batch_size, training=False)


def check_inference_memory(spec: ArchSpec, dev: torch.device) -> None:
    """ResourceError, one line, when a forward pass of ``spec`` (batch 1) will not fit on ``dev``."""
    D.check_memory(inference_memory(spec), dev, f"{spec.name} (inference, batch 1)")


def resolve_with_progress(weights: WeightsChoice | Weights | None, spec: ArchSpec,
                          download=None) -> Iterator[BuildEvent]:
    """``weights`` resolved (Weights pass through), a download or a read announced first; returns the Weights."""
    if isinstance(weights, Weights):
        return weights
    choice = weights or WeightsChoice.random()
    if choice.kind != "random":
        what = "downloading" if choice.kind == "pretrained" and not choice.path else "reading"
        yield BuildEvent("weights", f"{what} {choice.label}", None)
    return resolve_weights(choice, spec, download)


def to_device(model: nn.Module, dev: torch.device, what: str) -> nn.Module:
    """Move ``model`` to ``dev`` (channels-last where it helps); OOM becomes a ResourceError."""
    try:
        model = model.to(dev)
        if D.use_channels_last(dev):
            model = model.to(memory_format=torch.channels_last)
    except Exception as exc:
        if not D.is_oom_error(exc):
            raise
        log.warning("out of memory moving %s to %s", what, dev, exc_info=True)
        try:  # give the device its memory back; the app keeps running
            model.to("cpu")
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 - best effort after an OOM
            log.debug("could not release %s after an OOM", dev, exc_info=True)
        raise ResourceError(f"{what}: out of memory on {dev} while moving the model there; "
                            "pick another device or a smaller model") from None
    return model


def build_on_device(spec: ArchSpec, device: str | torch.device | None = None,
                    weights: WeightsChoice | Weights | None = None, class_names: Sequence[str] | None = None,
                    download=None) -> Iterator[BuildEvent | BuiltModel]:
    """Build ``spec`` on ``device`` with ``weights``: yields BuildEvents, then the BuiltModel (also returned)."""
    dev = D.resolve_device(device)
    log.info("building %s on %s (%s)", spec.name, dev, getattr(weights, "label", "random init"))
    yield BuildEvent("memory", f"checking memory on {dev}", 0.02)
    check_inference_memory(spec, dev)
    if dev.type != "cpu":  # the model is built in RAM first, then moved
        D.check_memory(analyze(spec).params * 4, "cpu", f"{spec.name} (weights in RAM)")
    w = yield from resolve_with_progress(weights, spec, download)
    spec = spec_for_weights(spec, w)
    yield BuildEvent("build", f"building {spec.title or spec.name}", 0.35)
    model = build_model(spec, check_memory=False)
    loaded: list[str] = []
    fresh: list[str] = []
    if w.state_dict is not None:
        yield BuildEvent("carry", f"loading weights ({w.label})", 0.6)
        loaded, fresh = apply_weights(model, w)
    yield BuildEvent("device", f"moving to {dev}", 0.8)
    model = to_device(model, dev, spec.name).eval()
    names = class_names_for(spec.num_classes, list(class_names or []) or w.class_names)
    built = BuiltModel(model, spec, names, str(dev), w.label, fresh, loaded)
    note = f", {len(fresh)} block(s) re-initialised" if fresh else ""
    yield BuildEvent("done", f"{spec.name} ready on {dev} ({w.label}{note})", 1.0)
    yield built
    return built


def run_build(spec: ArchSpec, device: str | torch.device | None = None,
              weights: WeightsChoice | Weights | None = None, **kw: Any) -> BuiltModel:
    """``build_on_device`` run to completion (for scripts and the CLI)."""
    out = None
    for event in build_on_device(spec, device, weights, **kw):
        out = event
    assert isinstance(out, BuiltModel)
    return out


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that follows a conv into that conv's weights (in place).

    Module paths stay the same (the conv is changed in place, the BN becomes an Identity), so forward hooks
    on graph nodes still work. No module is made for a conv: that (and its random initialisation, thrown
    away) was most of the time, on a thread that shares the interpreter with the window.
    """
    for mod in model.modules():
        conv, bn = getattr(mod, "conv", None), getattr(mod, "bn", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
            with torch.no_grad():
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                bias = (bias - bn.running_mean) * scale + bn.bias
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                if conv.bias is None:
                    conv.bias = nn.Parameter(bias, requires_grad=conv.weight.requires_grad)
                else:
                    conv.bias.copy_(bias)
            mod.bn = nn.Identity()
    return model


def copy_model(model: nn.Module, every_s: float = 0.001, pause_s: float = 0.001) -> nn.Module:
    """``copy.deepcopy(model)``, made a submodule at a time with a ``pause_s`` sleep every ``every_s`` of work.

    A deep copy is pure Python (~40 ms for a small GoogLeNet) and holds the interpreter throughout. On a worker
    thread while the GUI thread paints, each of the GUI's many calls into Qt then waited for the interpreter:
    a stand-in for a paint (300 such calls) took 222 ms instead of 38 beside a plain deepcopy, 78 with a 0.5 ms
    pause every 2 ms, 44 with 1 ms every 1 ms (the copy then takes twice as long, on a thread nobody waits
    for). One memo serves the whole copy, so shared parameters stay shared, as with deepcopy.
    """
    memo: dict[int, Any] = {}
    last = [time.perf_counter()]

    def walk(module: nn.Module) -> nn.Module:
        for child in module._modules.values():
            if child is not None and id(child) not in memo:
                walk(child)
        new = copy.deepcopy(module, memo)  # its children are in the memo already: only this level is copied
        if time.perf_counter() - last[0] > every_s:
            time.sleep(pause_s)
            last[0] = time.perf_counter()
        return new

    return walk(model)
