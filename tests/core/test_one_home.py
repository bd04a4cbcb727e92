"""Rules with one home: the weight-source registry, the memory policy, which module a graph node shows,
block identity and the input normalisation are each defined once, and every reader agrees with it."""
from __future__ import annotations

import pytest

from inception_studio.cli import build_parser
from inception_studio.core import memory
from inception_studio.core.build import check_buildable
from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec, list_variants
from inception_studio.core.sources import SOURCES, get_source, guess_source, pretrained_sources
from inception_studio.core.spec import IMAGENET_MEAN, IMAGENET_STD, ArchSpec
from inception_studio.core.weights import reference_key_order, spec_for_source
from inception_studio.errors import ResourceError, WeightsError

GiB = 2**30


def _choices(parser, command: str, dest: str) -> list[str]:
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return list(next(a for a in sub._actions if a.dest == dest).choices)


def test_the_weight_sources_are_one_registry_that_the_cli_and_the_presets_read():
    assert _choices(build_parser(), "import-weights", "source") == list(SOURCES)
    with_weights = {n: get_spec(n).weights_source for n in list_variants() if get_spec(n).weights_source}
    assert with_weights == {s.preset: s.name for s in SOURCES.values()}
    for name, record in SOURCES.items():
        assert pretrained_sources(get_spec(record.preset))[0] == name
        assert spec_for_source(name, pretrained_transform=True).mean == record.mean
    with pytest.raises(WeightsError, match="unknown weights source 'keras:googlenet'"):
        get_source("keras:googlenet")


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_source_recognises_its_own_state_dicts(name):
    keys = reference_key_order(name)  # the reference architecture's own keys (meta device, no download)
    assert guess_source(keys) == name
    assert get_source(name).classifier in keys


def test_building_and_running_refuse_at_the_same_share_of_free_memory(monkeypatch):
    from inception_studio.engine import device as D

    spec = get_spec("googlenet")
    from inception_studio.core.analysis import analyze
    need = analyze(spec).memory_bytes(1, training=False)
    monkeypatch.setattr(D, "available_memory", lambda _d: int(need / 0.85))
    check_buildable(spec, available=int(need / 0.85))  # 85% of free memory: the policy allows it (90%)
    D.check_memory(need, "cpu")
    monkeypatch.setattr(D, "available_memory", lambda _d: int(need / 0.95))
    with pytest.raises(ResourceError):
        check_buildable(spec, available=int(need / 0.95))
    with pytest.raises(ResourceError):
        D.check_memory(need, "cpu")
    assert memory.fits(1, 0)  # free memory that cannot be measured never refuses


def test_which_module_a_graph_node_shows():
    g = build_graph(get_spec("googlenet"))
    block = g.nodes["b:inception3a"]
    assert g.module_node("b:inception3a/br1/0") is g.nodes["b:inception3a/br1/0"]  # an op: itself
    assert g.module_node("b:inception3a/concat") is block  # the concat is the block's output
    assert g.module_node("b:inception3a/out") is block
    assert g.module_node("b:inception3a/in") is None  # the block's input is no output of this block
    assert g.module_node("input") is None and g.module_node("nowhere") is None


def test_the_run_panel_shows_a_blocks_concat_as_that_block():
    from inception_studio.engine import jobs

    spec = get_spec("googlenet")
    t = jobs.node_target(spec, "b:inception3a/concat")
    assert t.module == "stages.inception_3.inception3a" and "last block" not in t.title


def test_block_identity_is_the_blocks_structure():
    stage = get_spec("inception_v4").stage("inception_a")
    a, b = stage.blocks[0], stage.blocks[1]
    assert a.name != b.name and a.structure == b.structure  # the same block apart from names
    g = build_graph(get_spec("inception_v4"))
    assert ("inception_a", [f"b:{x.name}" for x in stage.blocks]) in g.runs  # drawn as one run of 4


def test_the_input_normalisation_has_one_home():
    from inception_studio.engine import data
    from inception_studio.engine.data import Preprocess

    assert data.IMAGENET_MEAN is IMAGENET_MEAN and data.IMAGENET_STD is IMAGENET_STD
    assert ArchSpec.__dataclass_fields__["mean"].default is IMAGENET_MEAN
    assert Preprocess(224).mean == IMAGENET_MEAN
