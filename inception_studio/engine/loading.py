"""Where a model's weights come from, and how they reach a (possibly edited) spec.

Owns the weights choice the GUI's Model menu and the CLI offer — random init, one of our checkpoints,
pretrained ImageNet weights (downloaded through torchvision / timm, or read from a local reference
file) — turned into a state dict in *our* key names, and carrying that state dict over to the spec
being built: blocks whose tensors still fit keep them, the others are re-initialised and reported as
graph block ids ("b:<block>", "head", "aux:<name>") so the graph view can mark them. Also what a name
or record says to build (``network_of``: a variant name, a spec, a spec file, a checkpoint). Which
released weights exist, and what each expects, is core.sources' registry. No Qt.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.sources import get_source, guess_source, no_weights_for, pretrained_sources
from ..core.spec import ArchSpec, read_spec_file
from ..errors import StudioError, WeightsError

if TYPE_CHECKING:
    import torch

    from ..core.weights import Checkpoint

# torch (and core.weights, which needs it) is imported on first use, so that a GUI can describe
# weights choices before torch has loaded.

WEIGHT_KINDS = ("random", "checkpoint", "pretrained")
log = logging.getLogger(__name__)


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

    @classmethod
    def pretrained_for(cls, spec: ArchSpec, path: str | os.PathLike | None = None) -> WeightsChoice:
        """The released weights of ``spec``'s preset (downloaded, or the local file ``path``); WeightsError if none."""
        sources = pretrained_sources(spec)
        if not sources and not path:
            raise no_weights_for(spec)
        return cls.pretrained(sources[0] if sources else "", path)

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
    """What a WeightsChoice resolved to: a state dict in our key names (None: random init), with its provenance.

    Unlike a Checkpoint (a file's contents) it may be nothing at all, and it says where it came from:
    ``label`` for people, ``source`` (a core.sources name) when they are released weights, whose record
    says which input normalisation they expect.
    """

    state_dict: dict[str, torch.Tensor] | None
    label: str = "random init"
    spec: ArchSpec | None = None  # the spec the weights were made for
    class_names: list[str] = field(default_factory=list)
    source: str = ""  # the released weights they are ("torchvision:googlenet", ...), "" for others

    @classmethod
    def of_checkpoint(cls, ck: Checkpoint, label: str = "checkpoint") -> Weights:
        """The weights of one of our checkpoints."""
        return cls(ck.state_dict, label, ck.spec, list(ck.class_names))

    @classmethod
    def of_model(cls, built: Any, label: str) -> Weights:
        """A copy (on the CPU) of the weights of a built model (anything with .model, .spec, .class_names)."""
        state = {k: v.detach().cpu() for k, v in built.model.state_dict().items()}
        return cls(state, label, built.spec, list(built.class_names))


Downloader = Callable[[str], Any]  # source -> reference state dict


def resolve_weights(choice: WeightsChoice, spec: ArchSpec | None = None,
                    download: Downloader | None = None) -> Weights:
    """Read, download or import what ``choice`` names, as a state dict in our key names."""
    from ..core import weights as W
    log.debug("resolving weights: %s", choice.label)
    if choice.kind == "random":
        return Weights(None, choice.label)
    if choice.kind == "checkpoint":
        return Weights.of_checkpoint(W.load_checkpoint(choice.path), choice.label)
    name = Path(choice.path).name if choice.path else (choice.source or "pretrained weights")
    if choice.path:
        ref = W.read_state_dict(choice.path)
        source = choice.source or guess_source(ref, name)
    else:
        sources = pretrained_sources(spec) if spec is not None else []
        source = choice.source or (sources[0] if sources else "")
        if not source:
            raise no_weights_for(spec) if spec is not None else WeightsError("pretrained weights: no source given")
        ref = (download or W.download_reference)(source)
    model = W.import_reference(source, ref, name=name, pretrained_transform=True)
    label = f"pretrained: {source}" + (f" ({name})" if choice.path else "")
    return Weights(model.state_dict(), label, model.spec, [], source)


def network_of(source: Any, weights: WeightsChoice | Weights | None = None) -> tuple[ArchSpec, WeightsChoice | Weights | None]:
    """What a name or record says to build: (spec, weights). A variant name, an ArchSpec or a spec .json
    builds with ``weights``; a checkpoint file or a Checkpoint brings its own. StudioError for anything else."""
    from ..core import weights as W
    from ..core.presets import get_spec, list_variants

    if isinstance(source, W.Checkpoint):
        return source.spec, Weights.of_checkpoint(source)
    if isinstance(source, ArchSpec):
        return source, weights
    if not isinstance(source, (str, os.PathLike)):
        raise StudioError(f"cannot make a predictor from {type(source).__name__}")
    text, path = str(source), Path(source)
    if text in list_variants() and not path.exists():
        return get_spec(text), weights
    if not path.exists():
        raise StudioError(f"{text}: neither a variant ({', '.join(list_variants())}) nor an existing file")
    if path.suffix == ".json":
        return read_spec_file(path), weights
    return (ck := W.load_checkpoint(path)).spec, Weights.of_checkpoint(ck, f"checkpoint: {path.name}")


def block_ids(prefixes: list[str]) -> list[str]:
    """Graph node ids for carry_over's prefixes: stages.<s>.<b> -> b:<b>, head -> head, aux.<a> -> aux:<a>."""
    from ..core.graph import node_of_module

    return [node_of_module(p) for p in prefixes]


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
    """``spec`` with the input normalisation released weights expect (their record's; torchvision's TF ports want 0.5)."""
    if not weights.source:
        return spec
    src = get_source(weights.source)
    if spec.in_channels != len(src.mean):
        return spec
    return replace(spec, mean=tuple(src.mean), std=tuple(src.std))
