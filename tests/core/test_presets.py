"""Every preset: builds, runs, and its analysis agrees with the module and the papers' numbers."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from inception_studio import analyze, build_model, get_spec, list_variants
from inception_studio.core import edits
from inception_studio.core.blocks import ModelOutput

ALL = list_variants()


def test_registry_lists_every_family_member():
    for name in ("nin", "googlenet", "googlenet_paper", "bn_inception", "inception_v3", "inception_v4",
                 "inception_resnet_v1", "inception_resnet_v2", "inception_resnet_v2_paper"):
        assert name in ALL
        assert get_spec(name).name == name


def _small(name: str, classes: int = 7):
    spec = edits.scale_widths(get_spec(name), 0.25)
    spec = edits.set_field(spec, "num_classes", classes)
    if spec.aux:
        spec = edits.set_aux(spec, False)
    return spec


@pytest.mark.parametrize("name", ALL)
def test_forward_with_other_class_count_has_no_nan(name):
    spec = _small(name)
    model = build_model(spec).eval()
    x = torch.randn(2, 3, spec.input_size, spec.input_size)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 7)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ["googlenet", "googlenet_paper", "inception_v3"])
def test_training_mode_returns_aux_logits(name):
    spec = edits.set_field(edits.scale_widths(get_spec(name), 0.25), "num_classes", 5)
    model = build_model(spec).train()
    out = model(torch.randn(2, 3, spec.input_size, spec.input_size))
    assert isinstance(out, ModelOutput)
    assert out.logits.shape == (2, 5)
    assert len(out.aux) == len(spec.aux) and all(a.shape == (2, 5) for a in out.aux)
    model.eval()
    assert isinstance(model(torch.randn(1, 3, spec.input_size, spec.input_size)), torch.Tensor)


@pytest.mark.parametrize("name", ALL)
def test_param_count_exact_and_macs_match_flop_counter(name):
    spec = get_spec(name)
    summary = analyze(spec)
    # On the meta device: the real module's structure and shapes without memory or arithmetic (a full-size
    # CPU forward took up to 8 s per variant); the reduced forwards above run the arithmetic.
    with torch.device("meta"):
        model = build_model(spec).eval()
        x = torch.randn(1, spec.in_channels, spec.input_size, spec.input_size)
    assert sum(p.numel() for p in model.parameters()) == summary.params
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    assert y.shape == (1, spec.num_classes)
    measured = counter.get_total_flops() / 2
    assert abs(measured - summary.macs) / measured < 0.01


# Reference totals (shared/reference/inception_reference.md, section 5), without aux heads.
REFERENCE = {
    "googlenet": (6_624_904, 1.4984e9),
    "googlenet_paper": (6_998_552, 1.583e9),
    "bn_inception": (11_188_288, 1.935e9),
    "inception_v3": (23_834_568, 5.7132e9),
    "inception_v4": (42_679_816, 12.254e9),
    "inception_resnet_v2": (55_843_464, 13.156e9),
    "inception_resnet_v2_paper": (32_433_928, 9.258e9),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_totals_match_reference(name):
    params, macs = REFERENCE[name]
    s = analyze(get_spec(name))
    assert s.params_main == params
    assert abs(s.macs - macs) / macs < 0.001


def test_aux_heads_add_the_reference_params():
    assert analyze(get_spec("googlenet")).params == 13_004_888
    assert analyze(get_spec("inception_v3")).params == 27_161_264
    assert analyze(get_spec("googlenet_paper")).aux_params == 6_379_728


def test_paper_presets_document_their_choices():
    assert "608" in get_spec("bn_inception").notes and "96" in get_spec("bn_inception").notes
    notes = get_spec("inception_resnet_v2_paper").notes
    assert "1154" in notes and "2144" in notes


def test_residual_blocks_keep_width_and_scale():
    s = analyze(get_spec("inception_resnet_v2"))
    rows = {r.name: r for r in s.rows}
    assert rows["block35_1"].output == (320, 35, 35)
    assert rows["block17_20"].output == (1088, 17, 17)
    assert rows["block8"].output == (2080, 8, 8)
    spec = get_spec("inception_resnet_v2")
    assert spec.stage("inception_resnet_b").blocks[0].scale == pytest.approx(0.10)
    assert spec.stage("block8").blocks[0].final_act is False
