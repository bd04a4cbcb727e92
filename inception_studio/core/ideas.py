"""The vocabulary of the papers' design ideas, as :mod:`core.explain` shows them: the papers cited by name,
the records an idea is made of (a ``Figure``, a ``CostRow``, an ``Apply`` what-if edit, the ``Idea`` itself),
the papers' worked formulas, exact in ints and Fractions (:func:`reduction_example`, :func:`stacked_ratio`,
:func:`asymmetric_ratio`, :func:`grid_reduction_costs`), and finding a block and its costs in a trace.
The builders of the ideas (core.explain_ideas, core.explain_network) and :func:`core.explain.explain`
import them from here. No Qt, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError
from . import edits
from .analysis import human
from .spec import ArchSpec, Block, Op, Stage
from .trace import BlockInfo, Shape, op_cost, trace

# The papers, cited by name in every idea.
NIN = "Network in Network (Lin, Chen & Yan, 2013)"
GOOGLENET = "Going Deeper with Convolutions (Szegedy et al., 2014)"
BN_INCEPTION = "Batch Normalization (Ioffe & Szegedy, 2015)"
INCEPTION_V3 = "Rethinking the Inception Architecture for Computer Vision (Szegedy et al., 2015)"
INCEPTION_V4 = "Inception-v4, Inception-ResNet and the Impact of Residual Connections (Szegedy et al., 2016)"
ALEXNET = "ImageNet Classification with Deep Convolutional Neural Networks (Krizhevsky et al., 2012)"


# ---- result types ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One named number: an int count, or an exact Fraction (a ratio or a paper formula)."""

    label: str
    value: int | Fraction
    unit: str = ""  # "MACs", "params", "channels", "ratio", "" ...

    def text(self) -> str:
        """The value as a person reads it: 12,443,648 MACs, -28%, 2/7."""
        v = self.value
        if self.unit == "change":
            return percent(v)
        if self.unit == "share":
            return share(v)
        unit = f" {self.unit}" if self.unit and self.unit != "ratio" else ""
        if isinstance(v, Fraction) and v.denominator != 1:
            if self.unit == "ratio":
                return f"{v.numerator}/{v.denominator}"
            return f"{float(v):,.3f}".rstrip("0").rstrip(".") + unit
        return f"{int(v):,}{unit}"


@dataclass(frozen=True)
class CostRow:
    """A line of a comparison: a variant of the block (or branch) and what it costs."""

    label: str
    params: int
    macs: int
    width: int | None = None  # output channels, where they change
    current: bool = False  # the spec as it is


@dataclass(frozen=True)
class Apply:
    """A what-if as an ordinary edit: ``core.edits.<edit>(spec, *args)``; ``path`` is its --set form."""

    text: str
    edit: str
    args: tuple = ()
    path: str = ""

    def __call__(self, spec: ArchSpec) -> ArchSpec:
        """Run the edit on ``spec`` (a new, validated spec; SpecError if it does not fit)."""
        return getattr(edits, self.edit)(spec, *self.args)


@dataclass(frozen=True)
class Idea:
    """One design idea as it applies here: text, exact figures, comparisons, edits."""

    key: str  # reductions, factorisation, grid_reduction, aux, residual, mlpconv, gap_head, alexnet, stages
    title: str
    paper: str
    summary: str
    figures: tuple[Figure, ...] = ()
    rows: tuple[CostRow, ...] = ()
    applies: tuple[Apply, ...] = ()
    train_pair: str = ""  # "aux" | "residual_scale": a paired short run shows it (engine.paired_runs)
    headline: str = ""  # one short line with this block's key figures (the Inspector's list)

    def figure(self, label: str) -> Figure:
        """The figure called ``label`` (KeyError if none)."""
        for f in self.figures:
            if f.label == label:
                return f
        raise KeyError(label)


def percent(change: Fraction | int) -> str:
    """A relative change as the lectures print it: ``-28%``, ``+62%``."""
    v = round(float(change) * 100)
    return f"{'+' if v > 0 else ''}{v}%"


