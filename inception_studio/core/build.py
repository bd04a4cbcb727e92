"""build_model(spec): the one builder that turns any valid ArchSpec into a torch.nn.Module."""
from __future__ import annotations

import os
from collections import OrderedDict

import torch
from torch import nn

from ..errors import ResourceError
from .analysis import analyze, trace
from .blocks import AuxClassifier, Classifier, ModelOutput, make_block
from .spec import ArchSpec, validate_structure


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def available_ram() -> int:
    """Bytes of RAM available now (MemAvailable), or total RAM where that can't be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_buildable(spec: ArchSpec, available: int | None = None, batch_size: int = 1) -> None:
    """Refuse, with the memory it would need, a spec whose weights and activations won't fit."""
    summary = analyze(spec)
    need = summary.memory_bytes(batch_size, training=False)
    have = available_ram() if available is None else available
    if need > 0.8 * have:
        raise ResourceError(f"{spec.name}: building this model needs about {_gib(need)} "
                            f"({summary.params:,} parameters), but only {_gib(have)} is available")


class InceptionNet(nn.Module):
    """Any Inception-family network: ``stages`` (ModuleDict of Sequentials of blocks), ``aux``, ``head``."""

    def __init__(self, spec: ArchSpec):
        super().__init__()
        self.spec = spec
        t = trace(spec)
        cin = spec.in_channels
        self.stages = nn.ModuleDict()
        for stage in spec.stages:
            seq = nn.Sequential(OrderedDict())
            for block in stage.blocks:
                mod, cin = make_block(block, cin, spec.bn, spec.bn_eps)
                seq.add_module(block.name, mod)
            self.stages[stage.name] = seq  # N x C x H x W per the trace
        self.aux = nn.ModuleDict()
        for info in t.aux:
            self.aux[info.aux.name] = AuxClassifier(info.aux, info.in_shape[0], info.features, spec.num_classes,
                                                    spec.bn, spec.bn_eps)
        self._aux_at = {(a.stage, a.index): a.name for a in spec.active_aux}
        self.head = Classifier(spec.head.kind, cin, spec.num_classes, spec.head.dropout)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the stages; also return aux logits when training with aux heads on."""
        aux_out: list[torch.Tensor] = []
        want_aux = self.training and bool(self._aux_at)
        for name, stage in self.stages.items():
            for i, block in enumerate(stage):
                x = block(x)
                if want_aux and (name, i) in self._aux_at:
                    aux_out.append(self.aux[self._aux_at[(name, i)]](x))
        return x, aux_out

    def forward(self, x: torch.Tensor):
        x, aux_out = self.forward_features(x)
        logits = self.head(x)
        if aux_out:
            return ModelOutput(logits, tuple(aux_out))
        return logits


def build_model(spec: ArchSpec, check_memory: bool = True) -> InceptionNet:
    """Build ``spec`` as a module (validated first; refused with a memory estimate if it can't fit)."""
    validate_structure(spec)
    if check_memory:
        check_buildable(spec)
    else:
        trace(spec)
    return InceptionNet(spec)
