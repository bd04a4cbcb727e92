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
import math
import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import SpecError
from .spec_json import parse_json, read_json_file, show, spec_part

SCHEMA_VERSION = 1

# Input normalisation: ImageNet's channel statistics (torchvision's convention, every spec's default) and
# the (x - 0.5) / 0.5 scaling of the TF-trained releases (Inception-v4, Inception-ResNet-v2).
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
INCEPTION_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
INCEPTION_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)

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


# ---- structural validation (shape-independent) ---------------------------------------------

# Ranges every spec keeps (edits.py checks its edits against the same numbers).
LIMITS = {"num_classes": 100_000, "in_channels": 64, "input_size": 4096}
MAX_WIDTH = 16384  # an op's output channels
MAX_KERNEL = 64  # kernel sides, pool sizes, strides, aux pooling
MAX_NAME = 64
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Attribute names of torch's ModuleDict / Sequential, which hold stages, blocks and aux heads by name:
# a block called "forward" or "training" could not be added to them (tests/core keep this list current).
RESERVED_NAMES = frozenset("""
    T_destination add_module append apply bfloat16 buffers call_super_init children clear compile cpu cuda
    double dump_patches eval extend extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half insert ipu items keys load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters pop register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type
    update values xpu zero_grad""".split())


def _q(value: object) -> str:
    """A value quoted for a one-line message (control characters escaped, cut short)."""
    from .names import printable
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return f"'{printable(value, 60)}'"


