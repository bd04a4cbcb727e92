"""Per-spec derived data shared by the panels: the analysis summary and the block graph.

Every panel redraws on ``specChanged``; computing ``analyze`` and ``build_graph`` once per spec
(not once per panel) keeps an edit's refresh cheap, and each on its own: a panel that shows numbers
only never builds the graph. The caches hold the specs they saw, so ``id`` keys cannot be reused by a
new object while they are cached.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import cache

from ...core.analysis import Summary, analyze
from ...core.graph import BlockGraph, build_graph
from ...core.presets import get_spec
from ...core.spec import ArchSpec

_CACHE_SIZE = 16
_summaries: OrderedDict[int, tuple[ArchSpec, Summary]] = OrderedDict()
_graphs: OrderedDict[int, tuple[ArchSpec, BlockGraph]] = OrderedDict()


def _cached(store: OrderedDict, spec: ArchSpec, make):
    key = id(spec)
    hit = store.get(key)
    if hit is not None and hit[0] is spec:
        store.move_to_end(key)
        return hit[1]
    value = make(spec)
    store[key] = (spec, value)
    while len(store) > _CACHE_SIZE:
        store.popitem(last=False)
    return value


def derive(spec: ArchSpec) -> tuple[Summary, BlockGraph]:
    """(analysis summary, block graph) of ``spec``, each computed once per spec object."""
    return summary_of(spec), graph_of(spec)


@cache
def preset(name: str) -> ArchSpec:
    """Preset ``name``, built once per process (specs are immutable; several panels list every preset)."""
    return get_spec(name)


def summary_of(spec: ArchSpec) -> Summary:
    """The analysis summary of ``spec`` (cached; the panels that show numbers only need not build the graph)."""
    return _cached(_summaries, spec, analyze)


def graph_of(spec: ArchSpec) -> BlockGraph:
    """The block graph of ``spec`` (cached)."""
    return _cached(_graphs, spec, build_graph)
