"""ArchSpec and its parts: immutable plain data describing any Inception-family network.

A network is a list of stages; a stage is a list of blocks; a block is a list of branches joined
by concatenation (``inception``), by a scaled residual add after a 1x1 projection (``residual``),
or a single chain of ops (``seq``). A branch is a chain of ops, optionally ending in a *fork* of
parallel tails that are concatenated (Inception-v3's "expanded filter bank" outputs).

Channel counts are never stored twice: an op's input width is the previous op's output, a pool
passes its input width through, and a residual block's projection always returns to its input
width. So every spec that passes :func:`validate_structure` chains consistently.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import SpecError
from .spec_checks import LIMITS, RESERVED_NAMES, check_name, validate_structure  # noqa: F401 - see __all__
from .spec_json import parse_json, read_json_file, show, spec_part

SCHEMA_VERSION = 1

# Input normalisation: ImageNet's channel statistics (torchvision's convention, every spec's default) and
# the (x - 0.5) / 0.5 scaling of the TF-trained releases (Inception-v4, Inception-ResNet-v2).
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
INCEPTION_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
INCEPTION_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)



@dataclass(frozen=True)
class Op:
    """One layer: a conv (+BN +ReLU), a separable conv, a pool, LRN or dropout."""

    kind: str
    out: int = 0  # output channels of a conv; 0 for ops that keep their input width
    k: tuple[int, int] = (1, 1)
    stride: int = 1
    pad: str = "same"  # "same": k//2 each side; "valid": none
    ceil: bool = False  # pools: ceil_mode
    count_include_pad: bool = True  # avg pools
    act: bool = True  # conv: ReLU after
    depth_mult: int = 1  # sepconv: depthwise multiplier
    rate: float = 0.0  # dropout probability

    @property
    def is_conv(self) -> bool:
        """True for ops with weights (conv or separable conv)."""
        return self.kind in ("conv", "sepconv")

    @property
    def kernel_text(self) -> str:
        """The kernel as the papers write it, e.g. ``3x3/2`` or ``1x7``."""
        s = f"{self.k[0]}x{self.k[1]}"
        return s + (f"/{self.stride}" if self.stride != 1 else "")

    def padding(self) -> tuple[int, int]:
        """Explicit (pad_h, pad_w) for this op."""
        if self.pad == "valid":
            return (0, 0)
        return (self.k[0] // 2, self.k[1] // 2)


@dataclass(frozen=True)
class Branch:
    """A chain of ops; ``fork`` holds parallel tails after the chain, concatenated."""

    ops: tuple[Op, ...]
    fork: tuple[tuple[Op, ...], ...] = ()
    role: str = ""  # the papers' column this branch fills: "1x1", "3x3", "5x5", "dbl3x3", "pool"...


@dataclass(frozen=True)
class Block:
    """An Inception block, a residual Inception block, or a plain chain of ops."""

    kind: str
    name: str  # identifier, unique in the spec: module name and graph id
    label: str  # the papers' name: "3a", "Mixed_6b", "Inception-B"
    branches: tuple[Branch, ...]
    role: str = ""  # "Inception-A", "Reduction-B", "stem", ...
    scale: float = 1.0  # residual: branch sum scale
    final_act: bool = True  # residual: ReLU after the add

    @property
    def structure(self) -> tuple:
        """What makes two blocks the same network apart from their names: kind, branches, scale, final ReLU."""
        return (self.kind, self.branches, self.scale, self.final_act)


@dataclass(frozen=True)
class Stage:
    """A run of blocks at one grid size (or a stem / pooling step)."""

    name: str  # identifier: "inception_b"
    label: str  # "Inception-B"
    blocks: tuple[Block, ...]
    repeatable: bool = False  # its block count can be edited
    template: Block | None = None  # remembered block, so a count edited to 0 can grow again

    @property
    def count(self) -> int:
        """Number of blocks."""
        return len(self.blocks)


@dataclass(frozen=True)
class AuxHead:
    """An auxiliary classifier attached after one block (GoogLeNet, Inception-v3)."""

    name: str  # module name: "aux1", "AuxLogits"
    stage: str
    index: int  # block index within the stage
    pool_k: int = 5  # avg pool kernel (0 = adaptive to ``adaptive`` x ``adaptive``)
    pool_s: int = 3
    adaptive: int = 0
    convs: tuple[Op, ...] = ()
    gap: bool = False  # global average pool after the convs (else flatten)
    fc: tuple[int, ...] = ()  # hidden FC widths (ReLU after each)
    dropout: float = 0.0
    loss_weight: float = 0.3


@dataclass(frozen=True)
class Head:
    """The classifier: global average pool, dropout, then a linear layer or a 1x1 conv (NIN)."""

    kind: str = "linear"  # "linear" | "conv" (1x1 conv to classes before the pool, as NIN)
    dropout: float = 0.0


@dataclass(frozen=True)
class ArchSpec:
    """A whole network as plain data: stages, head, aux heads and input conventions."""

    name: str
    title: str
    description: str
    stages: tuple[Stage, ...]
    head: Head = Head()
    aux: tuple[AuxHead, ...] = ()
    aux_enabled: bool = False
    num_classes: int = 1000
    in_channels: int = 3
    input_size: int = 224
    bn: bool = True
    bn_eps: float = 1e-3
    width_mult: float = 1.0  # cumulative multiplier applied by edits (informational)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    crop_pct: float = 0.875
    top1_error: float | None = None
    top5_error: float | None = None
    reference: str = ""
    notes: str = ""
    weights_source: str = ""  # "torchvision:googlenet", "timm:inception_v4", ... when compatible
    based_on: str = ""  # the preset an edited spec came from ("" for a preset itself); see core/identity.py

    # ---- lookups -------------------------------------------------------------------------
    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (SpecError naming the known stages otherwise)."""
        for s in self.stages:
            if s.name == name:
                return s
        raise SpecError(f"no stage '{name}' in {self.name} (stages: {', '.join(s.name for s in self.stages)})")

    def stage_index(self, name: str) -> int:
        """Position of the stage called ``name``."""
        return self.stages.index(self.stage(name))

    def iter_blocks(self):
        """Yield (stage, index, block) for every block in order."""
        for s in self.stages:
            for i, b in enumerate(s.blocks):
                yield s, i, b

    @property
    def active_aux(self) -> tuple[AuxHead, ...]:
        """The aux heads that are switched on."""
        return self.aux if self.aux_enabled else ()

    # ---- JSON ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form with a schema version."""
        d = asdict(self)
        d["schema_version"] = SCHEMA_VERSION
        return d

    def to_json(self, indent: int | None = 1) -> str:
        """JSON text of this spec (round-trips through :meth:`from_json`)."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ArchSpec:
        """Rebuild a spec from :meth:`to_dict` output, checking the schema version and every field's type and range."""
        if not isinstance(d, dict):
            raise SpecError("spec: expected a JSON object at the top level")
        version = d.get("schema_version")
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise SpecError(f"spec: schema_version {show(version)} is not supported (this version reads {SCHEMA_VERSION})")
        spec = spec_part(cls, {k: v for k, v in d.items() if k != "schema_version"}, "spec")
        validate_structure(spec)
        return spec

    @classmethod
    def from_json(cls, text: str | bytes) -> ArchSpec:
        """Parse JSON text (bounded in size) into a validated spec."""
        return cls.from_dict(parse_json(text))


def read_spec_file(path: str | os.PathLike[str]) -> ArchSpec:
    """The spec in a .json file (a regular file of at most 4 MiB, every field checked); SpecError naming the file."""
    name, data = read_json_file(path)
    try:
        return ArchSpec.from_dict(data)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None


__all__ = [
    "SCHEMA_VERSION", "Op", "Branch", "Block", "Stage", "AuxHead", "Head", "ArchSpec",
    "validate_structure", "check_name", "read_spec_file", "LIMITS", "RESERVED_NAMES",
    "IMAGENET_MEAN", "IMAGENET_STD", "INCEPTION_MEAN", "INCEPTION_STD",
]
