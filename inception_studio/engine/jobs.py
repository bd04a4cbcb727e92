"""Engine jobs the GUI runs on its worker lane: build a Predictor with progress, move it to another
device, resolve a graph selection to a module, inspect that module for one image, export an ONNX copy.

Each is a plain function (or a generator of BuildEvents), Qt-free, on top of ``infer``.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.spec import ArchSpec
from . import device as D
from .building import (
    BuildEvent,
    BuiltModel,
    build_on_device,
    check_inference_memory,
    copy_model,
    resolve_with_progress,
    to_device,
)
from .infer import Predictor
from .loading import Weights, WeightsChoice

# Predictor's "auto" backend: on the CPU, trained weights classify in onnxruntime (exported once per weights,
# cached); feature maps and Grad-CAM always run the PyTorch module.
_PREDICTOR_STEP = "preparing the model for inference (onnxruntime export, once per weights, on the CPU)"


def build_predictor(spec: ArchSpec, device: str | torch.device | None = None,
                    weights: WeightsChoice | Weights | None = None, class_names: Sequence[str] | None = None,
                    download=None) -> Iterator[BuildEvent]:
    """Build on a device and wrap in a Predictor; yields BuildEvents, returns (BuiltModel, Predictor, Weights).

    The resolved Weights are returned so a later rebuild of an edited spec reuses them (no new download).
    """
    if weights is not None and not isinstance(weights, Weights) and weights.kind != "random":
        check_inference_memory(spec, D.resolve_device(device))  # refuse before a long download, not after it
    weights = yield from resolve_with_progress(weights, spec, download)
    built = None
    for event in build_on_device(spec, device, weights, class_names):
        if isinstance(event, BuiltModel):
            built = event
        else:
            yield event
    yield BuildEvent("predictor", _PREDICTOR_STEP, 0.95)
    return built, Predictor(built), weights


def move_built(built: BuiltModel, device: str | torch.device | None) -> Iterator[BuildEvent]:
    """A copy of ``built`` on another device (memory checked, OOM refused); returns (BuiltModel, Predictor)."""
    dev = D.resolve_device(device)
    yield BuildEvent("memory", f"checking memory on {dev}", 0.1)
    check_inference_memory(built.spec, dev)
    yield BuildEvent("device", f"moving {built.spec.name} to {dev}", 0.4)
    model = to_device(copy_model(built.model), dev, built.spec.name).eval()
    moved = replace(built, model=model, device=str(dev))
    yield BuildEvent("predictor", _PREDICTOR_STEP, 0.9)
    return moved, Predictor(moved)


@dataclass(frozen=True)
class NodeTarget:
    """Which module to show for a graph node, and where its Grad-CAM is taken."""

    node: str  # graph node id actually shown
    module: str
    label: str
    title: str
    branches: bool  # an Inception / residual block: show the per-branch view
    cam_module: str
    cam_label: str


@functools.lru_cache(maxsize=4)
def _graph(spec: ArchSpec):
    """The block graph of ``spec`` (read only here; cached: the GUI asks on every image it shows)."""
    from ..core.graph import build_graph
    return build_graph(spec)


def node_target(spec: ArchSpec, node_id: str | None) -> NodeTarget:
    """Resolve a graph selection: the module it shows (core.graph's rule), else the last block (no selection,
    an in port, a node with nothing to show).

    Grad-CAM is taken at the block that holds the node (the last block when the node is outside any block).
    """
    graph = _graph(spec)
    last = graph.nodes[f"b:{spec.stages[-1].blocks[-1].name}"]
    node = graph.module_node(node_id or "")
    note = ""
    if node is None:
        note = f"{node_id}: nothing to show there; showing the last block — " if node_id else ""
        node = last
    shape = f" — {node.shape[0]} channels, {node.shape[1]}x{node.shape[2]}" if node.shape and len(node.shape) == 3 else ""
    block_id = graph.block_of(node.id)
    block = graph.nodes.get(block_id) if block_id else None
    cam = block if block is not None else last
    return NodeTarget(node.id, node.module, node.label, f"{note}{node.label} ({node.kind}){shape}",
                      node.kind in ("inception", "residual"), cam.module, f"block {cam.label}")


@dataclass
class NodeView:
    """What the feature-map panel shows for one node and image."""

    module: str
    maps: np.ndarray | None = None  # CxHxW (or a vector) float32
    branches: list[tuple[str, np.ndarray]] = field(default_factory=list)
    cam: np.ndarray | None = None
    cam_module: str = ""
    note: str = ""


def inspect_node(predictor: Predictor, image: Any, module: str, branches: bool = False,
                 cam_module: str | None = None) -> NodeView:
    """Feature maps of ``module`` (and per-branch means, and a Grad-CAM) for one image, in one call."""
    view = NodeView(module)
    if module:
        maps = predictor.feature_maps(image, [module])
        if module in maps:
            view.maps = maps[module].numpy()
        else:
            view.note = f"'{module}' does not run at inference (aux heads only run while training)"
        if branches and view.maps is not None:
            view.branches = predictor.branch_maps(image, module)
    if cam_module is not None:
        view.cam_module = cam_module or predictor.last_block_path()
        view.cam = predictor.gradcam(image, view.cam_module)
    return view


def export_copy(model: nn.Module, spec: ArchSpec, path: str | os.PathLike):
    """Export a CPU copy of ``model`` to ONNX (the original keeps running where it is); returns the ExportReport."""
    from .export import export_onnx
    cpu = copy_model(model).to("cpu").to(memory_format=torch.contiguous_format).float().eval()
    return export_onnx(cpu, spec, path)
