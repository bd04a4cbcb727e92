"""The training sampler: DistributedSampler (also for one process) that can skip the batches a
resumed run has already done in its current epoch."""
from __future__ import annotations

from itertools import islice
from typing import Any

from torch.utils.data import DistributedSampler


class ResumableSampler(DistributedSampler):
    """Shuffles per epoch like DistributedSampler; ``skip`` drops that many samples from the start."""

    def __init__(self, dataset: Any, world: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self):
        return islice(super().__iter__(), self.skip, None)

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)
