"""Rewrites of one branch or block, the pieces the kernel and reduction edits are made of: which kernel
factorisation a branch is (``kernel_choice``) and the branch as another (``refactor_branch``: one nxn,
stacked 3x3s, or 1xn + nx1 with the same receptive field), and the 1x1 reductions and pool projections
of a block, without which it is the GoogLeNet paper's naive module (``naive_block``). Pure functions
``Branch -> Branch`` / ``Block -> Block``; no torch, no Qt.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import SpecError
from .spec import Block, Branch, Op

KERNEL_CHOICES = ("single", "stacked", "asymmetric")


# ---- kernels ---------------------------------------------------------------------------------

def _spatial(br: Branch, where: str) -> tuple[int, int, list[int]]:
    idx = [k for k, op in enumerate(br.ops) if op.kind == "conv" and op.k != (1, 1)]
    if not idx:
        raise SpecError(f"{where}: the branch has no spatial convolution to factorise")
    if idx != list(range(idx[0], idx[-1] + 1)) or idx[-1] != len(br.ops) - 1:
        raise SpecError(f"{where}: only a branch ending in its spatial convolutions can be refactored")
    nh = 1 + sum(br.ops[k].k[0] - 1 for k in idx)
    nw = 1 + sum(br.ops[k].k[1] - 1 for k in idx)
    if nh != nw:
        raise SpecError(f"{where}: the branch's receptive field is {nh}x{nw}, not square")
    if any(br.ops[k].stride != 1 for k in idx[:-1]):
        raise SpecError(f"{where}: only the last spatial convolution may be strided")
    return nh, br.ops[idx[-1]].stride, idx


def kernel_choice(br: Branch) -> str | None:
    """Which of KERNEL_CHOICES the branch currently is (None if it has no spatial conv)."""
    idx = [op for op in br.ops if op.kind == "conv" and op.k != (1, 1)]
    if not idx:
        return None
    if len(idx) == 1:
        return "single"
    if all(op.k == (3, 3) for op in idx):
        return "stacked"
    if all(1 in op.k for op in idx):
        return "asymmetric"
    return None


def refactor_branch(br: Branch, choice: str, where: str = "branch") -> Branch:
    """The branch with its spatial convs as one nxn (``single``), 3x3s (``stacked``) or 1xn + nx1."""
    n, stride, idx = _spatial(br, where)
    last = br.ops[idx[-1]]
    pad = "valid" if any(br.ops[k].pad == "valid" for k in idx) else "same"
    width = last.out
    if choice == "single":
        new_ops = [replace(last, k=(n, n), stride=stride, pad=pad)]
    elif choice == "stacked":
        if n % 2 == 0 or n < 3:
            raise SpecError(f"{where}: a {n}x{n} field can't be built from 3x3 convolutions")
        m = (n - 1) // 2
        new_ops = [replace(last, k=(3, 3), stride=1, pad=pad) for _ in range(m)]
        new_ops[-1] = replace(new_ops[-1], stride=stride)
    elif choice == "asymmetric":
        if n < 2:
            raise SpecError(f"{where}: a 1x1 field has nothing to factorise")
        new_ops = [replace(last, k=(1, n), stride=1, pad=pad), replace(last, k=(n, 1), stride=stride, pad=pad)]
    else:
        raise SpecError(f"{where}: choice must be one of {', '.join(KERNEL_CHOICES)}, got '{choice}'")
    # Intermediate convs keep the width entering the spatial part (the reduce's), as in
    # Inception-v3's factorisation, so the refactored branch costs less, not more.
    mid = br.ops[idx[0] - 1].out if idx[0] > 0 and br.ops[idx[0] - 1].is_conv else width
    new_ops = [replace(o, out=mid) for o in new_ops[:-1]] + [replace(new_ops[-1], out=width)]
    return replace(br, ops=br.ops[:idx[0]] + tuple(new_ops))


# ---- 1x1 reductions (GoogLeNet's naive module) ---------------------------------------------

def _is_1x1(op: Op) -> bool:
    return op.kind == "conv" and op.k == (1, 1) and op.stride == 1


def _is_spatial(op: Op) -> bool:
    return op.is_conv and op.k != (1, 1)


def reduction_positions(br: Branch) -> list[int]:
    """Indices of the 1x1 convs that feed a spatial conv (or a fork of them) in this branch."""
    found = []
    for k, op in enumerate(br.ops):
        if not _is_1x1(op):
            continue
        nxt = br.ops[k + 1] if k + 1 < len(br.ops) else None
        if (nxt is not None and _is_spatial(nxt)) or (nxt is None and br.fork and all(_is_spatial(t[0]) for t in br.fork)):
            found.append(k)
    return found


def is_pool_projection(br: Branch) -> bool:
    """True for a pool branch ending in a 1x1 projection (GoogLeNet's "pool proj")."""
    return (len(br.ops) == 2 and not br.fork and br.ops[0].kind in ("maxpool", "avgpool") and _is_1x1(br.ops[1]))


def naive_block(block: Block) -> Block:
    """The block without its 1x1 reductions and pool projections (the GoogLeNet paper's naive module)."""
    branches = []
    for br in block.branches:
        if block.kind == "inception" and is_pool_projection(br):
            branches.append(replace(br, ops=br.ops[:1]))
            continue
        drop = set(reduction_positions(br))
        branches.append(replace(br, ops=tuple(op for k, op in enumerate(br.ops) if k not in drop)))
    return replace(block, branches=tuple(branches))