def _whole(value: object, lo: int, hi: int, where: str, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: {what} must be a whole number, got {_q(value)}")
    if value < lo:
        need = "a positive integer" if lo == 1 else f">= {lo}"
        raise SpecError(f"{where}: {what} must be {need}, got {value}")
    if value > hi:
        raise SpecError(f"{where}: {what} must be <= {hi}, got {value}")


def _real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_name(name: object, where: str) -> None:
    """A stage, block or aux-head name: an identifier (it names a module and a graph node), not a reserved word."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or len(name) > MAX_NAME:
        raise SpecError(f"{where}: name {_q(name)} must be a letter then letters, digits or _ "
                        f"(at most {MAX_NAME} characters)")
    if name in RESERVED_NAMES:
        raise SpecError(f"{where}: name '{name}' is reserved (it is a method of torch's module containers)")


def _check_op(op: Op, where: str) -> None:
    if op.kind not in OP_KINDS:
        raise SpecError(f"{where}: unknown op kind {_q(op.kind)} (one of {', '.join(OP_KINDS)})")
    if op.is_conv:
        _whole(op.out, 1, MAX_WIDTH, where, "width")
    if not isinstance(op.k, tuple) or len(op.k) != 2:
        raise SpecError(f"{where}: kernel must be two sizes, got {_q(op.k)}")
    for side in op.k:
        _whole(side, 1, MAX_KERNEL, where, "kernel size")
    _whole(op.stride, 1, MAX_KERNEL, where, "stride")
    if op.pad not in ("same", "valid"):
        raise SpecError(f"{where}: padding must be 'same' or 'valid', got {_q(op.pad)}")
    if op.kind == "sepconv":
        _whole(op.depth_mult, 1, MAX_KERNEL, where, "depth multiplier")
    if not (_real(op.rate) and 0.0 <= op.rate < 1.0):
        raise SpecError(f"{where}: dropout rate must be in [0, 1), got {_q(op.rate)}")


def _check_block(b: Block, where: str) -> None:
    check_name(b.name, where)
    if b.kind not in BLOCK_KINDS:
        raise SpecError(f"{where}: unknown block kind {_q(b.kind)} (one of {', '.join(BLOCK_KINDS)})")
    if not b.branches:
        raise SpecError(f"{where}: a block needs at least one branch")
    if b.kind == "seq" and len(b.branches) != 1:
        raise SpecError(f"{where}: a 'seq' block has exactly one branch")
    if b.kind == "residual":
        if not (_real(b.scale) and 0.0 < b.scale <= 10.0):
            raise SpecError(f"{where}.scale: residual scale must be in (0, 10], got {_q(b.scale)}")
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


def _check_globals(spec: ArchSpec) -> None:
    """The network-wide fields: sizes, normalisation, head, reported errors."""
    if not isinstance(spec.name, str) or not spec.name.strip() or len(spec.name) > 128:
        raise SpecError(f"name: must be non-empty text of at most 128 characters, got {_q(spec.name)}")
    for key, hi in LIMITS.items():
        value = getattr(spec, key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SpecError(f"{key} must be positive, got {_q(value)}")
        if value > hi:
            raise SpecError(f"{key} must be <= {hi}, got {value}")
    if not (_real(spec.bn_eps) and 0.0 < spec.bn_eps <= 1.0):
        raise SpecError(f"bn_eps must be in (0, 1], got {_q(spec.bn_eps)}")
    if not (_real(spec.width_mult) and 0.0 < spec.width_mult <= 1000.0):
        raise SpecError(f"width_mult must be in (0, 1000], got {_q(spec.width_mult)}")
    if not (_real(spec.crop_pct) and 0.0 < spec.crop_pct <= 1.0):
        raise SpecError(f"crop_pct must be in (0, 1], got {_q(spec.crop_pct)}")
    if spec.interpolation not in ("bilinear", "bicubic"):
        raise SpecError(f"interpolation must be 'bilinear' or 'bicubic', got {_q(spec.interpolation)}")
    for key in ("mean", "std"):
        vals = getattr(spec, key)
        if not isinstance(vals, tuple) or len(vals) not in {1, 3, spec.in_channels} or not all(map(_real, vals)):
            raise SpecError(f"{key} must be 1, 3 or in_channels ({spec.in_channels}) finite numbers, got {_q(vals)}")
    if len(spec.mean) != len(spec.std) or not all(v > 0 for v in spec.std):
        raise SpecError(f"std must be positive and as long as mean, got {_q(spec.std)}")
    for key in ("top1_error", "top5_error"):
        value = getattr(spec, key)
        if value is not None and not (_real(value) and 0.0 <= value <= 100.0):
            raise SpecError(f"{key} must be a percentage in [0, 100] or null, got {_q(value)}")
    if not (_real(spec.head.dropout) and 0.0 <= spec.head.dropout < 1.0):
        raise SpecError(f"head.dropout must be in [0, 1), got {_q(spec.head.dropout)}")
    if spec.head.kind not in ("linear", "conv"):
        raise SpecError(f"head.kind must be 'linear' or 'conv', got {_q(spec.head.kind)}")


def _check_aux(spec: ArchSpec) -> None:
    aux_names: set[str] = set()
    for n, a in enumerate(spec.aux):
        where = f"aux head {n}"
        check_name(a.name, where)
        where = f"aux head '{a.name}'"
        if a.name in aux_names:
            raise SpecError(f"{where}: the name is used twice")
        aux_names.add(a.name)
        st = next((s for s in spec.stages if s.name == a.stage), None)
        if st is None:
            raise SpecError(f"{where}: attaches to unknown stage {_q(a.stage)}")
        _whole(a.index, 0, 4096, where, "index")
        if spec.aux_enabled and not 0 <= a.index < st.count:
            raise SpecError(f"{where}: stage '{a.stage}' has {st.count} block(s), none at index {a.index}; "
                            "turn aux heads off (aux=false) or keep that block")
        _whole(a.pool_k, 0, MAX_KERNEL, where, "pool_k")
        _whole(a.pool_s, 1, MAX_KERNEL, where, "pool_s")
        _whole(a.adaptive, 0 if a.pool_k else 1, MAX_KERNEL, where, "adaptive pool size")
        for k, op in enumerate(a.convs):
            _check_op(op, f"{where}.convs.{k}")
        for width in a.fc:
            _whole(width, 1, 65536, where, "fc width")
        if not (_real(a.dropout) and 0.0 <= a.dropout < 1.0):
            raise SpecError(f"{where}: dropout must be in [0, 1), got {_q(a.dropout)}")
        if not (_real(a.loss_weight) and 0.0 <= a.loss_weight <= 100.0):
            raise SpecError(f"{where}: loss_weight must be in [0, 100], got {_q(a.loss_weight)}")


def validate_structure(spec: ArchSpec) -> None:
    """Check every range and everything that does not depend on the input size; SpecError naming the field."""
    _check_globals(spec)
    names: set[str] = set()
    stage_names: set[str] = set()
    for n, s in enumerate(spec.stages):
        check_name(s.name, f"stage {n}")
        if s.name in stage_names:
            raise SpecError(f"stage '{s.name}' appears twice")
        stage_names.add(s.name)
        if s.template is not None:
            _check_block(s.template, f"stage.{s.name}.template")
        for i, b in enumerate(s.blocks):
            where = f"stage.{s.name}.block.{i}"
            _check_block(b, where)
            if b.name in names:
                raise SpecError(f"{where}: block name '{b.name}' is used twice")
            names.add(b.name)
    _check_aux(spec)


__all__ = [
    "SCHEMA_VERSION", "Op", "Branch", "Block", "Stage", "AuxHead", "Head", "ArchSpec",
    "validate_structure", "check_name", "read_spec_file", "LIMITS", "RESERVED_NAMES",
    "IMAGENET_MEAN", "IMAGENET_STD", "INCEPTION_MEAN", "INCEPTION_STD",
]
