"""Stopping inside a training step: interrupt points in the forward and backward pass, and the undo of
what an abandoned step changed. No Qt.

A step takes a few hundred milliseconds on a CPU; a stop polled only between steps waits for the rest
of it. ``StepInterrupter`` hooks every block of the network's stages: after the block's forward pass,
and when the gradient of its output arrives in the backward pass, it raises ``StopRequested`` if a
stop was asked (outputs that need no gradient, those of frozen parts, get no backward check). The
step is then abandoned: its gradients are dropped, the optimizer step is not taken, and the batch-norm
running statistics that the partial forward pass moved are put back from copies refreshed before each
step (one ``torch._foreach_copy_``), so the model is exactly as after the last completed step. The
hooks raise only while armed (a step, a validation, the feature pass of a classifier-only run), never
in other forward passes (feature maps, the final evaluation, an export). Used only in one process: DDP
ranks must stay in lockstep, so they agree on a stop between steps.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


class StopRequested(Exception):
    """A stop was asked during a training step or a validation: what it had begun is abandoned."""


def moving_statistics(model: nn.Module, frozen: Sequence[str] = ()) -> list[torch.Tensor]:
    """The buffers a training forward pass changes: running mean, running variance and batch count of
    every batch-norm layer outside the ``frozen`` module paths (frozen parts stay in eval mode)."""
    still = {id(m) for path in frozen for m in model.get_submodule(path).modules()}
    stats: list[torch.Tensor] = []
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and id(m) not in still:
            stats += [b for b in (m.running_mean, m.running_var, m.num_batches_tracked) if b is not None]
    return stats


class StepInterrupter:
    """Interrupt points on the blocks of ``model.stages`` that raise StopRequested when armed and
    ``should_stop()`` is true; :meth:`step` undoes an abandoned step (see the module docstring)."""

    def __init__(self, model: nn.Module, should_stop: Callable[[], bool], frozen: Sequence[str] = ()) -> None:
        self.model, self.should_stop = model, should_stop
        self.is_armed = False
        self.tripped = False  # a hook raised StopRequested in the current step
        blocks = [block for stage in model.stages.values() for block in stage]
        self.handles = [b.register_forward_hook(self._after_forward) for b in blocks]
        self.stats = moving_statistics(model, frozen)
        self.saved = [s.clone() for s in self.stats]

    def check(self, *_: object) -> None:
        """Raise StopRequested when armed and a stop was asked (a forward hook and a tensor hook)."""
        if self.is_armed and self.should_stop():
            self.tripped = True
            raise StopRequested

    def _after_forward(self, _module: nn.Module, _inputs: object, out: object) -> None:
        self.check()
        if self.is_armed and isinstance(out, torch.Tensor) and out.requires_grad:
            out.register_hook(self.check)

    @contextmanager
    def armed(self) -> Iterator[None]:
        """Let the hooks raise inside the ``with`` block (for passes that change nothing to undo)."""
        self.is_armed = True
        try:
            yield
        finally:
            self.is_armed = False

    @contextmanager
    def step(self) -> Iterator[None]:
        """Armed around one forward + backward; after a stop the gradients are dropped, the batch-norm
        statistics restored and StopRequested raised. Autograd has re-raised errors from inside a
        backward pass as RuntimeError in some releases (pytorch#46088): ``tripped`` tells a stop from
        a real error whatever type arrives."""
        if self.stats:
            torch._foreach_copy_(self.saved, self.stats)
        self.tripped = False
        try:
            with self.armed():
                yield
        except Exception:
            if not self.tripped:
                raise
            self.model.zero_grad(set_to_none=True)
            if self.stats:
                torch._foreach_copy_(self.stats, self.saved)
            raise StopRequested from None

    def close(self) -> None:
        """Remove the hooks."""
        for h in self.handles:
            h.remove()
        self.handles = []
