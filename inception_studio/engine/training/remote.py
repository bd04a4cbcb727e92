"""Training in a child process (``engine.remote``): the job the child runs and what its result becomes. No Qt.

Everything ``train()`` yields pickles except ``DoneEvent.model``. The child writes the trained weights to
a temporary safetensors file and sends ``RemoteDone`` (the event without its model, and that file); the
GUI process rebuilds the model from it on its engine thread (:func:`load_done`). Weights that go in also
go by file, not through the socket: the current model's (``current_path``) and a checkpoint to resume
(``resume_path``), which the child reads itself.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inception_studio.engine.training.events import DoneEvent

TARGET = "inception_studio.engine.training.remote:train_job"  # what the GUI asks the child to run
ESTIMATE = "inception_studio.engine.training.remote:estimate_job"  # the time per epoch, timed in a child


@dataclass(frozen=True)
class RemoteDone:
    """A DoneEvent from the child: ``event.model`` is None, the trained weights are in ``weights`` (a file)."""

    event: DoneEvent
    weights: str


def save_weights(model_or_state: Any, folder: str | None = None) -> str:
    """Write a model's (or state dict's) tensors to a new temporary safetensors file; returns its path."""
    import torch

    from inception_studio.core.weights import write_tensors

    sd = model_or_state.state_dict() if isinstance(model_or_state, torch.nn.Module) else model_or_state
    fd, path = tempfile.mkstemp(prefix="inception-weights-", suffix=".safetensors", dir=folder)
    os.close(fd)
    write_tensors(path, sd)
    return path


def read_weights(path: str, remove: bool = False) -> dict:
    """The tensors of a file :func:`save_weights` wrote (deleted afterwards with ``remove``)."""
    from safetensors.torch import load_file

    try:
        return load_file(path)
    finally:
        if remove:
            Path(path).unlink(missing_ok=True)


def train_job(cfg, spec, data, start_from: str = "scratch", current_path: str | None = None,
              resume_path: str | None = None, **kw) -> Iterator[Any]:
    """The child's job: the initial weights (a download may happen here), then ``train``'s events."""
    from inception_studio.engine import train as T

    if resume_path:
        init = T.load_resume(resume_path)
    else:
        current = read_weights(current_path, remove=True) if current_path else None
        init = T.start_weights(start_from, spec, current)
    for ev in T.train(cfg, spec, data, init_state=init, **kw):
        if isinstance(ev, DoneEvent):
            prepare_for_inference(ev)
            yield RemoteDone(replace(ev, model=None), save_weights(ev.model))
        else:
            yield ev


def estimate_job(spec, cfg, train_count: int, num_classes: int, should_stop=lambda: False, **_live):
    """The child's time estimate (``probe.estimate_epoch``: a few timed training steps). Timed in the GUI's
    process they held its interpreter and a core for seconds; None when stopped (a run started)."""
    from inception_studio.engine.training.probe import estimate_epoch

    return estimate_epoch(spec, cfg, train_count, num_classes, should_stop=should_stop)


def prepare_for_inference(done: DoneEvent) -> None:
    """Export the trained model to the ONNX cache here, where it cannot stall the GUI: on the CPU the GUI's
    Predictor classifies trained weights in onnxruntime, and finds this export by the weights' hash."""
    if done.device != "cpu" or done.spec is None:
        return
    try:
        from inception_studio.engine.infer import export_ahead

        export_ahead(done.model, done.spec)
    except Exception:  # noqa: BLE001 - the GUI then exports (or falls back to PyTorch) and says why
        import logging

        logging.getLogger(__name__).warning("no ONNX export of the trained model ahead of the GUI", exc_info=True)


def load_done(remote: RemoteDone) -> DoneEvent:
    """The DoneEvent with its model rebuilt from the child's weights (eval mode, on the run's device)."""
    import torch

    from inception_studio.core.build import build_model

    ev = remote.event
    state = read_weights(remote.weights, remove=True)
    model = build_model(ev.spec)
    model.load_state_dict(state)
    model.eval()
    if ev.device != "cpu":
        model = model.to(torch.device(ev.device))
    return replace(ev, model=model)
