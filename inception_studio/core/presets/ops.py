"""Shorthands the preset files write their networks in: convs, pools, branches and blocks."""
from __future__ import annotations

from collections.abc import Callable

from ..spec import Block, Branch, Op, Stage


def conv(out: int, k: int | tuple[int, int] = 1, s: int = 1, pad: str = "same") -> Op:
    """A conv (+BN) + ReLU; ``k`` an int for square kernels or (h, w)."""
    kk = (k, k) if isinstance(k, int) else tuple(k)
    return Op("conv", out=out, k=kk, stride=s, pad=pad)


def vconv(out: int, k: int | tuple[int, int] = 3, s: int = 1) -> Op:
    """A conv with 'valid' (no) padding, the papers' V."""
    return conv(out, k, s, pad="valid")


def maxpool(k: int = 3, s: int = 2, pad: str = "valid", ceil: bool = False) -> Op:
    """A max pool."""
    return Op("maxpool", k=(k, k), stride=s, pad=pad, ceil=ceil)


def avgpool(k: int = 3, s: int = 1, pad: str = "same", count_include_pad: bool = True, ceil: bool = False) -> Op:
    """An average pool."""
    return Op("avgpool", k=(k, k), stride=s, pad=pad, count_include_pad=count_include_pad, ceil=ceil)


def br(*ops: Op, role: str = "", fork: tuple[tuple[Op, ...], ...] = ()) -> Branch:
    """A branch from ops."""
    return Branch(ops=tuple(ops), fork=fork, role=role)


def seq(name: str, label: str, *ops: Op, role: str = "stem") -> Block:
    """A plain chain of ops as one block."""
    return Block(kind="seq", name=name, label=label, branches=(br(*ops),), role=role)


def repeat(stage: str, label: str, role: str, n: int, make: Callable[[str, str], Block], names: str, labels: str) -> Stage:
    """A repeatable stage of ``n`` identical blocks named ``names.format(i)``."""
    blocks = tuple(make(names.format(i + 1), labels.format(i + 1)) for i in range(n))
    return Stage(stage, label, blocks, repeatable=True)
