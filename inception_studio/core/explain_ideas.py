"""The per-block ideas of :mod:`core.explain`: each builder returns an Idea for this block, or None.

Every figure comes from tracing the block (or a what-if variant of it built by a :mod:`core.edits`
function) at its real input, so the numbers are exact for the spec in view. No Qt, no torch.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..errors import SpecError
from . import branches
from .trace import BlockInfo, Trace, trace
from .ideas import (
    GOOGLENET, INCEPTION_V3, INCEPTION_V4, NIN, Apply, CostRow, Figure, Idea, block_info, branch_costs,
    grid_reduction_costs, percent, share, short, asymmetric_ratio, stacked_ratio,
)
from .spec import ArchSpec, Block, Branch

PROPAGATE_BLOCKS = 4  # blocks re-traced one by one before the whole network is traced instead
CHOICE_TEXT = {"single": "one nxn conv", "stacked": "stacked 3x3 convs", "asymmetric": "1xn then nx1"}


def branch_text(br: Branch) -> str:
    """A branch as the papers draw it: ``1x1 16 > 5x5 32``, ``avg pool > 1x1 32``."""
    parts = [f"{op.k[0]}x{op.k[1]}{'/' + str(op.stride) if op.stride != 1 else ''} {op.out}" if op.is_conv
             else f"{op.kind.replace('pool', ' pool')}" for op in br.ops]
    if br.fork:
        parts.append("{" + ", ".join(" > ".join(f"{o.k[0]}x{o.k[1]} {o.out}" for o in t) for t in br.fork) + "}")
    return " > ".join(parts)


def _with_branch(block: Block, j: int, br: Branch) -> Block:
    return replace(block, branches=block.branches[:j] + (br,) + block.branches[j + 1:])


def _spec_with_block(spec: ArchSpec, stage: str, index: int, block: Block) -> ArchSpec:
    st = spec.stage(stage)
    blocks = st.blocks[:index] + (block,) + st.blocks[index + 1:]
    return replace(spec, stages=tuple(replace(s, blocks=blocks) if s.name == stage else s for s in spec.stages))


def _network_macs_with(spec: ArchSpec, t: Trace, info: BlockInfo, block: Block, new: BlockInfo) -> int | None:
    """The network's multiply-adds with ``block`` in place of ``info``'s block (traced as ``new``).

    Later blocks are re-traced only while the changed width still propagates (a pool passes it on, a
    residual add keeps it); once a block's output matches the original, the rest is unchanged. A change
    that outlives a few blocks (through a residual stage, say) is traced with the whole network at once.
    """
    pos = t.blocks.index(info)
    macs = _totals(t)[1] + new.macs - info.macs
    shape, k = new.out_shape, pos
    while shape != t.blocks[k].out_shape:  # block k's output still differs from the original's
        k += 1
        if k == len(t.blocks) or k - pos > PROPAGATE_BLOCKS:
            try:  # the change reaches the classifier, or goes on: trace the whole network once
                return _totals(trace(_spec_with_block(spec, info.stage.name, info.index, block)))[1]
            except SpecError:
                return None
        try:
            later = block_info(t.blocks[k].block, shape, spec.bn)
        except SpecError:
            return None
        macs += later.macs - t.blocks[k].macs
        shape = later.out_shape
    return macs


def _totals(t: Trace) -> tuple[int, int]:
    return sum(b.params for b in t.blocks) + t.head_params, sum(b.macs for b in t.blocks) + t.head_macs


def _count(n: int) -> str:
    return ("no", "one", "two", "three", "four")[n] if n < 5 else str(n)


def _change(new: int, old: int) -> Fraction:
    return Fraction(new - old, old) if old else Fraction(0)


# ---- 1. 1x1 reductions (GoogLeNet) ---------------------------------------------------------

def reductions(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """The block against the GoogLeNet paper's naive module (no 1x1 reductions, no pool projection)."""
    blk = info.block
    naive = branches.naive_block(blk)
    if naive == blk:
        return None
    ni = _info(naive, info, spec.bn)
    if ni is None:
        return None
    cur_b, naive_b = branch_costs(info), branch_costs(ni)
    cin = info.in_shape[0]
    rows = [CostRow("as is, with 1x1 reductions", info.params, info.macs, info.out_shape[0], current=True),
            CostRow("naive module: no reductions, no pool projection", ni.params, ni.macs, ni.out_shape[0])]
    figures = [Figure("multiply-adds change from the reductions", _change(info.macs, ni.macs), "change"),
               Figure("params change from the reductions", _change(info.params, ni.params), "change")]
    pool_note = ""
    for j, br in enumerate(blk.branches):
        if branches.reduction_positions(br):
            rows.append(CostRow(f"branch {j}: {branch_text(br)}", *cur_b[j], current=True))
            direct = f"branch {j} straight on {cin} channels: {branch_text(naive.branches[j])}"
            rows.append(CostRow(direct, *naive_b[j]))
        elif blk.kind == "inception" and branches.is_pool_projection(br):
            proj = next(o for o in info.ops if o.path[1] == j and o.op.is_conv)
            figures += [Figure("pool projection params", proj.params, "params"),
                        Figure("pool projection multiply-adds", proj.macs, "MACs"),
                        Figure("output width without the pool projection", ni.out_shape[0], "channels")]
            pool_note = (f" Without its pool projection the pool branch would pass all {cin} input channels on, "
                         f"so the block would output {ni.out_shape[0]} channels instead of {info.out_shape[0]}, "
                         "and the widths would keep growing block after block.")
    network = _network_macs_with(spec, t, info, naive, ni)
    if network is not None:
        figures.append(Figure("network multiply-adds with this block naive", network, "MACs"))
        figures.append(Figure("network multiply-adds as is", _totals(t)[1], "MACs"))
    summary = (f"GoogLeNet puts a 1x1 convolution in front of each expensive 3x3 and 5x5 so that they read "
               f"fewer channels. Here that makes the block cost {info.macs:,} multiply-adds instead of "
               f"{ni.macs:,} for the naive module ({percent(_change(info.macs, ni.macs))}).{pool_note}")
    apply = Apply("Remove this block's 1x1 reductions (naive module)", "remove_reductions",
                  (info.stage.name, info.index))
    headline = (f"{short(info.macs)} multiply-adds, {short(ni.macs)} without the reductions "
                f"({percent(_change(info.macs, ni.macs))})")
    return Idea("reductions", "1x1 reductions", GOOGLENET, summary, tuple(figures), tuple(rows), (apply,),
                headline=headline)


