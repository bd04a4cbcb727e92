"""Why each Inception block looks the way it does: the papers' design ideas as exact what-ifs.

:func:`explain` returns, for one block of a spec at one input size, every idea that applies to it
(1x1 reductions, factorisation, efficient grid reduction, aux heads, residual scaling, NIN's
mlpconv) with this block's figures, each from :mod:`core.analysis` arithmetic on the spec in view,
and the edits (:class:`Apply`, calls of :mod:`core.edits` functions) that turn a what-if into the
spec; without a block, the network-level lessons. The ideas' records and the papers' worked formulas
(exact: ints and Fractions, no floats) are core.ideas', handed on from here. No Qt, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import edits
from .explain_ideas import block_ideas
from .explain_network import network_ideas
from .ideas import (
    ALEXNET,
    BN_INCEPTION,
    GOOGLENET,
    INCEPTION_V3,
    INCEPTION_V4,
    NIN,
    Apply,
    CostRow,
    Figure,
    Idea,
    asymmetric_ratio,
    block_info,
    branch_costs,
    conv_macs,
    find_block,
    grid_reduction_costs,
    percent,
    reduction_example,
    share,
    short,
    stacked_ratio,
)
from .spec import ArchSpec
from .trace import Shape, trace


@dataclass(frozen=True)
class Explanation:
    """Every idea that applies to one block (or, with ``block`` empty, to the whole network)."""

    spec_name: str
    input_size: int
    block: str  # block name, "" for the network
    label: str
    stage: str
    index: int
    in_shape: Shape | None
    out_shape: Shape | None
    params: int
    macs: int
    ideas: tuple[Idea, ...]

    def idea(self, key: str) -> Idea | None:
        """The idea called ``key`` if it applies here."""
        return next((i for i in self.ideas if i.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (Fractions as floats with their exact text)."""
        return {
            "variant": self.spec_name, "input_size": self.input_size, "block": self.block, "label": self.label,
            "stage": self.stage, "index": self.index, "params": self.params, "macs": self.macs,
            "input": list(self.in_shape) if self.in_shape else None,
            "output": list(self.out_shape) if self.out_shape else None,
            "ideas": [_idea_dict(i) for i in self.ideas],
        }


def _idea_dict(i: Idea) -> dict[str, Any]:
    def fig(f: Figure) -> dict[str, Any]:
        exact = f.value if isinstance(f.value, int) else (
            f"{f.value.numerator}/{f.value.denominator}" if f.value.denominator != 1 else f.value.numerator)
        return {"label": f.label, "value": int(f.value) if isinstance(f.value, int) else float(f.value),
                "exact": exact, "unit": f.unit, "text": f.text()}
    return {"key": i.key, "title": i.title, "paper": i.paper, "headline": i.headline, "summary": i.summary,
            "figures": [fig(f) for f in i.figures],
            "rows": [{"label": r.label, "params": r.params, "macs": r.macs, "width": r.width, "current": r.current}
                     for r in i.rows],
            "applies": [{"text": a.text, "edit": a.edit, "args": list(a.args), "set": a.path} for a in i.applies],
            "train_pair": i.train_pair or None}


def explain(spec: ArchSpec, block: str | None = None, input_size: int | None = None) -> Explanation:
    """Every idea that applies to ``block`` (name, label or graph id) at ``input_size``; None: the network."""
    if input_size is not None and input_size != spec.input_size:
        spec = edits.set_field(spec, "input_size", int(input_size))
    t = trace(spec)
    if block is None or block == "":
        ideas = network_ideas(spec, t)
        return Explanation(spec.name, t.input_size, "", spec.title, "", -1, None, t.head_in,
                           sum(b.params for b in t.blocks) + t.head_params, sum(b.macs for b in t.blocks) + t.head_macs,
                           tuple(ideas))
    stage, index, blk = find_block(spec, block)
    info = next(b for b in t.blocks if b.block.name == blk.name)
    ideas = block_ideas(spec, t, info)
    return Explanation(spec.name, t.input_size, blk.name, blk.label, stage.name, index, info.in_shape,
                       info.out_shape, info.params, info.macs, tuple(ideas))


__all__ = ["explain", "find_block", "block_info", "branch_costs", "Explanation", "Idea", "Figure", "CostRow", "Apply",
           "reduction_example", "stacked_ratio", "asymmetric_ratio", "grid_reduction_costs", "conv_macs", "percent",
           "share", "short",
           "NIN", "GOOGLENET", "BN_INCEPTION", "INCEPTION_V3", "INCEPTION_V4", "ALEXNET"]
