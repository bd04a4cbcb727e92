"""Per-spec derived data shared by the panels: the analysis summary and the block graph.

Every panel redraws on ``specChanged``; computing ``analyze`` and ``build_graph`` once per spec
(not once per panel) keeps an edit's refresh cheap. The cache holds the specs it saw, so ``id``
keys cannot be reused by a new object while they are cached.
"""
from __future__ import annotations

from collections import OrderedDict
from functools import cache

from ...core.analysis import Summary, analyze
from ...core.graph import BlockGraph, build_graph
from ...core.presets import get_spec
from ...core.spec import ArchSpec

_CACHE_SIZE = 16
_cache: OrderedDict[int, tuple[ArchSpec, Summary, BlockGraph]] = OrderedDict()


def derive(spec: ArchSpec) -> tuple[Summary, BlockGraph]:
    """(analysis summary, block graph) of ``spec``, computed once per spec object."""
    key = id(spec)
    hit = _cache.get(key)
    if hit is not None and hit[0] is spec:
        _cache.move_to_end(key)
        return hit[1], hit[2]
    summary, graph = analyze(spec), build_graph(spec)
    _cache[key] = (spec, summary, graph)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return summary, graph


@cache
def preset(name: str) -> ArchSpec:
    """Preset ``name``, built once per process (specs are immutable; several panels list every preset)."""
    return get_spec(name)


def summary_of(spec: ArchSpec) -> Summary:
    """The analysis summary of ``spec`` (cached)."""
    return derive(spec)[0]


def graph_of(spec: ArchSpec) -> BlockGraph:
    """The block graph of ``spec`` (cached)."""
    return derive(spec)[1]
