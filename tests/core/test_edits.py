"""Edits return new, validated specs; bad edits say which field and why; random edits stay exact."""
from __future__ import annotations

import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from inception_studio import analyze, build_model, get_spec, list_variants
from inception_studio.core import edits
from inception_studio.core.analysis import min_input_size
from inception_studio.core.spec import ArchSpec
from inception_studio.errors import ResourceError, SpecError


def test_spec_is_immutable_and_edits_return_new_specs():
    spec = get_spec("inception_v4")
    new = edits.set_count(spec, "inception_b", 4)
    assert spec.stage("inception_b").count == 7
    assert new.stage("inception_b").count == 4
    with pytest.raises(Exception):
        spec.num_classes = 3  # frozen dataclass


@pytest.mark.parametrize("name", list_variants())
def test_json_round_trip(name):
    spec = get_spec(name)
    again = ArchSpec.from_json(spec.to_json())
    assert again == spec
    assert json.loads(spec.to_json())["schema_version"] == 1


def test_json_errors_name_the_problem():
    with pytest.raises(SpecError, match="not valid JSON"):
        ArchSpec.from_json("{nope")
    d = get_spec("nin").to_dict()
    d["schema_version"] = 99
    with pytest.raises(SpecError, match="schema_version 99"):
        ArchSpec.from_dict(d)
    d = get_spec("nin").to_dict()
    d["stages"][0]["blocks"][0]["branches"][0]["ops"][0]["out"] = -4
    with pytest.raises(SpecError, match="width must be a positive integer, got -4"):
        ArchSpec.from_dict(d)
    d = get_spec("nin").to_dict()
    d["colour"] = "red"
    with pytest.raises(SpecError, match="unknown field"):
        ArchSpec.from_dict(d)


def test_v4_to_2_4_2_with_narrower_b_blocks_saves_params():
    spec = get_spec("inception_v4")
    small = edits.apply_edits(spec, [
        "stage.inception_a.count=2", "stage.inception_b.count=4", "stage.inception_c.count=2",
        "stage.inception_b.block.*.branch.0.op.0.width=256",
    ])
    assert [small.stage(s).count for s in ("inception_a", "inception_b", "inception_c")] == [2, 4, 2]
    assert all(b.branches[0].ops[0].out == 256 for b in small.stage("inception_b").blocks)
    before, after = analyze(spec), analyze(small)
    assert after.params < 0.7 * before.params and after.macs < before.macs
    model = build_model(small)
    assert sum(p.numel() for p in model.parameters()) == after.params


def test_count_grows_with_fresh_names_and_can_go_to_zero_and_back():
    spec = get_spec("googlenet")
    spec = edits.set_aux(spec, False)
    grown = edits.set_count(spec, "inception_4", 6)
    labels = [b.label for b in grown.stage("inception_4").blocks]
    assert labels == ["4a", "4b", "4c", "4d", "4e", "4f"]
    empty = edits.set_count(spec, "inception_4", 0)
    assert empty.stage("inception_4").count == 0
    back = edits.set_count(empty, "inception_4", 2)
    assert [b.label for b in back.stage("inception_4").blocks] == ["4a", "4b"]
    assert build_model(edits.scale_widths(empty, 0.25))  # still a working network


def test_bad_edits_name_field_and_reason():
    spec = get_spec("inception_v4")
    with pytest.raises(SpecError, match=r"stage.inception_b.count: count must be >= 0, got -1"):
        edits.set_count(spec, "inception_b", -1)
    with pytest.raises(SpecError, match=r"width must be > 0, got 0"):
        edits.apply_edit(spec, "stage.inception_a.block.0.branch.1.op.1.width", "0")
    with pytest.raises(SpecError, match="no stage 'nope'"):
        edits.apply_edit(spec, "stage.nope.count", 3)
    with pytest.raises(SpecError, match="is not a repeated stage"):
        edits.set_count(spec, "reduction_a", 2)
    with pytest.raises(SpecError, match="no width"):
        edits.apply_edit(spec, "stage.inception_a.block.0.branch.3.op.0.width", 5)  # the avg pool
    with pytest.raises(SpecError, match="unknown path"):
        edits.apply_edit(spec, "stage.inception_a.colour", 5)


def test_too_small_input_names_minimum_and_block():
    spec = edits.set_aux(get_spec("inception_v3"), False)
    with pytest.raises(SpecError) as err:
        edits.set_field(spec, "input_size", 64)
    assert str(err.value) == "inception_v3 needs at least 75 px: at 64 px Mixed_7a gets 2x2, smaller than its 3x3 conv"
    assert min_input_size(spec) == 75
    assert edits.set_field(spec, "input_size", 75).input_size == 75


def test_aux_heads_need_larger_inputs_and_say_so():
    with pytest.raises(SpecError, match="aux heads need at least 299 px .*aux=false"):
        edits.set_field(get_spec("inception_v3"), "input_size", 160)


