"""The rules every ArchSpec keeps, whatever the input size: names, ranges, op and block kinds, aux heads.

``validate_structure(spec)`` raises SpecError naming the field; spec.py calls it for every spec it reads,
edits.py for every edit (with the same LIMITS), build and analysis before they start.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..errors import SpecError

if TYPE_CHECKING:
    from .spec import ArchSpec, Block, Op

OP_KINDS = ("conv", "sepconv", "maxpool", "avgpool", "lrn", "dropout")
BLOCK_KINDS = ("seq", "inception", "residual")

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


_valid_blocks: dict[int, Block] = {}  # id -> a block that passed _check_block (held: its id is not reused)


def _check_block(b: Block, where: str) -> None:
    """Check one block; a block object that passed once passes again (blocks are immutable, and an edit keeps
    the blocks it does not touch), so validating an edited spec checks only the blocks it changed."""
    if _valid_blocks.get(id(b)) is b:
        return
    _check_new_block(b, where)
    if len(_valid_blocks) >= 4096:
        _valid_blocks.clear()
    _valid_blocks[id(b)] = b


def _check_new_block(b: Block, where: str) -> None:
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
