"""Edits: small pure functions ``spec -> new spec``, each checked, plus the dotted paths that name them
(the branch rewrites they use are core.branches').

Paths (used by ``--set PATH=VALUE`` and as the GUI editors' objectNames):

- ``num_classes``, ``in_channels``, ``input_size``, ``width_mult``, ``dropout``, ``aux`` (true/false),
  ``bn`` (true/false), ``residual_scale`` (every residual block)
- ``stage.<stage>.count``: the stage's block count
- ``stage.<stage>.scale``: residual scale of every block in the stage
- ``stage.<stage>.block.<i|*>.scale``
- ``stage.<stage>.block.<i|*>.branch.<j>.op.<k>.width``: an op's output width (``*``: every block)
- ``stage.<stage>.block.<i|*>.branch.<j>.fork.<f>.op.<k>.width``: a width in a forked tail
- ``stage.<stage>.block.<i|*>.branch.<j>.kernel``: ``single`` (e.g. 5x5), ``stacked`` (3x3 convs),
  ``asymmetric`` (1xn then nx1)
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..errors import SpecError
from .trace import trace
from .branches import KERNEL_CHOICES, naive_block, refactor_branch
from .spec import ArchSpec, Block, Op, Stage
from .spec_checks import LIMITS, MAX_WIDTH, validate_structure

MAX_COUNT = 64


def checked(spec: ArchSpec) -> ArchSpec:
    """Validate ``spec`` fully (structure and shapes at its input size) and return it."""
    validate_structure(spec)
    trace(spec)
    return spec


def _replace_stage(spec: ArchSpec, stage: Stage) -> ArchSpec:
    return replace(spec, stages=tuple(stage if s.name == stage.name else s for s in spec.stages))


def _block_indices(stage: Stage, block: int | None) -> list[int]:
    if block is None:
        if not stage.blocks:
            raise SpecError(f"stage.{stage.name}: has no blocks to edit")
        return list(range(stage.count))
    if not 0 <= block < stage.count:
        raise SpecError(f"stage.{stage.name}.block.{block}: no such block (the stage has {stage.count})")
    return [block]


def _map_blocks(spec: ArchSpec, stage_name: str, block: int | None, fn) -> ArchSpec:
    stage = spec.stage(stage_name)
    idx = set(_block_indices(stage, block))
    blocks = tuple(fn(b, i) if i in idx else b for i, b in enumerate(stage.blocks))
    return checked(_replace_stage(spec, replace(stage, blocks=blocks)))


# ---- counts ----------------------------------------------------------------------------------

def _bump(text: str, taken: set[str]) -> str:
    """Next name after ``text``: block35_10 -> block35_11, 4e -> 4f, Mixed_6e -> Mixed_6f, x -> x_2."""
    cand = text
    for _ in range(1000):
        m = re.match(r"^(.*?)(\d+)$", cand)
        if m:
            cand = f"{m.group(1)}{int(m.group(2)) + 1}"
        else:
            m = re.match(r"^(.*\d)([a-y])$", cand)
            cand = f"{m.group(1)}{chr(ord(m.group(2)) + 1)}" if m else f"{cand}_2"
        if cand not in taken:
            return cand
    raise SpecError(f"cannot find a free name after '{text}'")


def set_count(spec: ArchSpec, stage_name: str, n: int) -> ArchSpec:
    """Set a repeatable stage's block count; new blocks copy the last one, 0 removes them all."""
    stage = spec.stage(stage_name)
    where = f"stage.{stage_name}.count"
    if not stage.repeatable:
        raise SpecError(f"{where}: '{stage.label}' is not a repeated stage; its block count is fixed")
    if not isinstance(n, int) or isinstance(n, bool):
        raise SpecError(f"{where}: count must be a whole number, got {n!r}")
    if n < 0:
        raise SpecError(f"{where}: count must be >= 0, got {n}")
    if n > MAX_COUNT:
        raise SpecError(f"{where}: count must be <= {MAX_COUNT}, got {n}")
    blocks = list(stage.blocks)
    template = stage.template or (blocks[0] if blocks else None)
    if n > len(blocks) and template is None:
        raise SpecError(f"{where}: the stage has no block to repeat")
    names = {b.name for _, _, b in spec.iter_blocks()}
    labels = {b.label for _, _, b in spec.iter_blocks()}
    while len(blocks) < n:
        last = blocks[-1] if blocks else template
        name = _bump(last.name, names) if blocks else last.name
        label = _bump(last.label, labels) if blocks else last.label
        names.add(name)
        labels.add(label)
        blocks.append(replace(last, name=name, label=label))
    blocks = blocks[:n]
    new_stage = replace(stage, blocks=tuple(blocks), template=template if n == 0 else None)
    new = _replace_stage(spec, new_stage)
    # Aux heads attached past the new end move to the stage's last block.
    aux = tuple(replace(a, index=min(a.index, n - 1)) if a.stage == stage_name and n > 0 and a.index >= n else a
                for a in spec.aux)
    new = replace(new, aux=aux)
    if n == 0 and any(a.stage == stage_name for a in spec.active_aux):
        raise SpecError(f"{where}: an aux head attaches to this stage; turn aux heads off (aux=false) before removing it")
    return checked(new)