def test_kernel_factorisation_keeps_receptive_field():
    spec = edits.set_aux(get_spec("googlenet_paper"), False)
    stacked = edits.set_kernel(spec, "inception_3", None, 2, "stacked")
    ops = stacked.stage("inception_3").blocks[0].branches[2].ops
    assert [o.k for o in ops] == [(1, 1), (3, 3), (3, 3)]
    asym = edits.set_kernel(stacked, "inception_3", 0, 2, "asymmetric")
    assert [o.k for o in asym.stage("inception_3").blocks[0].branches[2].ops] == [(1, 1), (1, 5), (5, 1)]
    assert [o.k for o in asym.stage("inception_3").blocks[1].branches[2].ops] == [(1, 1), (3, 3), (3, 3)]
    single = edits.set_kernel(asym, "inception_3", 0, 2, "single")
    assert single.stage("inception_3").blocks[0].branches[2] == spec.stage("inception_3").blocks[0].branches[2]
    with pytest.raises(SpecError, match="no spatial convolution"):
        edits.set_kernel(spec, "inception_3", 0, 0, "stacked")
    # a 5x5 costs more than two 3x3 of the same width
    assert analyze(stacked).macs < analyze(spec).macs


def test_grayscale_input_and_bn_off_and_residual_scale():
    spec = edits.set_field(get_spec("bn_inception"), "in_channels", 1)
    assert build_model(edits.scale_widths(spec, 0.25))(torch.randn(1, 1, 224, 224)).shape == (1, 1000)
    nobn = edits.set_field(get_spec("inception_v4"), "bn", False)
    assert analyze(nobn).params != analyze(get_spec("inception_v4")).params
    scaled = edits.apply_edit(get_spec("inception_resnet_v1"), "residual_scale", "0.3")
    assert {b.scale for s in scaled.stages for b in s.blocks if b.kind == "residual"} == {0.3}


def test_width_multiplier_is_absolute_and_keeps_residuals_consistent():
    spec = get_spec("inception_resnet_v2")
    half = edits.apply_edit(spec, "width_mult", "0.5")
    again = edits.apply_edit(half, "width_mult", "0.5")
    assert half.width_mult == 0.5 and again == half
    s = analyze(edits.apply_edit(spec, "width_mult", "0.3"))
    assert s.params < analyze(spec).params / 5


def test_too_large_model_is_refused_with_memory_needed():
    spec = edits.scale_widths(get_spec("inception_v4"), 16)
    with pytest.raises(ResourceError, match=r"needs about [\d.]+ GiB .*only [\d.]+ GiB is available"):
        build_model(spec)
    from inception_studio.core.build import check_buildable
    with pytest.raises(ResourceError):
        check_buildable(get_spec("inception_v4"), available=100 * 2**20)


SMALL_VARIANTS = ["googlenet", "googlenet_paper", "bn_inception", "inception_v3", "inception_v4",
                  "inception_resnet_v1", "inception_resnet_v2_paper", "nin"]


@st.composite
def edited_specs(draw):
    name = draw(st.sampled_from(SMALL_VARIANTS))
    spec = edits.scale_widths(get_spec(name), draw(st.sampled_from([0.0625, 0.1, 0.125])))
    if spec.aux:
        spec = edits.set_aux(spec, False)
    repeatable = [s.name for s in spec.stages if s.repeatable]
    for _ in range(draw(st.integers(0, 3))):
        if not repeatable:
            break
        stage = draw(st.sampled_from(repeatable))
        try:
            spec = edits.set_count(spec, stage, draw(st.integers(0, 3)))
        except SpecError:
            pass
    blocks = [(s.name, i, b) for s in spec.stages for i, b in enumerate(s.blocks)]
    for _ in range(draw(st.integers(0, 4))):
        stage, i, b = draw(st.sampled_from(blocks))
        j = draw(st.integers(0, len(b.branches) - 1))
        convs = [k for k, op in enumerate(b.branches[j].ops) if op.is_conv]
        if convs:
            k = draw(st.sampled_from(convs))
            try:
                spec = edits.set_width(spec, stage, i, j, k, draw(st.integers(1, 24)))
            except SpecError:
                pass
            blocks = [(s.name, i, b) for s in spec.stages for i, b in enumerate(s.blocks)]
    size = max(min_input_size(spec) or 64, draw(st.sampled_from([64, 96, 128])))
    return edits.set_field(spec, "input_size", size)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_specs())
def test_random_valid_edits_analysis_matches_module(spec):
    summary = analyze(spec)
    model = build_model(spec).eval()
    assert sum(p.numel() for p in model.parameters()) == summary.params
    x = torch.randn(1, spec.in_channels, spec.input_size, spec.input_size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    assert y.shape == (1, spec.num_classes)
    measured = counter.get_total_flops() / 2
    assert abs(measured - summary.macs) <= 0.01 * measured
