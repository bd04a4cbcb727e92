"""Shapes, parameters and multiply-adds of a spec, by arithmetic (no torch), fast enough per keystroke.

:func:`analyze` folds core.trace's walk of the spec into the per-block table the papers print, plus
totals and memory estimates; this module is the face of the analysis, so the trace's names are
importable from here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .spec import ArchSpec, Block, validate_structure
from .trace import (
    BYTES_PER_FLOAT,
    AuxInfo,
    BlockInfo,
    OpInfo,
    Shape,
    Trace,
    min_input_size,
    numel,
    op_cost,
    op_shape,
    trace,
)


# ---- summary ---------------------------------------------------------------------------------

PAPER_COLUMNS = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")


def branch_columns(block: Block) -> dict[str, int]:
    """The papers' per-branch width columns for an Inception block, keyed like Table 1."""
    cols: dict[str, int] = {}
    for branch in block.branches:
        convs = [op for op in branch.ops if op.is_conv]
        tail_out = sum(t[-1].out for t in branch.fork if t[-1].is_conv) if branch.fork else 0
        role = branch.role or "branch"
        if role == "pool":
            cols["pool proj"] = convs[-1].out if convs else 0
            continue
        last = tail_out or (convs[-1].out if convs else 0)
        name = {"dbl3x3": "double #3x3"}.get(role, f"#{role}")
        if len(convs) + (1 if branch.fork else 0) <= 1:
            cols[name] = last
        else:
            cols[f"{name} reduce"] = convs[0].out
            cols[name] = last
    return cols


@dataclass(frozen=True)
class Row:
    """One line of the per-block table."""

    name: str  # block name (unique id), or "head" / aux name
    label: str
    stage: str
    kind: str  # "conv", "max pool", "inception", "residual", "reduction", "head", "aux"
    patch: str  # kernel/stride for single-op rows, e.g. "7x7/2"
    output: Shape
    params: int
    macs: int
    depth: int  # conv layers on the longest path
    columns: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StageTotal:
    """A stage's share of the network."""

    name: str
    label: str
    count: int
    params: int
    macs: int


@dataclass(frozen=True)
class Summary:
    """Per-block rows, per-stage totals and whole-network totals at one input size."""

    spec: ArchSpec
    input_size: int
    rows: tuple[Row, ...]
    stages: tuple[StageTotal, ...]
    params: int  # everything build_model creates (aux heads included when on)
    params_main: int  # without aux heads
    macs: int  # eval forward at batch 1
    aux_params: int
    aux_macs: int
    activations_infer: int  # bytes at batch 1, peak estimate
    activations_train: int  # bytes at batch 1, everything kept for backward (estimate)

    def memory_bytes(self, batch_size: int = 1, training: bool = False) -> int:
        """Estimated memory for weights plus activations at ``batch_size``."""
        weights = self.params * BYTES_PER_FLOAT
        if training:
            # weights + grads + two optimizer moments, and every activation kept for backward
            return 4 * weights + batch_size * self.activations_train
        return weights + batch_size * self.activations_infer


def _patch(block: Block) -> str:
    """The patch size/stride Table 1 prints for a plain layer: its spatial op, not a 1x1 reduce or LRN."""
    ops = [o for o in block.branches[0].ops if o.kind in ("conv", "sepconv", "maxpool", "avgpool")]
    spatial = [o for o in ops if o.k != (1, 1)] or ops
    if not spatial:
        return ""
    op = spatial[0] if block.role == "mlpconv" else spatial[-1]
    return f"{op.k[0]}x{op.k[1]}/{op.stride}"


def _seq_columns(block: Block) -> dict[str, int]:
    """A '1x1 reduce then kxk' layer (GoogLeNet's second conv) fills the reduce columns, as Table 1 does."""
    convs = [o for o in block.branches[0].ops if o.is_conv]
    if block.role == "mlpconv" or len(convs) != 2 or convs[0].k != (1, 1) or convs[1].k[0] != convs[1].k[1]:
        return {}
    k = convs[1].k[0]
    return {f"#{k}x{k} reduce": convs[0].out, f"#{k}x{k}": convs[1].out}