# ---- widths ----------------------------------------------------------------------------------

def _set_op_width(ops: tuple[Op, ...], k: int, value: int, where: str) -> tuple[Op, ...]:
    if not 0 <= k < len(ops):
        raise SpecError(f"{where}: no op {k} (the chain has {len(ops)})")
    op = ops[k]
    if not op.is_conv:
        raise SpecError(f"{where}: op {k} is a {op.kind}, which has no width (it passes its input through)")
    return ops[:k] + (replace(op, out=value),) + ops[k + 1:]


def _check_width(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: width must be a whole number, got {value!r}")
    if value <= 0:
        raise SpecError(f"{where}: width must be > 0, got {value}")
    if value > MAX_WIDTH:
        raise SpecError(f"{where}: width must be <= {MAX_WIDTH}, got {value}")
    return value


def set_width(spec: ArchSpec, stage: str, block: int | None, branch: int, op: int, value: int,
              fork: int | None = None) -> ArchSpec:
    """Set one conv's output width in one block (``block=None``: every block of the stage)."""
    bi = "*" if block is None else block
    where = f"stage.{stage}.block.{bi}.branch.{branch}." + (f"fork.{fork}." if fork is not None else "") + f"op.{op}.width"
    value = _check_width(value, where)

    def edit(b: Block, _i: int) -> Block:
        if not 0 <= branch < len(b.branches):
            raise SpecError(f"{where}: block '{b.label}' has no branch {branch} (it has {len(b.branches)})")
        br = b.branches[branch]
        if fork is None:
            new = replace(br, ops=_set_op_width(br.ops, op, value, where))
        else:
            if not 0 <= fork < len(br.fork):
                raise SpecError(f"{where}: branch {branch} of '{b.label}' has no fork tail {fork}")
            tails = list(br.fork)
            tails[fork] = _set_op_width(tails[fork], op, value, where)
            new = replace(br, fork=tuple(tails))
        return replace(b, branches=b.branches[:branch] + (new,) + b.branches[branch + 1:])

    return _map_blocks(spec, stage, block, edit)


def scale_widths(spec: ArchSpec, mult: float) -> ArchSpec:
    """Multiply every conv width (aux heads included) by ``mult``, rounding, at least 1."""
    if not isinstance(mult, (int, float)) or isinstance(mult, bool) or not 0 < mult <= 16:
        raise SpecError(f"width_mult: multiplier must be in (0, 16], got {mult!r}")

    def w(n: int) -> int:
        return max(1, int(round(n * mult)))

    def ops(chain: tuple[Op, ...]) -> tuple[Op, ...]:
        return tuple(replace(o, out=w(o.out)) if o.is_conv else o for o in chain)

    def block(b: Block) -> Block:
        return replace(b, branches=tuple(replace(br, ops=ops(br.ops), fork=tuple(ops(t) for t in br.fork)) for br in b.branches))

    stages = tuple(replace(s, blocks=tuple(block(b) for b in s.blocks),
                           template=block(s.template) if s.template else None) for s in spec.stages)
    aux = tuple(replace(a, convs=ops(a.convs), fc=tuple(w(f) for f in a.fc)) for a in spec.aux)
    return checked(replace(spec, stages=stages, aux=aux, width_mult=round(spec.width_mult * mult, 6)))


# ---- kernels ---------------------------------------------------------------------------------

def set_kernel(spec: ArchSpec, stage: str, block: int | None, branch: int, choice: str) -> ArchSpec:
    """Refactor a branch's spatial convs: one nxn, stacked 3x3s, or 1xn + nx1 (same receptive field)."""
    bi = "*" if block is None else block
    where = f"stage.{stage}.block.{bi}.branch.{branch}.kernel"
    choice = {"5x5": "single", "7x7": "single", "3x3x2": "stacked", "two 3x3": "stacked"}.get(choice, choice)
    if choice not in KERNEL_CHOICES:
        raise SpecError(f"{where}: choice must be one of {', '.join(KERNEL_CHOICES)}, got '{choice}'")

    def edit(b: Block, _i: int) -> Block:
        if not 0 <= branch < len(b.branches):
            raise SpecError(f"{where}: block '{b.label}' has no branch {branch}")
        new = refactor_branch(b.branches[branch], choice, where)
        return replace(b, branches=b.branches[:branch] + (new,) + b.branches[branch + 1:])

    return _map_blocks(spec, stage, block, edit)


# ---- 1x1 reductions (GoogLeNet's naive module) ---------------------------------------------

def remove_reductions(spec: ArchSpec, stage: str, block: int | None) -> ArchSpec:
    """Drop a block's 1x1 reductions and pool projection, so its kxk convs see the full input."""
    def edit(b: Block, i: int) -> Block:
        new = naive_block(b)
        if new == b:
            raise SpecError(f"stage.{stage}.block.{i}: '{b.label}' has no 1x1 reductions to remove")
        return new

    return _map_blocks(spec, stage, block, edit)


# ---- scalars ---------------------------------------------------------------------------------

def set_scale(spec: ArchSpec, stage: str | None, block: int | None, value: float) -> ArchSpec:
    """Set the residual scale of residual blocks (one block, a stage, or the whole network)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 10:
        raise SpecError(f"residual scale must be in (0, 10], got {value!r}")
    if stage is None:
        stages = tuple(replace(s, blocks=tuple(replace(b, scale=float(value)) if b.kind == "residual" else b for b in s.blocks))
                       for s in spec.stages)
        if not any(b.kind == "residual" for s in spec.stages for b in s.blocks):
            raise SpecError(f"residual_scale: {spec.name} has no residual blocks")
        return checked(replace(spec, stages=stages))

    def edit(b: Block, _i: int) -> Block:
        if b.kind != "residual":
            raise SpecError(f"stage.{stage}.scale: '{b.label}' is not a residual block")
        return replace(b, scale=float(value))

    return _map_blocks(spec, stage, block, edit)


def set_aux(spec: ArchSpec, on: bool) -> ArchSpec:
    """Switch the aux heads on or off."""
    if on and not spec.aux:
        raise SpecError(f"aux: {spec.name} has no auxiliary heads")
    return checked(replace(spec, aux_enabled=bool(on)))


def set_field(spec: ArchSpec, name: str, value) -> ArchSpec:
    """Set num_classes, in_channels, input_size, bn or dropout."""
    if name in ("num_classes", "in_channels", "input_size"):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SpecError(f"{name}: must be a positive whole number, got {value!r}")
        limit = LIMITS[name]  # the ranges every spec keeps (core.spec)
        if value > limit:
            raise SpecError(f"{name}: must be <= {limit}, got {value}")
        return checked(replace(spec, **{name: value}))
    if name == "bn":
        if not isinstance(value, bool):
            raise SpecError(f"bn: must be true or false, got {value!r}")
        return checked(replace(spec, bn=value))
    if name == "dropout":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise SpecError(f"dropout: must be in [0, 1), got {value!r}")
        return checked(replace(spec, head=replace(spec.head, dropout=float(value))))
    raise SpecError(f"unknown setting '{name}'")


# ---- paths -----------------------------------------------------------------------------------

def _parse_value(text):
    if not isinstance(text, str):
        return text
    low = text.strip().lower()
    if low in ("true", "on", "yes"):
        return True
    if low in ("false", "off", "no"):
        return False
    for conv in (int, float):
        try:
            return conv(low)
        except ValueError:
            pass
    return text.strip()


def _index(tok: str, what: str, path: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise SpecError(f"{path}: {what} must be a number, got '{tok}'") from None


def apply_edit(spec: ArchSpec, path: str, value) -> ArchSpec:
    """Apply the edit named by a dotted ``path`` (see the module docstring); ``value`` may be text."""
    value = _parse_value(value)
    parts = path.strip().split(".")
    head = parts[0]
    if len(parts) == 1:
        if head == "width_mult":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise SpecError(f"width_mult: must be a positive number, got {value!r}")
            return scale_widths(spec, value / spec.width_mult)
        if head == "aux":
            if not isinstance(value, bool):
                raise SpecError(f"aux: must be true or false, got {value!r}")
            return set_aux(spec, value)
        if head == "residual_scale":
            return set_scale(spec, None, None, value)
        return set_field(spec, head, value)
    if head != "stage" or len(parts) < 3:
        raise SpecError(f"{path}: unknown path (see 'Edit paths' in the README)")
    stage = parts[1]
    spec.stage(stage)
    rest = parts[2:]
    if rest == ["count"]:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return set_count(spec, stage, value)
    if rest == ["scale"]:
        return set_scale(spec, stage, None, value)
    if len(rest) >= 3 and rest[0] == "block":
        block = None if rest[1] == "*" else _index(rest[1], "block", path)
        tail = rest[2:]
        if tail == ["scale"]:
            return set_scale(spec, stage, block, value)
        if len(tail) >= 3 and tail[0] == "branch":
            branch = _index(tail[1], "branch", path)
            t = tail[2:]
            if t == ["kernel"]:
                return set_kernel(spec, stage, block, branch, str(value))
            if len(t) == 3 and t[0] == "op" and t[2] == "width":
                return set_width(spec, stage, block, branch, _index(t[1], "op", path), value)
            if len(t) == 5 and t[0] == "fork" and t[2] == "op" and t[4] == "width":
                return set_width(spec, stage, block, branch, _index(t[3], "op", path), value, fork=_index(t[1], "fork", path))
    raise SpecError(f"{path}: unknown path (see 'Edit paths' in the README)")


def apply_edits(spec: ArchSpec, assignments: list[str]) -> ArchSpec:
    """Apply ``PATH=VALUE`` strings in order."""
    for item in assignments:
        if "=" not in item:
            raise SpecError(f"--set '{item}': expected PATH=VALUE")
        path, value = item.split("=", 1)
        spec = apply_edit(spec, path, value)
    return spec


def width_path(stage: str, block: int | None, branch: int, op: int, fork: int | None = None) -> str:
    """The path (and objectName) of one width."""
    b = "*" if block is None else str(block)
    mid = f".fork.{fork}" if fork is not None else ""
    return f"stage.{stage}.block.{b}.branch.{branch}{mid}.op.{op}.width"
