"""The guided tour (Help -> Tour): NIN -> GoogLeNet -> BN-Inception -> Inception-v3 -> v4 ->
Inception-ResNet-v2, one short step each, as data: which preset, which graph nodes to select, which
block's ideas (core.explain) to show, and a few sentences of our own citing the paper. No Qt.
"""
from __future__ import annotations

from dataclasses import dataclass

from .explain import BN_INCEPTION, GOOGLENET, INCEPTION_V3, INCEPTION_V4, NIN, Idea, explain
from .presets import get_spec
from .spec import ArchSpec


@dataclass(frozen=True)
class TourStep:
    """One stop of the tour."""

    variant: str  # preset name
    title: str
    paper: str
    text: str
    nodes: tuple[str, ...]  # graph node ids to select/highlight (the first is selected)
    shows: tuple[tuple[str, str], ...]  # (block name, or "" for the network; idea key) shown beside the text


TOUR: tuple[TourStep, ...] = (
    TourStep("nin", "Network in Network", NIN,
             "Each mlpconv block follows its kxk convolution with 1x1 convolutions: a tiny perceptron over "
             "the channels at every pixel. The network ends in global average pooling, with no fully "
             "connected layer to overfit.",
             ("b:mlpconv1", "b:mlpconv4"), (("mlpconv1", "mlpconv"), ("", "gap_head"))),
    TourStep("googlenet_paper", "GoogLeNet (Inception-v1)", GOOGLENET,
             "An Inception block runs 1x1, 3x3, 5x5 and pooling side by side and concatenates them. Run "
             "naively it would be too costly; a 1x1 reduction before each 3x3 and 5x5 cuts the 5x5 branch of "
             "3a from 120 to 12 million multiply-adds. Two auxiliary classifiers help training.",
             ("b:inception3a", "aux:aux1", "aux:aux2"), (("inception3a", "reductions"), ("inception4a", "aux"))),
    TourStep("bn_inception", "BN-Inception", BN_INCEPTION,
             "Batch normalisation after every convolution lets the network train with much higher learning "
             "rates. The 5x5 convolutions become two stacked 3x3s, and blocks 3c and 4e halve the grid with "
             "stride-2 branches beside a pool.",
             ("b:inception3a", "b:inception3c"), (("inception3a", "factorisation"), ("inception3c", "grid_reduction"))),
    TourStep("inception_v3", "Inception-v3", INCEPTION_V3,
             "Factorise further: a 7x7 becomes 1x7 then 7x1, at 2/7 of the cost. Reduction blocks such as "
             "Mixed_6a shrink the grid with parallel stride-2 branches, avoiding both the cost of convolving "
             "first and the bottleneck of pooling first.",
             ("b:Mixed_6b", "b:Mixed_6a", "aux:AuxLogits"),
             (("Mixed_6b", "factorisation"), ("Mixed_6a", "grid_reduction"), ("Mixed_6e", "aux"))),
    TourStep("inception_v4", "Inception-v4", INCEPTION_V4,
             "A cleaner, uniform design: 4 Inception-A, 7 Inception-B and 3 Inception-C blocks, with dedicated "
             "Reduction-A and Reduction-B blocks between the grids.",
             ("b:reduction_a", "b:inception_b1"),
             (("reduction_a", "grid_reduction"), ("inception_b1", "factorisation"))),
    TourStep("inception_resnet_v2", "Inception-ResNet-v2", INCEPTION_V4,
             "Each block adds its branches back to its input through a linear 1x1 projection. The sum is "
             "scaled down (0.1 to 0.3) first: without that, the paper's widest residual networks died early "
             "in training.",
             ("b:block35_1", "b:block17_1", "b:block8_1"), (("block35_1", "residual"),)),
)


def tour_spec(step: TourStep) -> ArchSpec:
    """The preset a tour step shows."""
    return get_spec(step.variant)


def tour_ideas(step: TourStep, spec: ArchSpec | None = None) -> list[tuple[str, Idea]]:
    """(block label, idea) for each idea the step shows, computed live on ``spec`` (default: the preset)."""
    spec = spec or tour_spec(step)
    out = []
    for block, key in step.shows:
        ex = explain(spec, block or None)
        idea = ex.idea(key)
        if idea is not None:
            out.append((ex.label, idea))
    return out


__all__ = ["TOUR", "TourStep", "tour_spec", "tour_ideas"]