def _block_kind(b: BlockInfo) -> tuple[str, str]:
    blk = b.block
    if blk.kind == "seq":
        first = blk.branches[0].ops[0]
        kind = {"conv": "conv", "sepconv": "conv", "maxpool": "max pool", "avgpool": "avg pool"}.get(first.kind, first.kind)
        if blk.role == "mlpconv":
            kind = "mlpconv"
        return kind, _patch(blk)
    if blk.kind == "residual":
        return "residual", ""
    if b.out_shape[1] < b.in_shape[1]:
        return "reduction", ""
    return "inception", ""


def _depth(block: Block) -> int:
    best = 0
    for branch in block.branches:
        d = sum(1 for op in branch.ops if op.is_conv)
        if branch.fork:
            d += max(sum(1 for op in t if op.is_conv) for t in branch.fork)
        best = max(best, d)
    return best + (1 if block.kind == "residual" else 0)


def analyze(spec: ArchSpec, input_size: int | None = None) -> Summary:
    """Per-block table and totals for ``spec`` at ``input_size`` (default: the spec's)."""
    validate_structure(spec)
    t = trace(spec, input_size)
    rows: list[Row] = []
    stage_tot: dict[str, list[int]] = {s.name: [0, 0] for s in spec.stages}
    peak = 0
    train_acts = 0
    for b in t.blocks:
        kind, patch = _block_kind(b)
        cols = branch_columns(b.block) if b.block.kind in ("inception", "residual") else _seq_columns(b.block)
        rows.append(Row(b.block.name, b.block.label, b.stage.name, kind, patch, b.out_shape, b.params, b.macs,
                        _depth(b.block), cols))
        stage_tot[b.stage.name][0] += b.params
        stage_tot[b.stage.name][1] += b.macs
        peak = max(peak, numel(b.in_shape) + b.activations)
        # conv outputs are kept pre-BN, post-BN and post-ReLU for backward: about 3 floats each.
        train_acts += 3 * b.activations
    c, h, w = t.head_in
    rows.append(Row("head", "classifier", "", "head", "", (spec.num_classes, 1, 1), t.head_params, t.head_macs, 1))
    aux_params = sum(a.params for a in t.aux)
    aux_macs = sum(a.macs for a in t.aux)
    for a in t.aux:
        rows.append(Row(a.aux.name, f"aux {a.aux.name}", a.aux.stage, "aux", "", (spec.num_classes, 1, 1), a.params, a.macs, 0))
        train_acts += 3 * a.activations
    params_main = sum(b.params for b in t.blocks) + t.head_params
    stages = tuple(StageTotal(s.name, s.label, s.count, *stage_tot[s.name]) for s in spec.stages)
    return Summary(
        spec=spec, input_size=t.input_size, rows=tuple(rows), stages=stages,
        params=params_main + aux_params, params_main=params_main, macs=sum(b.macs for b in t.blocks) + t.head_macs,
        aux_params=aux_params, aux_macs=aux_macs,
        activations_infer=peak * BYTES_PER_FLOAT, activations_train=(train_acts + numel((spec.in_channels, t.input_size, t.input_size))) * BYTES_PER_FLOAT,
    )


def human(n: float, unit: str = "") -> str:
    """Short human form: 6.62M, 1.50G, 128K."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{int(n)}{unit}"


def format_shape(shape: Shape) -> str:
    """``28x28x256`` as the papers print (H x W x C)."""
    return f"{shape[1]}x{shape[2]}x{shape[0]}"


__all__ = ["trace", "analyze", "min_input_size", "Summary", "Row", "StageTotal", "Trace", "BlockInfo", "OpInfo",
           "AuxInfo", "branch_columns", "PAPER_COLUMNS", "human", "format_shape", "op_shape", "op_cost"]