def short(n: int | Fraction) -> str:
    """A count in the short form of the headlines: 128.05M."""
    return human(float(n))


def share(part: Fraction | int) -> str:
    """A part of a whole as a percentage: ``23%``."""
    return f"{round(float(part) * 100)}%"


# ---- the papers' worked formulas (exact) ------------------------------------------------------

def conv_macs(h: int, w: int, cin: int, cout: int, k: int | tuple[int, int]) -> int:
    """Multiply-adds of a stride-1 'same' conv producing h x w x cout from cin channels."""
    kk = (k, k) if isinstance(k, int) else k
    return op_cost(Op("conv", out=cout, k=kk), cin, (cout, h, w), bn=False)[1]


def reduction_example(h: int = 28, w: int = 28, cin: int = 192, reduce: int = 16, cout: int = 32,
                      k: int = 5) -> tuple[int, int]:
    """(direct, through a 1x1 reduce) multiply-adds of ``cout`` kxk filters on h x w x cin."""
    return conv_macs(h, w, cin, cout, k), conv_macs(h, w, cin, reduce, 1) + conv_macs(h, w, reduce, cout, k)


def stacked_ratio(n: int) -> Fraction:
    """Cost of (n-1)/2 stacked 3x3 convs over one nxn, equal widths: 18/25 for 5x5."""
    if n < 3 or n % 2 == 0:
        raise SpecError(f"a {n}x{n} field can't be built from 3x3 convolutions")
    return Fraction(9 * (n - 1) // 2, n * n)


def asymmetric_ratio(n: int) -> Fraction:
    """Cost of 1xn followed by nx1 over one nxn, equal widths: 2/n."""
    if n < 2:
        raise SpecError("a 1x1 kernel has nothing to factorise")
    return Fraction(2 * n, n * n)


def grid_reduction_costs(d: int, k: int) -> dict[str, Fraction]:
    """Inception-v3's Fig. 9-10 costs for d x d x k -> d/2 x d/2 x 2k, counted as the paper does."""
    half = Fraction(d, 2)
    return {
        "conv_then_pool": Fraction(2 * d * d * k * k),  # 2d²k²: k -> 2k on the full grid, then pool
        "pool_then_conv": 2 * half * half * k * k,  # 2(d/2)²k²: a quarter, but k channels at d/2 (bottleneck)
        "parallel": half * half * k * k,  # (d/2)²k²: stride-2 conv to k beside a stride-2 pool of k
    }


# ---- looking up a block ----------------------------------------------------------------------

def find_block(spec: ArchSpec, key: str) -> tuple[Stage, int, Block]:
    """The block named ``key``: its name, paper label or a graph id (``b:name`` or a node inside it)."""
    text = key.strip()
    if text.startswith("b:"):
        text = text[2:].split("/")[0]
    for s, i, b in spec.iter_blocks():
        if b.name == text:
            return s, i, b
    low = text.lower()
    for s, i, b in spec.iter_blocks():
        if b.label.lower() == low:
            return s, i, b
    known = [b.label for _, _, b in spec.iter_blocks() if b.kind != "seq"][:12]
    raise SpecError(f"{spec.name}: no block '{key}' (blocks include {', '.join(known)})")


def block_info(block: Block, in_shape: Shape, bn: bool) -> BlockInfo:
    """``block`` traced on its own at ``in_shape`` (what-if variants of a block, without the network)."""
    c, h, w = in_shape
    if h != w:
        raise SpecError(f"{block.label}: only square inputs are traced, got {h}x{w}")
    mini = ArchSpec(name=block.name, title="", description="", stages=(Stage("x", "x", (block,)),),
                    in_channels=c, input_size=h, bn=bn)
    return trace(mini).blocks[0]


def branch_costs(info: BlockInfo) -> dict[int, tuple[int, int]]:
    """(params, MACs) of each branch of a traced block."""
    out: dict[int, tuple[int, int]] = {}
    for o in info.ops:
        p, m = out.get(o.path[1], (0, 0))
        out[o.path[1]] = (p + o.params, m + o.macs)
    return out
