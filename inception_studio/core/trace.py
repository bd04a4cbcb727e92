"""Tracing a spec by arithmetic (no torch): every op's input and output shape, params and multiply-adds.

:func:`trace` walks the spec once at an input size (SpecError naming the first op the input is too small
for, with the smallest size that works: :func:`min_input_size`); core.analysis folds the trace into the
papers' per-block table. MACs count convolutions and linear layers only (what FlopCounterMode counts,
halved).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import SpecError
from .spec import ArchSpec, AuxHead, Block, Op, Stage

Shape = tuple[int, int, int]  # C, H, W
BYTES_PER_FLOAT = 4


@dataclass(frozen=True)
class OpInfo:
    """One op as traced: where it sits, its shapes, params and MACs."""

    path: tuple  # ("branch", j, k) or ("branch", j, "fork", f, k)
    op: Op
    in_shape: Shape
    out_shape: Shape
    params: int
    macs: int


@dataclass(frozen=True)
class BlockInfo:
    """One block as traced."""

    stage: Stage
    index: int
    block: Block
    in_shape: Shape
    out_shape: Shape
    params: int
    macs: int
    ops: tuple[OpInfo, ...]
    branch_shapes: tuple[Shape, ...]
    proj_params: int = 0
    proj_macs: int = 0
    activations: int = 0  # floats written by the block's ops (batch 1)


@dataclass(frozen=True)
class AuxInfo:
    """An aux head as traced (runs in training only)."""

    aux: AuxHead
    in_shape: Shape
    params: int
    macs: int
    activations: int
    features: int  # width entering the first FC (after GAP or flatten)


@dataclass(frozen=True)
class Trace:
    """Everything :func:`trace` found."""

    spec: ArchSpec
    input_size: int
    blocks: tuple[BlockInfo, ...]
    aux: tuple[AuxInfo, ...]
    head_in: Shape
    head_params: int
    head_macs: int


# ---- per-op arithmetic ---------------------------------------------------------------------

def _out_dim(n: int, k: int, s: int, p: int, ceil: bool) -> int:
    """PyTorch's output-size rule for conv/pool (ceil mode drops a window starting in the padding)."""
    span = n + 2 * p - k
    if span < 0:
        return 0
    if ceil:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        return out
    return span // s + 1


def op_shape(op: Op, shape: Shape) -> Shape:
    """Output shape of ``op`` on an input of ``shape`` (H or W 0 when the input is too small)."""
    c, h, w = shape
    if op.kind in ("lrn", "dropout"):
        return shape
    ph, pw = op.padding()
    ceil = op.ceil if op.kind in ("maxpool", "avgpool") else False
    oh = _out_dim(h, op.k[0], op.stride, ph, ceil)
    ow = _out_dim(w, op.k[1], op.stride, pw, ceil)
    return (op.out if op.is_conv else c, oh, ow)


def op_cost(op: Op, cin: int, out: Shape, bn: bool) -> tuple[int, int]:
    """(params, MACs) of ``op`` with ``cin`` input channels producing ``out``."""
    cout, oh, ow = out
    norm = 2 * cout if bn else cout  # BN weight+bias, or a conv bias
    if op.kind == "conv":
        w = cin * cout * op.k[0] * op.k[1]
        return w + norm, w * oh * ow
    if op.kind == "sepconv":
        mid = cin * op.depth_mult
        dw = mid * op.k[0] * op.k[1]
        pw = mid * cout
        return dw + pw + norm, (dw + pw) * oh * ow
    return 0, 0


def numel(shape: Shape) -> int:
    """Elements of a C x H x W tensor."""
    return shape[0] * shape[1] * shape[2]


def _fmt(shape: Shape) -> str:
    return f"{shape[1]}x{shape[2]}"


class _TooSmall(Exception):
    """Raised inside the walk; turned into a SpecError naming the minimum input size."""

    def __init__(self, where: str, shape: Shape, op: Op | None, aux: bool = False):
        super().__init__(where)
        self.where, self.shape, self.op, self.aux = where, shape, op, aux


def _apply(op: Op, shape: Shape, where: str) -> Shape:
    out = op_shape(op, shape)
    if out[1] < 1 or out[2] < 1:
        raise _TooSmall(where, shape, op)
    return out