# ---- 2. factorisation (Inception-v3) ----------------------------------------------------------

def _fields(blk: Block) -> list[int]:
    ns = set()
    for br in blk.branches:
        for op in br.ops:
            if op.is_conv and op.k[0] == op.k[1] and op.k[0] > 1:
                ns.add(op.k[0])
            elif op.is_conv and 1 in op.k and max(op.k) > 1:
                ns.add(max(op.k))
    return sorted(ns)


def _info(block: Block, info: BlockInfo, bn: bool) -> BlockInfo | None:
    """``block`` traced at ``info``'s input, or None when it does not fit there (e.g. grids that differ)."""
    try:
        return block_info(block, info.in_shape, bn)
    except SpecError:
        return None


def _refactored(blk: Block, j: int, choice: str, info: BlockInfo, bn: bool) -> tuple[Block, BlockInfo] | None:
    try:
        new = branches.refactor_branch(blk.branches[j], choice)
    except SpecError:
        return None
    if new == blk.branches[j]:
        return None
    b = _with_branch(blk, j, new)
    bi = _info(b, info, bn)
    return None if bi is None else (b, bi)


def _all_as(blk: Block, choice: str, info: BlockInfo, bn: bool) -> tuple[Block, BlockInfo] | None:
    cur = None
    for j in range(len(blk.branches)):
        got = _refactored(blk, j, choice, info, bn)
        if got is not None:
            blk, cur = got
    return None if cur is None else (blk, cur)


