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
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import SpecError

SCHEMA_VERSION = 1

OP_KINDS = ("conv", "sepconv", "maxpool", "avgpool", "lrn", "dropout")
BLOCK_KINDS = ("seq", "inception", "residual")


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
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    interpolation: str = "bilinear"
    crop_pct: float = 0.875
    top1_error: float | None = None
    top5_error: float | None = None
    reference: str = ""
    notes: str = ""
    weights_source: str = ""  # "torchvision:googlenet", "timm:inception_v4", ... when compatible

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
        """Rebuild a spec from :meth:`to_dict` output, checking the schema version and fields."""
        if not isinstance(d, dict):
            raise SpecError("spec: expected a JSON object at the top level")
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SpecError(f"spec: schema_version {version!r} is not supported (this version reads {SCHEMA_VERSION})")
        try:
            spec = _from_plain(cls, {k: v for k, v in d.items() if k != "schema_version"}, "spec")
        except SpecError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise SpecError(f"spec: malformed ({exc})") from None
        validate_structure(spec)
        return spec

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        """Parse JSON text into a validated spec."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"spec: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(d)


_NESTED = {"stages": Stage, "blocks": Block, "branches": Branch, "ops": Op, "convs": Op, "aux": AuxHead}


def _from_plain(cls, d: dict[str, Any], where: str):
    """Build dataclass ``cls`` from a dict, converting lists back to tuples, naming bad fields."""
    if not isinstance(d, dict):
        raise SpecError(f"{where}: expected an object, got {type(d).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(known)
    if unknown:
        raise SpecError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    kw: dict[str, Any] = {}
    for name, value in d.items():
        here = f"{where}.{name}"
        if name in _NESTED and isinstance(value, (list, tuple)):
            sub = _NESTED[name]
            kw[name] = tuple(_from_plain(sub, v, f"{here}[{i}]") for i, v in enumerate(value))
        elif name == "fork":
            kw[name] = tuple(tuple(_from_plain(Op, o, f"{here}[{i}][{j}]") for j, o in enumerate(t)) for i, t in enumerate(value))
        elif name == "head":
            kw[name] = _from_plain(Head, value, here)
        elif name == "template":
            kw[name] = None if value is None else _from_plain(Block, value, here)
        elif isinstance(value, (list, tuple)):
            kw[name] = tuple(value)
        else:
            kw[name] = value
    try:
        return cls(**kw)
    except TypeError as exc:
        raise SpecError(f"{where}: {exc}") from None


# ---- structural validation (shape-independent) ---------------------------------------------

def _check_op(op: Op, where: str) -> None:
    if op.kind not in OP_KINDS:
        raise SpecError(f"{where}: unknown op kind '{op.kind}' (one of {', '.join(OP_KINDS)})")
    if op.is_conv and (not isinstance(op.out, int) or op.out <= 0):
        raise SpecError(f"{where}: width must be a positive integer, got {op.out}")
    if len(op.k) != 2 or min(op.k) <= 0:
        raise SpecError(f"{where}: kernel must be two positive sizes, got {op.k}")
    if op.stride <= 0:
        raise SpecError(f"{where}: stride must be positive, got {op.stride}")
    if op.pad not in ("same", "valid"):
        raise SpecError(f"{where}: padding must be 'same' or 'valid', got '{op.pad}'")
    if op.kind == "sepconv" and op.depth_mult <= 0:
        raise SpecError(f"{where}: depth multiplier must be positive, got {op.depth_mult}")
    if op.kind == "dropout" and not 0.0 <= op.rate < 1.0:
        raise SpecError(f"{where}: dropout rate must be in [0, 1), got {op.rate}")


def validate_structure(spec: ArchSpec) -> None:
    """Check everything that does not depend on the input size; raise SpecError naming the field."""
    if spec.num_classes <= 0:
        raise SpecError(f"num_classes must be positive, got {spec.num_classes}")
    if spec.in_channels <= 0:
        raise SpecError(f"in_channels must be positive, got {spec.in_channels}")
    if spec.input_size <= 0:
        raise SpecError(f"input_size must be positive, got {spec.input_size}")
    if not 0.0 <= spec.head.dropout < 1.0:
        raise SpecError(f"head.dropout must be in [0, 1), got {spec.head.dropout}")
    if spec.head.kind not in ("linear", "conv"):
        raise SpecError(f"head.kind must be 'linear' or 'conv', got '{spec.head.kind}'")
    names: set[str] = set()
    stage_names: set[str] = set()
    for s in spec.stages:
        if s.name in stage_names:
            raise SpecError(f"stage '{s.name}' appears twice")
        stage_names.add(s.name)
        for i, b in enumerate(s.blocks):
            where = f"stage.{s.name}.block.{i}"
            if b.kind not in BLOCK_KINDS:
                raise SpecError(f"{where}: unknown block kind '{b.kind}'")
            if b.name in names:
                raise SpecError(f"{where}: block name '{b.name}' is used twice")
            names.add(b.name)
            if not b.branches:
                raise SpecError(f"{where}: a block needs at least one branch")
            if b.kind == "seq" and len(b.branches) != 1:
                raise SpecError(f"{where}: a 'seq' block has exactly one branch")
            if b.kind == "residual":
                if not 0.0 < b.scale <= 10.0:
                    raise SpecError(f"{where}.scale: residual scale must be in (0, 10], got {b.scale}")
                if not any(op.is_conv for br in b.branches for op in br.ops):
                    raise SpecError(f"{where}: a residual block needs a conv branch to project from")
            for j, br in enumerate(b.branches):
                if not br.ops and not br.fork:
                    raise SpecError(f"{where}.branch.{j}: empty branch")
                for k, op in enumerate(br.ops):
                    _check_op(op, f"{where}.branch.{j}.op.{k}")
                for f, tail in enumerate(br.fork):
                    if not tail:
                        raise SpecError(f"{where}.branch.{j}.fork.{f}: empty fork tail")
                    for k, op in enumerate(tail):
                        _check_op(op, f"{where}.branch.{j}.fork.{f}.op.{k}")
    for a in spec.aux:
        st = next((s for s in spec.stages if s.name == a.stage), None)
        if st is None:
            raise SpecError(f"aux head '{a.name}': attaches to unknown stage '{a.stage}'")
        if spec.aux_enabled and not 0 <= a.index < st.count:
            raise SpecError(f"aux head '{a.name}': stage '{a.stage}' has {st.count} block(s), none at index {a.index}; "
                            "turn aux heads off (aux=false) or keep that block")
        if a.loss_weight < 0:
            raise SpecError(f"aux head '{a.name}': loss_weight must be >= 0, got {a.loss_weight}")


def with_(obj, **changes):
    """``dataclasses.replace`` under a short name, for edits."""
    return replace(obj, **changes)


__all__ = [
    "SCHEMA_VERSION", "Op", "Branch", "Block", "Stage", "AuxHead", "Head", "ArchSpec",
    "validate_structure", "with_", "field",
]
