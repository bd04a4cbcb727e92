"""Checkpoint files of a training run: where they go, and the resume state kept beside them.

A run writes ``model.safetensors`` (the last weights, a core.weights checkpoint), ``model.best.safetensors``
(the best validation accuracy so far) and ``model.state.safetensors``: the optimizer state flattened to
tensors named ``optimizer.<param>.<name>`` plus, in the safetensors header, its scalars, param groups and
the run's counters (epoch, batch in epoch, step, best accuracy, optimizer name) as JSON. Nothing is
pickled. ``load_resume`` reads both files back into a ``ResumeState``. No Qt.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inception_studio.core.names import first_line
from inception_studio.core.spec import ArchSpec
from inception_studio.core.weights import atomic_write, load_checkpoint, write_tensors
from inception_studio.errors import WeightsError

STATE_FORMAT = "inception-studio-train-state"


def state_path(checkpoint: str | os.PathLike[str]) -> Path:
    """The resume-state file beside a checkpoint: model.safetensors -> model.state.safetensors."""
    p = Path(checkpoint)
    stem = p.name[: -len(".safetensors")] if p.name.endswith(".safetensors") else p.name
    return p.with_name(stem + ".state.safetensors")


def best_path(checkpoint: str | os.PathLike[str]) -> Path:
    """The best-accuracy checkpoint beside the last one: model.safetensors -> model.best.safetensors."""
    p = Path(checkpoint)
    stem = p.name[: -len(".safetensors")] if p.name.endswith(".safetensors") else p.name
    return p.with_name(stem + ".best.safetensors")


@dataclass
class ResumeState:
    """A checkpoint to continue: spec, weights, classes, optimizer state (may be empty) and counters."""

    spec: ArchSpec
    state_dict: dict[str, torch.Tensor]
    class_names: list[str]
    optimizer: dict[str, Any] | None
    epoch: int = 0  # completed epochs
    batch: int = 0  # batches done in the epoch in progress
    step: int = 0
    best_acc: float = -1.0
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    optimizer_name: str = ""
    data_root: str = ""  # the dataset folder the run trained on


def save_train_state(path: str | os.PathLike[str], optimizer: torch.optim.Optimizer | None,
                     counters: dict[str, Any]) -> None:
    """Write optimizer tensors (flattened, "optimizer.<param>.<name>") and counters (JSON header) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    if optimizer is not None:
        sd = optimizer.state_dict()
        for idx, st in sd["state"].items():
            for name, value in st.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{idx}.{name}"] = value
                else:
                    scalars[f"{idx}.{name}"] = value
        groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    header = {"format": STATE_FORMAT, "version": "1",
              "has_optimizer": json.dumps(optimizer is not None),
              "param_groups": json.dumps(groups), "scalars": json.dumps(scalars),
              "counters": json.dumps(counters, default=str)}
    if not tensors:  # safetensors wants at least one tensor to be a useful file on every version
        tensors["counters.step"] = torch.tensor([int(counters.get("step", 0))])
    atomic_write(path, lambda tmp: write_tensors(tmp, tensors, header))


def _read_train_state(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(optimizer state dict or None, counters) from a state file; WeightsError when unreadable."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            if meta.get("format") != STATE_FORMAT:
                raise WeightsError(f"{path.name}: not an Inception Studio training-state file")
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        counters = json.loads(meta.get("counters", "{}"))
        if not json.loads(meta.get("has_optimizer", "false")):
            return None, counters
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for key, value in json.loads(meta.get("scalars", "{}")).items():
            idx, name = key.split(".", 1)
            state.setdefault(int(idx), {})[name] = value
        groups = json.loads(meta.get("param_groups", "[]"))
        for g in groups:
            if isinstance(g.get("betas"), list):
                g["betas"] = tuple(g["betas"])
        return {"state": state, "param_groups": groups}, counters
    except WeightsError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt header/JSON: one line, never a traceback
        raise WeightsError(f"{path.name}: not a readable training-state file ({first_line(exc)})") from None


def load_resume(path: str | os.PathLike[str]) -> ResumeState:
    """Read a checkpoint and the state file beside it; without one, resume its weights from step 0."""
    p = Path(path)
    ck = load_checkpoint(p)
    meta = ck.metadata or {}
    sp = state_path(p)
    if not sp.is_file():
        return ResumeState(ck.spec, ck.state_dict, ck.class_names, None, config=meta.get("config", {}),
                           note=f"{sp.name} not found: continuing from the weights only, optimizer state and "
                                "counters start afresh", data_root=str(meta.get("data", "")))
    opt_state, counters = _read_train_state(sp)
    note = ""
    if counters.get("step") != meta.get("step"):
        opt_state, counters = None, {}
        note = f"{sp.name} belongs to a different save of {p.name}: continuing from the weights only"
    elif opt_state is None:
        note = "the optimizer state was not kept (the run ended on a non-finite loss); it starts afresh"
    return ResumeState(ck.spec, ck.state_dict, ck.class_names, opt_state, int(counters.get("epoch", 0)),
                       int(counters.get("batch", 0)), int(counters.get("step", 0)),
                       float(counters.get("best_acc", -1.0)), meta.get("config", {}), note,
                       str(counters.get("optimizer", "")), str(meta.get("data", "")))