def factorisation(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """Stacked 3x3 and asymmetric 1xn + nx1 convs: the general ratios and this block's actual figures."""
    blk, stage, idx = info.block, info.stage.name, info.index
    figures = [Figure("5x5 -> two 3x3, equal widths", stacked_ratio(5) - 1, "change"),
               Figure("3x3 -> 1x3 + 3x1, equal widths", asymmetric_ratio(3) - 1, "change")]
    for n in _fields(blk):
        figures.append(Figure(f"1x{n} + {n}x1 against {n}x{n} (2/n)", asymmetric_ratio(n), "ratio"))
    rows, applies = [CostRow("block as is", info.params, info.macs, current=True)], []
    for j, br in enumerate(blk.branches):
        cur = branches.kernel_choice(br)
        if cur is None:
            continue
        alts = [(c, _refactored(blk, j, c, info, spec.bn)) for c in branches.KERNEL_CHOICES if c != cur]
        alts = [(c, *got) for c, got in alts if got is not None]
        if not alts:
            continue
        rows.append(CostRow(f"branch {j} as is: {branch_text(br)}", *branch_costs(info)[j], current=True))
        for c, b, bi in alts:
            rows.append(CostRow(f"branch {j} as {CHOICE_TEXT[c]}: {branch_text(b.branches[j])}", *branch_costs(bi)[j]))
            applies.append(Apply(f"Branch {j}: {CHOICE_TEXT[c]}", "set_kernel", (stage, idx, j, c),
                                 f"stage.{stage}.block.{idx}.branch.{j}.kernel={c}"))
    if not applies:
        return None
    whole = {c: got[1] for c in branches.KERNEL_CHOICES if (got := _all_as(blk, c, info, spec.bn)) is not None}
    for c, bi in whole.items():
        rows.append(CostRow(f"block with every branch as {CHOICE_TEXT[c]}", bi.params, bi.macs))
    if "single" in whole:
        base = whole["single"]
        headline = f"{percent(_change(info.macs, base.macs))} against one nxn conv per branch"
        figures.append(Figure("this block against one nxn conv per branch", _change(info.macs, base.macs), "change"))
        verdict = (f"Its factorised branches make this block cost {info.macs:,} multiply-adds against "
                   f"{base.macs:,} with one nxn conv per branch ({percent(_change(info.macs, base.macs))}).")
    else:
        best_c, best = min(whole.items(), key=lambda kv: kv[1].macs)
        headline = f"as {CHOICE_TEXT[best_c]}: {percent(_change(best.macs, info.macs))} multiply-adds"
        figures.append(Figure(f"this block with {CHOICE_TEXT[best_c]}", _change(best.macs, info.macs), "change"))
        verdict = (f"Factorised as {CHOICE_TEXT[best_c]}, this block would cost {best.macs:,} multiply-adds "
                   f"instead of {info.macs:,} ({percent(_change(best.macs, info.macs))})"
                   + (": here it does not pay, as the first conv then runs before the stride or at full width."
                      if best.macs > info.macs else "."))
    summary = (f"Inception-v3 replaces big kernels by smaller ones with the same field: a 5x5 by two 3x3 "
               f"(-28% at equal widths) and an nxn by 1xn then nx1 (2/n of the cost, -33% for 3x3; the paper "
               f"uses it on 12 to 20 px grids). {verdict}")
    return Idea("factorisation", "Factorised convolutions", INCEPTION_V3, summary, tuple(figures), tuple(rows),
                tuple(applies), headline=headline)


# ---- 3. efficient grid reduction (Inception-v3, Fig. 9-10) ---------------------------------------

def grid_reduction(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """Conv-then-pool, pool-then-conv and parallel stride-2 branches for this block's d and k."""
    blk = info.block
    d, k = info.in_shape[1], info.in_shape[0]
    if info.out_shape[1] >= d:
        return None
    pool_only = blk.kind == "seq" and all(op.kind in ("maxpool", "avgpool", "lrn") for op in blk.branches[0].ops)
    if not (pool_only or (blk.kind == "inception" and len(blk.branches) > 1)):
        return None
    c = grid_reduction_costs(d, k)
    figures = (Figure("d (input grid)", d, "px"), Figure("k (input channels)", k, "channels"),
               Figure("conv then pool: 2d²k²", c["conv_then_pool"], "MACs"),
               Figure("pool then conv: 2(d/2)²k²", c["pool_then_conv"], "MACs"),
               Figure("parallel stride-2 conv and pool: (d/2)²k²", c["parallel"], "MACs"),
               Figure("this block, traced", info.macs, "MACs"),
               Figure("this block's output width", info.out_shape[0], "channels"))
    how = ("This block is a plain pool, so the next block's convolutions work on a pooled, unexpanded tensor: "
           "the pool-then-conv layout." if pool_only else
           f"This block runs stride-2 convolutions beside a stride-2 pool and concatenates them: "
           f"{d}x{d}x{k} to {info.out_shape[1]}x{info.out_shape[2]}x{info.out_shape[0]} for {info.macs:,} "
           "multiply-adds.")
    summary = (f"Inception-v3 (Fig. 9-10): shrinking a d x d x k grid to d/2 x d/2 x 2k by convolving first "
               f"costs 2d²k² = {float(c['conv_then_pool']):,.0f} here; pooling first costs a quarter, "
               f"{float(c['pool_then_conv']):,.0f}, but squeezes the representation through k channels at the "
               f"smaller grid (a bottleneck). Parallel stride-2 branches get both: {float(c['parallel']):,.0f} "
               f"for a k-filter conv beside the pool. {how}")
    headline = (f"conv then pool {short(c['conv_then_pool'])}, pool then conv {short(c['pool_then_conv'])}, "
                f"this block {short(info.macs)}")
    return Idea("grid_reduction", "Efficient grid reduction", INCEPTION_V3, summary, figures, headline=headline)


# ---- 4. auxiliary classifiers (GoogLeNet, Inception-v3) ---------------------------------------

def aux_heads(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """The aux heads attached after this block: cost, training-only, loss weight; on/off as an edit."""
    heads = [a for a in spec.aux if (a.stage, a.index) == (info.stage.name, info.index)]
    if not heads:
        return None
    paper, who = (GOOGLENET, "GoogLeNet") if spec.name.startswith("googlenet") else (INCEPTION_V3, "Inception-v3")
    figures: list[Figure] = []
    try:
        full = t if spec.aux_enabled else trace(replace(spec, aux_enabled=True))
        infos = [a for a in full.aux if a.aux.name in {h.name for h in heads}]
    except SpecError as exc:
        infos, too_small = [], str(exc)
    else:
        too_small = ""
    for a in infos:
        figures += [Figure(f"{a.aux.name} params (training only)", a.params, "params"),
                    Figure(f"{a.aux.name} multiply-adds (training only)", a.macs, "MACs")]
    for h in heads:
        figures.append(Figure(f"{h.name} loss weight", Fraction(str(h.loss_weight)), ""))
    cost = (f"{', '.join(f'{a.aux.name}: {a.params:,} params, {a.macs:,} multiply-adds' for a in infos)}. "
            if infos else f"At {t.input_size} px the head does not fit ({too_small}). ")
    state = "on" if spec.aux_enabled else "off"
    summary = (f"{who} adds a small classifier after this block ({info.out_shape[1]}x{info.out_shape[2]}x"
               f"{info.out_shape[0]}) whose weighted loss pushes gradient into the middle of the network. "
               f"{cost}It runs only in training and is dropped for inference. Aux heads are {state}.")
    on = not spec.aux_enabled
    apply = Apply(f"Turn aux heads {'on' if on else 'off'}", "set_aux", (on,), f"aux={'true' if on else 'false'}")
    headline = (f"{' + '.join(short(a.params) for a in infos) or 'no'} params, training only, loss weight "
                f"{', '.join(f'{h.loss_weight:g}' for h in heads)} ({state})")
    return Idea("aux", "Auxiliary classifier", paper, summary, tuple(figures), (), (apply,), train_pair="aux",
                headline=headline)


# ---- 5. residual connections and scaling (Inception-ResNet) -----------------------------------

def residual(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """The residual projection's cost and the scale in use against the paper's 0.1-0.3."""
    blk, stage = info.block, info.stage.name
    if blk.kind != "residual":
        return None
    scale = Fraction(str(blk.scale))
    figures = (Figure("projection params", info.proj_params, "params"),
               Figure("projection multiply-adds", info.proj_macs, "MACs"),
               Figure("projection share of the block's multiply-adds", Fraction(info.proj_macs, info.macs), "share"),
               Figure("residual scale", scale, ""))
    inside = Fraction(1, 10) <= scale <= Fraction(3, 10)
    summary = (f"Inception-ResNet concatenates the branches, projects them back to {info.in_shape[0]} channels "
               f"with a linear 1x1 ({info.proj_params:,} params, {info.proj_macs:,} multiply-adds), scales them "
               "and adds them to "
               f"the input. The paper scales by 0.1 to 0.3 because wide residual nets (over 1000 filters) 'died' "
               f"early in training without it; this block uses {blk.scale:g}"
               f"{'' if inside else ', outside that range'}.")
    applies = [Apply(f"Scale this stage's blocks by {v:.1f}", "set_scale", (stage, None, v),
                     f"stage.{stage}.scale={v:g}")
               for v in (0.2, 1.0) if abs(blk.scale - v) > 1e-9]
    headline = f"scale {blk.scale:g} (paper: 0.1 to 0.3), projection {short(info.proj_params)} params"
    return Idea("residual", "Residual connection and scaling", INCEPTION_V4, summary, figures, (), tuple(applies),
                train_pair="residual_scale", headline=headline)


# ---- NIN's mlpconv ---------------------------------------------------------------------------

def mlpconv(spec: ArchSpec, t: Trace, info: BlockInfo) -> Idea | None:
    """NIN's micro network: the 1x1 layers after the kxk conv and their share of the cost."""
    if info.block.role != "mlpconv":
        return None
    ones = [o for o in info.ops if o.op.is_conv and o.op.k == (1, 1)]
    m = sum(o.macs for o in ones)
    figures = (Figure("1x1 layers", len(ones), ""), Figure("1x1 multiply-adds", m, "MACs"),
               Figure("1x1 share of the block", Fraction(m, info.macs), "share"))
    summary = (f"NIN: after the kxk convolution, {_count(len(ones))} 1x1 convolutions act as a small multilayer "
               f"perceptron on each pixel's channels, for {share(Fraction(m, info.macs))} of this block's "
               "multiply-adds. GoogLeNet took the 1x1 convolution from here and used it to cut channels.")
    return Idea("mlpconv", "mlpconv: 1x1 convolutions as a micro network", NIN, summary, figures,
                headline=f"1x1 layers: {share(Fraction(m, info.macs))} of the block's multiply-adds")


BUILDERS = (reductions, factorisation, grid_reduction, aux_heads, residual, mlpconv)


def block_ideas(spec: ArchSpec, t: Trace, info: BlockInfo) -> list[Idea]:
    """Every idea that applies to the traced block ``info`` of ``spec``."""
    return [idea for make in BUILDERS if (idea := make(spec, t, info)) is not None]