def _trace_block(block: Block, shape: Shape, bn: bool, where: str) -> tuple[Shape, list[OpInfo], list[Shape], int, int, int]:
    ops: list[OpInfo] = []
    outs: list[Shape] = []
    acts = 0
    for j, branch in enumerate(block.branches):
        cur = shape
        for k, op in enumerate(branch.ops):
            nxt = _apply(op, cur, where)
            p, m = op_cost(op, cur[0], nxt, bn)
            ops.append(OpInfo(("branch", j, k), op, cur, nxt, p, m))
            acts += numel(nxt)
            cur = nxt
        if branch.fork:
            tails = []
            for f, tail in enumerate(branch.fork):
                t = cur
                for k, op in enumerate(tail):
                    nxt = _apply(op, t, where)
                    p, m = op_cost(op, t[0], nxt, bn)
                    ops.append(OpInfo(("branch", j, "fork", f, k), op, t, nxt, p, m))
                    acts += numel(nxt)
                    t = nxt
                tails.append(t)
            if len({t[1:] for t in tails}) != 1:
                raise SpecError(f"{where}.branch.{j}: fork tails end at different sizes "
                                f"({', '.join(_fmt(t) for t in tails)}) and cannot be concatenated")
            cur = (sum(t[0] for t in tails), tails[0][1], tails[0][2])
        outs.append(cur)
    sizes = {o[1:] for o in outs}
    if len(sizes) != 1:
        detail = ", ".join(f"branch {j}: {_fmt(o)}" for j, o in enumerate(outs))
        raise SpecError(f"{where} ({block.label}): branches end at different grid sizes ({detail}); "
                        "give every branch the same total stride")
    cat = (sum(o[0] for o in outs), outs[0][1], outs[0][2])
    proj_p = proj_m = 0
    if block.kind == "residual":
        if cat[1:] != shape[1:]:
            raise SpecError(f"{where} ({block.label}): a residual block must keep its {_fmt(shape)} grid, "
                            f"but its branches end at {_fmt(cat)}; remove the stride or make it a plain Inception block")
        # The papers' linear 1x1 (bias, no BN) projects the concatenation back to the input width.
        proj_p = cat[0] * shape[0] + shape[0]
        proj_m = cat[0] * shape[0] * shape[1] * shape[2]
        acts += 2 * numel(shape)
        out = shape
    elif block.kind == "seq":
        out = outs[0]
    else:
        out = cat
        acts += numel(cat)
    return out, ops, outs, proj_p, proj_m, acts


_BLOCKS_KEPT = 4096
_traced: dict[tuple, tuple] = {}  # (id(block), input shape, bn, where) -> (block, _trace_block's answer)


def _traced_block(block: Block, shape: Shape, bn: bool, where: str) -> tuple:
    """:func:`_trace_block`, remembered per block object and input: specs are immutable and an edit keeps the
    blocks it does not touch (the same objects), so tracing the edited spec re-traces only what changed. The
    entry holds its block, so a reused ``id`` never answers for another block."""
    key = (id(block), shape, bn, where)
    hit = _traced.get(key)
    if hit is not None and hit[0] is block:
        return hit[1]
    out, ops, outs, pp, pm, acts = _trace_block(block, shape, bn, where)
    answer = (out, tuple(ops), tuple(outs), pp, pm, acts)
    if len(_traced) >= _BLOCKS_KEPT:
        _traced.clear()
    _traced[key] = (block, answer)
    return answer


def _trace_aux(aux: AuxHead, shape: Shape, spec: ArchSpec) -> AuxInfo:
    where = f"aux head '{aux.name}'"
    params = macs = acts = 0
    c, h, w = shape
    if aux.pool_k:
        pool = Op("avgpool", k=(aux.pool_k, aux.pool_k), stride=aux.pool_s, pad="valid")
        cur = op_shape(pool, shape)
        if cur[1] < 1:
            raise _TooSmall(where, shape, pool, aux=True)
    else:
        cur = (c, aux.adaptive, aux.adaptive)
    for op in aux.convs:
        nxt = _apply_aux(op, cur, where)
        p, m = op_cost(op, cur[0], nxt, spec.bn)
        params, macs, acts = params + p, macs + m, acts + numel(nxt)
        cur = nxt
    features = feat = cur[0] if aux.gap else numel(cur)
    for width in aux.fc + (spec.num_classes,):
        params += feat * width + width
        macs += feat * width
        feat = width
    return AuxInfo(aux, shape, params, macs, acts, features)


