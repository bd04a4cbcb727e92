"""The papers' worked numbers come out exactly, every what-if figure matches the edited spec's analysis,
and every "apply" is an ordinary core.edits edit."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

from inception_studio import analyze, explain, get_spec, list_variants
from inception_studio.core import edits
from inception_studio.core.explain import (
    asymmetric_ratio, grid_reduction_costs, percent, reduction_example, stacked_ratio,
)
from inception_studio.core.explain_network import alexnet_params
from inception_studio.core.graph import build_graph
from inception_studio.core.tour import TOUR, tour_ideas, tour_spec
from inception_studio.errors import SpecError


def _row(idea, start):
    return next(r for r in idea.rows if r.label.startswith(start))


def _block_macs(spec, name):
    return next(r.macs for r in analyze(spec).rows if r.name == name)


def test_lecture_example_1x1_reduction_is_exact():
    assert reduction_example(28, 28, 192, 16, 32, 5) == (120_422_400, 12_443_648)
    # GoogLeNet's 3a (paper widths, real 5x5) is that very example: its 5x5 branch on 28x28x192.
    idea = explain(get_spec("googlenet_paper"), "3a").idea("reductions")
    assert _row(idea, "branch 2: 1x1 16 > 5x5 32").macs == 12_443_648
    assert _row(idea, "branch 2 straight on 192 channels: 5x5 32").macs == 120_422_400


def test_naive_module_figures_match_the_edited_network():
    spec = get_spec("googlenet_paper")
    idea = explain(spec, "3a").idea("reductions")
    naive = edits.remove_reductions(spec, "inception_3", 0)
    assert naive.stage("inception_3").blocks[0].branches[3].ops[-1].kind == "maxpool"  # pool passes through
    summary = analyze(naive)
    assert _row(idea, "naive module").macs == _block_macs(naive, "inception3a")
    assert _row(idea, "naive module").width == 416 == 64 + 128 + 32 + 192
    assert idea.figure("output width without the pool projection").value == 416
    assert idea.figure("network multiply-adds with this block naive").value == summary.macs
    assert idea.figure("network multiply-adds as is").value == analyze(spec).macs


@pytest.mark.parametrize("name", ["googlenet_paper", "inception_v3", "inception_resnet_v2"])
def test_network_total_with_any_naive_block_matches_the_edited_network(name):
    # the changed width runs on through pools, pass-through branches and whole residual stages
    spec = get_spec(name)
    for stage, i, b in spec.iter_blocks():
        idea = explain(spec, b.name).idea("reductions")
        if idea is not None:
            naive = edits.remove_reductions(spec, stage.name, i)
            assert idea.figure("network multiply-adds with this block naive").value == analyze(naive).macs, b.label


def test_factorisation_ratios_are_exact():
    assert stacked_ratio(5) == Fraction(18, 25) and percent(stacked_ratio(5) - 1) == "-28%"
    assert asymmetric_ratio(3) == Fraction(2, 3) and percent(asymmetric_ratio(3) - 1) == "-33%"
    for n in range(2, 10):
        assert asymmetric_ratio(n) == Fraction(2, n)
    with pytest.raises(SpecError, match="3x3"):
        stacked_ratio(4)
    idea = explain(get_spec("inception_v3"), "Mixed_6b").idea("factorisation")
    assert idea.figure("5x5 -> two 3x3, equal widths").text() == "-28%"
    assert idea.figure("3x3 -> 1x3 + 3x1, equal widths").text() == "-33%"
    assert idea.figure("1x7 + 7x1 against 7x7 (2/n)").value == Fraction(2, 7)


def test_block_factorisation_figure_matches_the_edited_spec():
    spec = get_spec("inception_v3")
    ex = explain(spec, "Mixed_6b")
    idea = ex.idea("factorisation")
    single = spec
    for j in (1, 2):
        single = edits.set_kernel(single, "inception_b", 0, j, "single")
    base = _block_macs(single, "Mixed_6b")
    assert _row(idea, "block with every branch as one nxn conv").macs == base
    assert idea.figure("this block against one nxn conv per branch").value == Fraction(ex.macs - base, base)


def test_grid_reduction_formulas_for_mixed_6a():
    costs = grid_reduction_costs(35, 288)
    assert costs["conv_then_pool"] == 2 * 35**2 * 288**2 == 203_212_800
    assert costs["pool_then_conv"] == 2 * Fraction(35, 2) ** 2 * 288**2 == 50_803_200
    assert costs["pool_then_conv"] * 4 == costs["conv_then_pool"]
    assert costs["parallel"] == 25_401_600
    spec = get_spec("inception_v3")
    idea = explain(spec, "Mixed_6a").idea("grid_reduction")
    assert idea.figure("d (input grid)").value == 35 and idea.figure("k (input channels)").value == 288
    assert idea.figure("conv then pool: 2d²k²").value == 203_212_800
    assert idea.figure("pool then conv: 2(d/2)²k²").value == 50_803_200
    assert idea.figure("parallel stride-2 conv and pool: (d/2)²k²").value == 25_401_600
    assert idea.figure("this block, traced").value == _block_macs(spec, "Mixed_6a")
    assert explain(spec, "Mixed_6b").idea("grid_reduction") is None


def test_aux_and_residual_ideas_carry_the_analysis_figures():
    g = get_spec("googlenet")
    aux = explain(g, "4a").idea("aux")
    row = next(r for r in analyze(g).rows if r.name == "aux1")
    assert aux.figure("aux1 params (training only)").value == row.params
    assert aux.figure("aux1 loss weight").value == Fraction(3, 10) and aux.train_pair == "aux"
    assert explain(g, "4b").idea("aux") is None
    ir = get_spec("inception_resnet_v2")
    ex = explain(ir, "block35_1")
    res = ex.idea("residual")
    assert res.figure("projection params").value == (32 + 32 + 64) * 320 + 320  # linear 1x1 concat -> 320, bias
    assert res.figure("residual scale").text() == "0.17" and res.train_pair == "residual_scale"
    assert "residual" not in {i.key for i in explain(ir, "mixed_6a").ideas}


def test_network_lessons():
    assert alexnet_params() == 60_965_224
    ex = explain(get_spec("googlenet"))
    gap = ex.idea("gap_head")
    assert gap.figure("head after global average pooling").value == 1024 * 1000 + 1000
    assert gap.figure("fully connected head on the 7x7x1024 map").value == 1024 * 49 * 1000 + 1000
    alex = ex.idea("alexnet")
    assert alex.figure("this network / AlexNet").value == Fraction(6_624_904, 60_965_224)
    stages = ex.idea("stages")
    assert sum(r.macs for r in stages.rows) == analyze(get_spec("googlenet")).macs


def _applies(spec):
    for _s, _i, b in spec.iter_blocks():
        for idea in explain(spec, b.name).ideas:
            yield from idea.applies


@pytest.mark.parametrize("name", ["googlenet_paper", "inception_v3", "inception_resnet_v2_paper"])
def test_every_apply_is_an_ordinary_edit(name):
    spec = get_spec(name)
    seen = 0
    for apply in _applies(spec):
        new = apply(spec)
        assert new != spec
        assert new == getattr(edits, apply.edit)(spec, *apply.args)
        assert analyze(new).macs > 0  # a valid, analysable network
        if apply.path:
            path, value = apply.path.split("=")
            assert edits.apply_edit(spec, path, value) == new
        seen += 1
    assert seen > 10


def test_block_lookup_by_label_name_or_graph_id_and_errors():
    spec = get_spec("inception_v3")
    assert explain(spec, "mixed_6a").block == "Mixed_6a"
    assert explain(spec, "b:Mixed_6a/br1/0").label == "Mixed_6a"
    with pytest.raises(SpecError, match="no block 'Mixed_9z'"):
        explain(spec, "Mixed_9z")
    once = edits.remove_reductions(spec, "reduction_a", 0)
    with pytest.raises(SpecError, match="'Mixed_6a' has no 1x1 reductions to remove"):
        edits.remove_reductions(once, "reduction_a", 0)


def test_naive_module_builds_with_the_analysed_parameter_count():
    from inception_studio import build_model
    naive = edits.set_aux(edits.remove_reductions(get_spec("googlenet_paper"), "inception_3", None), False)
    assert analyze(naive).params == sum(p.numel() for p in build_model(naive).parameters())


@pytest.mark.parametrize("name", list_variants())
def test_every_block_explains_and_serialises(name):
    spec = get_spec(name)
    for _s, _i, b in spec.iter_blocks():
        json.dumps(explain(spec, b.name).to_dict())
    assert json.loads(json.dumps(explain(spec).to_dict()))["ideas"]


def test_tour_steps_point_at_real_nodes_and_ideas():
    assert [s.variant for s in TOUR] == ["nin", "googlenet_paper", "bn_inception", "inception_v3", "inception_v4",
                                         "inception_resnet_v2"]
    for step in TOUR:
        spec = tour_spec(step)
        nodes = build_graph(spec).nodes
        assert all(n in nodes for n in step.nodes), step.variant
        shown = tour_ideas(step, spec)
        assert [idea.key for _label, idea in shown] == [key for _block, key in step.shows], step.variant
