"""Where a model's weights come from, and how they reach a (possibly edited) spec.

Owns the weights choice the GUI's Model menu and the CLI offer — random init, one of our checkpoints,
pretrained ImageNet weights (downloaded through torchvision / timm, or read from a local reference
file) — turned into a state dict in *our* key names, and carrying that state dict over to the spec
being built: blocks whose tensors still fit keep them, the others are re-initialised and reported as
graph block ids ("b:<block>", "head", "aux:<name>") so the graph view can mark them. No Qt.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.spec import ArchSpec
from ..errors import WeightsError

if TYPE_CHECKING:
    import torch

# torch (and core.weights, which needs it) is imported on first use, so that a GUI can describe
# weights choices before torch has loaded.

WEIGHT_KINDS = ("random", "checkpoint", "pretrained")

# Key fragments that tell the reference state dicts apart without building a model for each.
_SIGNATURES: tuple[tuple[str, str], ...] = (
    ("inception3a.", "torchvision:googlenet"),
    ("Mixed_5b.", "torchvision:inception_v3"),
    ("features.", "timm:inception_v4"),
    ("mixed_5b.", "timm:inception_resnet_v2"),
)


@dataclass(frozen=True)
class WeightsChoice:
    """What to initialise a model from: random, a checkpoint file, or a pretrained reference source."""

    kind: str = "random"  # one of WEIGHT_KINDS
    path: str = ""  # checkpoint file, or a local reference weights file for "pretrained"
    source: str = ""  # "torchvision:googlenet", ... for "pretrained" ("" = guess from the file / spec)

    def __post_init__(self) -> None:
        if self.kind not in WEIGHT_KINDS:
            raise WeightsError(f"weights: unknown kind '{self.kind}' (one of {', '.join(WEIGHT_KINDS)})")
        if self.kind == "checkpoint" and not self.path:
            raise WeightsError("weights: a checkpoint choice needs a file path")

    @classmethod
    def random(cls) -> WeightsChoice:
        """Random initialisation."""
        return cls("random")

    @classmethod
    def checkpoint(cls, path: str | os.PathLike) -> WeightsChoice:
        """One of our checkpoints (.safetensors with the spec inside)."""
        return cls("checkpoint", path=str(path))

    @classmethod
    def pretrained(cls, source: str = "", path: str | os.PathLike | None = None) -> WeightsChoice:
        """Pretrained ImageNet weights: downloaded for ``source``, or read from a local reference file."""
        return cls("pretrained", path=str(path) if path else "", source=source)

    @property
    def label(self) -> str:
        """How the weights are described to a user: "random init", "checkpoint: x.safetensors", ..."""
        if self.kind == "random":
            return "random init"
        if self.kind == "checkpoint":
            return f"checkpoint: {Path(self.path).name}"
        where = f" ({Path(self.path).name})" if self.path else ""
        return f"pretrained: {self.source or 'reference'}{where}"


@dataclass
class Weights:
    """A state dict in our key names, with what came with it."""

    state_dict: dict[str, torch.Tensor] | None
    label: str = "random init"
    spec: ArchSpec | None = None  # the spec the weights were made for
    class_names: list[str] = field(default_factory=list)
    mean: tuple[float, ...] | None = None  # normalisation the weights expect, when it differs from the preset
    std: tuple[float, ...] | None = None


def pretrained_sources(spec: ArchSpec) -> list[str]:
    """Reference sources whose weights fit ``spec``'s preset (the first is the best match)."""
    from ..core import weights as W
    out = [spec.weights_source] if spec.weights_source in W.SOURCES else []
    out += [s for s, (preset, _) in W.SOURCES.items() if preset == spec.name and s not in out]
    return out


def guess_source(state_dict: dict[str, torch.Tensor], name: str = "weights") -> str:
    """Which reference a state dict comes from, by its key names; WeightsError when none matches."""
    for fragment, source in _SIGNATURES:
        if any(k.startswith(fragment) or f".{fragment}" in k for k in state_dict):
            return source
    raise WeightsError(f"{name}: not a torchvision/timm Inception state dict (choose its source explicitly)")


Downloader = Callable[[str], Any]  # source -> reference state dict


def resolve_weights(choice: WeightsChoice, spec: ArchSpec | None = None,
                    download: Downloader | None = None) -> Weights:
    """Read, download or import what ``choice`` names, as a state dict in our key names."""
    from ..core import weights as W
    if choice.kind == "random":
        return Weights(None, choice.label)
    if choice.kind == "checkpoint":
        ck = W.load_checkpoint(choice.path)
        return Weights(ck.state_dict, choice.label, ck.spec, list(ck.class_names))
    name = Path(choice.path).name if choice.path else (choice.source or "pretrained weights")
    if choice.path:
        ref = W.read_state_dict(choice.path)
        source = choice.source or guess_source(ref, name)
    else:
        source = choice.source or (pretrained_sources(spec)[0] if spec is not None and pretrained_sources(spec) else "")
        if not source:
            raise WeightsError(f"{spec.name if spec else 'spec'}: no pretrained weights exist for this variant "
                               f"(weight-compatible: {', '.join(W.SOURCES)})")
        ref = (download or W.download_reference)(source)
    model = W.import_reference(source, ref, name=name, pretrained_transform=True)
    label = f"pretrained: {source}" + (f" ({name})" if choice.path else "")
    ref_spec = model.spec
    return Weights(model.state_dict(), label, ref_spec, [], ref_spec.mean, ref_spec.std)


def block_ids(prefixes: list[str]) -> list[str]:
    """Graph node ids for carry_over's prefixes: stages.<s>.<b> -> b:<b>, head -> head, aux.<a> -> aux:<a>."""
    out: list[str] = []
    for p in prefixes:
        parts = p.split(".")
        if parts[0] == "stages" and len(parts) >= 3:
            out.append(f"b:{parts[2]}")
        elif parts[0] == "aux" and len(parts) >= 2:
            out.append(f"aux:{parts[1]}")
        else:
            out.append(parts[0])
    return out


def apply_weights(model: torch.nn.Module, weights: Weights) -> tuple[list[str], list[str]]:
    """Load ``weights`` into ``model`` where they fit; returns (loaded ids, re-initialised ids) as graph ids.

    Raises WeightsError when nothing at all fits, which means the weights belong to another network.
    """
    from ..core import weights as W
    if weights.state_dict is None:
        return [], []
    loaded, fresh = W.carry_over(model, weights.state_dict)
    if not loaded:
        theirs = weights.spec.name if weights.spec is not None else "another network"
        ours = getattr(getattr(model, "spec", None), "name", "this spec")
        raise WeightsError(f"{weights.label}: none of its weights fit {ours} (they are for {theirs})")
    return block_ids(loaded), block_ids(fresh)


def spec_for_weights(spec: ArchSpec, weights: Weights) -> ArchSpec:
    """``spec`` with the input normalisation the weights expect (torchvision's TF-ported weights want 0.5/0.5)."""
    if weights.mean is None or weights.std is None:
        return spec
    if spec.in_channels != len(weights.mean):
        return spec
    return replace(spec, mean=tuple(weights.mean), std=tuple(weights.std))
