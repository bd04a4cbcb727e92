"""DistributedDataParallel helpers: read torchrun's environment, start and end the process group.

Under ``torchrun --nproc-per-node N -m inception_studio train ...`` every process sees WORLD_SIZE,
RANK and LOCAL_RANK; ``DistContext.from_env`` turns them into a process group ("nccl" on CUDA,
"gloo" otherwise) and a device per process. Without those variables it is a single process and
every collective here is a no-op, so the training loop has one code path. No Qt.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from inception_studio.core.names import first_line
from inception_studio.errors import ResourceError


def _env_int(name: str, default: int) -> int:
    """An integer environment variable; ResourceError naming it when it is not a number."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ResourceError(f"{name}: expected a whole number, got {raw!r}") from None


def _store():
    """The default process group's key-value store (None when there is none)."""
    try:
        from torch.distributed import distributed_c10d

        return distributed_c10d._get_default_store()
    except Exception:  # noqa: BLE001 - private API: absent on some builds
        return None


def is_stall_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective that gave up waiting for another rank (a timeout or a lost peer)."""
    text = str(exc).lower()
    return isinstance(exc, getattr(dist, "DistError", RuntimeError)) or any(
        k in text for k in ("timed out", "timeout", "connection closed by peer", "connection reset"))


@dataclass
class DistContext:
    """Where this process sits in a distributed run (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes checkpoints and logs."""
        return self.rank == 0

    @classmethod
    def from_env(cls, device: torch.device | None = None, timeout_s: float = 300.0) -> DistContext:
        """Join the process group torchrun describes in the environment (if any) and return the context."""
        world = _env_int("WORLD_SIZE", 1)
        if world <= 1:
            return cls()
        rank = _env_int("RANK", 0)
        local = _env_int("LOCAL_RANK", rank)
        if dist.is_initialized():  # someone (a test, a launcher) already set the group up
            return cls(dist.get_rank(), dist.get_world_size(), local, str(dist.get_backend()), False)
        if not dist.is_available():
            raise ResourceError("WORLD_SIZE is set but this torch build has no torch.distributed")
        use_cuda = (device is None or device.type == "cuda") and torch.cuda.is_available()
        backend = "nccl" if use_cuda else "gloo"
        if use_cuda:
            torch.cuda.set_device(local % max(1, torch.cuda.device_count()))
        try:
            dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
        except (RuntimeError, ValueError) as exc:
            raise ResourceError(f"distributed start-up failed on rank {rank}/{world} ({first_line(exc)})") from None
        return cls(rank, world, local, backend, True)

    def device_for(self, requested: torch.device) -> torch.device:
        """The device this rank trains on: its own GPU (cuda:LOCAL_RANK) under NCCL, else ``requested``."""
        if self.enabled and requested.type == "cuda":
            return torch.device("cuda", self.local_rank % max(1, torch.cuda.device_count()))
        return requested

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all ranks in place (no-op for one process) and return it."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def all_gather_int(self, value: int) -> list[int]:
        """Every rank's ``value``, in rank order (``[value]`` for one process)."""
        if not self.enabled:
            return [int(value)]
        dev = torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")
        out = [torch.zeros(1, dtype=torch.long, device=dev) for _ in range(self.world_size)]
        dist.all_gather(out, torch.tensor([int(value)], dtype=torch.long, device=dev))
        return [int(t.item()) for t in out]

    def heartbeat(self, step: int) -> None:
        """Publish this rank's step in the rendezvous store, so a rank left waiting can tell who stalled."""
        store = _store() if self.enabled else None
        if store is not None:
            try:
                store.set(f"inception_studio/step/{self.rank}", str(int(step)))
            except Exception:  # noqa: BLE001 - a diagnostic only: never let it end a run
                pass

    def describe_stall(self, timeout_s: float) -> str:
        """One line for a collective that timed out: which rank(s) fell behind, from their heartbeats."""
        steps: dict[int, int | None] = {}
        store = _store()
        for r in range(self.world_size):
            try:
                store.wait([f"inception_studio/step/{r}"], datetime.timedelta(seconds=1))
                steps[r] = int(store.get(f"inception_studio/step/{r}"))
            except Exception:  # noqa: BLE001 - missing key or a dead store: unknown
                steps[r] = None
        known = [s for s in steps.values() if s is not None]
        ahead = max(known) if known else None
        late = [r for r, s in steps.items() if r != self.rank and (s is None or (ahead is not None and s < ahead))]
        if not late:
            late = [r for r in steps if r != self.rank]
        where = ", ".join(f"rank {r} (last seen at step {steps[r]})" if steps[r] is not None else
                          f"rank {r} (never reported)" for r in late)
        return (f"distributed training: rank {self.rank}/{self.world_size} waited {timeout_s:g} s for {where}; "
                "that process stalled or died (raise --ddp-timeout if its steps are just slow)")

    def barrier(self) -> None:
        """Wait for every rank (no-op for one process)."""
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group if this context created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False
