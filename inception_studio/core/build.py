"""build_model(spec): the one builder that turns any valid ArchSpec into a torch.nn.Module."""
from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn

from ..errors import ResourceError
from .analysis import analyze
from .trace import trace
from .blocks import AuxClassifier, Classifier, ModelOutput, make_block
from .memory import fits, format_bytes, ram_available
from .spec import ArchSpec, validate_structure


def check_buildable(spec: ArchSpec, available: int | None = None, batch_size: int = 1) -> None:
    """Refuse, with the memory it would need, a spec whose weights and activations won't fit in RAM
    (core.memory's policy: ``available`` defaults to the RAM free now)."""
    summary = analyze(spec)
    need = summary.memory_bytes(batch_size, training=False)
    have = ram_available() if available is None else available
    if have is not None and not fits(need, have):
        raise ResourceError(f"{spec.name}: building this model needs about {format_bytes(need)} "
                            f"({summary.params:,} parameters), but only {format_bytes(have)} is available")


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
        """Initialise for training from scratch, so the first loss is close to ln(classes).

        With batch norm: He init (fan-out), as torchvision and timm. Without it nothing rescales the
        signal between layers, and He init on 1x1 reductions (fan-out 16, fan-in 192) multiplies it by
        ~10 per block: GoogLeNet-paper's logits started near 50. So the BN-free presets use what their
        reference, Caffe's bvlc_googlenet, uses: "xavier" (uniform, variance 1/fan-in) and a bias of 0.2
        that keeps the ReLUs alive. Classifier layers start small (N(0, 0.01)), so the first
        predictions are near uniform with or without batch norm.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if self.spec.bn:
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                else:
                    bound = math.sqrt(3.0 / max(1, m.weight[0].numel()))
                    nn.init.uniform_(m.weight, -bound, bound)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0 if self.spec.bn else 0.2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)
        for head in (self.head, *self.aux.values()):
            nn.init.normal_(head.fc.weight, 0, 0.01)
            nn.init.zeros_(head.fc.bias)

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


def output_module(model: nn.Module, module_path: str) -> nn.Module | None:
    """The module whose output is ``module_path``'s output, None if the model has no such path.

    The model runs a stage block by block (for the aux heads), never as a whole Sequential, so a
    stage's output is its last block's.
    """
    try:
        target = model.get_submodule(module_path)
    except AttributeError:
        return None
    parts = module_path.split(".")
    if len(parts) == 2 and parts[0] == "stages" and isinstance(target, nn.Sequential) and len(target):
        target = target[-1]
    return target


def build_model(spec: ArchSpec, check_memory: bool = True) -> InceptionNet:
    """Build ``spec`` as a module (validated first; refused with a memory estimate if it can't fit)."""
    validate_structure(spec)
    if check_memory:
        check_buildable(spec)
    else:
        trace(spec)
    return InceptionNet(spec)