def _apply_aux(op: Op, shape: Shape, where: str) -> Shape:
    out = op_shape(op, shape)
    if out[1] < 1 or out[2] < 1:
        raise _TooSmall(where, shape, op, aux=True)
    return out


def _walk(spec: ArchSpec, size: int) -> Trace:
    shape: Shape = (spec.in_channels, size, size)
    blocks: list[BlockInfo] = []
    aux_at = {(a.stage, a.index): a for a in spec.active_aux}
    aux_infos: list[AuxInfo] = []
    for stage in spec.stages:
        for i, block in enumerate(stage.blocks):
            where = f"{block.label}" if block.label else f"stage.{stage.name}.block.{i}"
            out, ops, outs, pp, pm, acts = _traced_block(block, shape, spec.bn, where)
            params = sum(o.params for o in ops) + pp
            macs = sum(o.macs for o in ops) + pm
            blocks.append(BlockInfo(stage, i, block, shape, out, params, macs, ops, outs, pp, pm, acts))
            shape = out
            if (stage.name, i) in aux_at:
                aux_infos.append(_trace_aux(aux_at[(stage.name, i)], shape, spec))
    c, h, w = shape
    if spec.head.kind == "conv":
        head_p, head_m = c * spec.num_classes + spec.num_classes, c * spec.num_classes * h * w
    else:
        head_p, head_m = c * spec.num_classes + spec.num_classes, c * spec.num_classes
    return Trace(spec, size, tuple(blocks), tuple(aux_infos), shape, head_p, head_m)


def _main_path_ok(spec: ArchSpec, size: int) -> bool:
    try:
        _walk(replace(spec, aux_enabled=False), size)
    except _TooSmall:
        return False
    return True


def _aux_ok(spec: ArchSpec, size: int) -> bool:
    try:
        _walk(spec, size)
    except _TooSmall:
        return False
    return True


def min_input_size(spec: ArchSpec, with_aux: bool = False, limit: int = 4096) -> int | None:
    """Smallest square input the network accepts (None if none up to ``limit``)."""
    ok = _aux_ok if with_aux else _main_path_ok
    if not ok(spec, limit):
        return None
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(spec, mid):
            hi = mid
        else:
            lo = mid + 1
    # Output size is monotone in the input size for these ops, so the bisection is exact.
    return lo


def trace(spec: ArchSpec, input_size: int | None = None) -> Trace:
    """Walk the spec at ``input_size`` (default: the spec's) and return every op's shapes and costs."""
    size = spec.input_size if input_size is None else int(input_size)
    if size <= 0:
        raise SpecError(f"input_size must be positive, got {size}")
    try:
        return _walk(spec, size)
    except _TooSmall as first:
        exc = first
        if exc.aux:  # report a main-path failure first: it is the one that matters at inference
            try:
                _walk(replace(spec, aux_enabled=False), size)
            except _TooSmall as main:
                exc = main
        needed = min_input_size(spec, with_aux=exc.aux)
        got = f"{exc.shape[1]}x{exc.shape[2]}"
        kern = f"{exc.op.k[0]}x{exc.op.k[1]}" if exc.op else "?"
        if exc.aux:
            need = f"at least {needed} px" if needed else "a larger input"
            raise SpecError(f"{spec.name}: at {size} px {exc.where} gets {got}, too small for its {kern} "
                            f"{exc.op.kind if exc.op else 'op'}; aux heads need {need} (set aux=false for smaller inputs)") from None
        need = f"needs at least {needed} px" if needed else "cannot run at any size up to 4096 px"
        raise SpecError(f"{spec.name} {need}: at {size} px {exc.where} gets {got}, "
                        f"smaller than its {kern} {exc.op.kind if exc.op else 'op'}") from None


__all__ = ["Shape", "BYTES_PER_FLOAT", "OpInfo", "BlockInfo", "AuxInfo", "Trace", "op_shape", "op_cost",
           "min_input_size", "numel", "trace"]
