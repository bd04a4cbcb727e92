"""Every preset starts sane: before any training the loss on C classes is close to ln(C), for the main
head and every aux head, with batch norm and without (GoogLeNet-paper and NIN used to start near 50)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from inception_studio.core import edits
from inception_studio.core.blocks import ModelOutput
from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec, list_variants


@pytest.mark.parametrize("name", list_variants())
@pytest.mark.parametrize("classes", [4, 37])
def test_first_loss_is_close_to_ln_classes(name, classes):
    torch.manual_seed(0)
    spec = edits.apply_edits(get_spec(name), [f"num_classes={classes}", "width_mult=0.25"])
    model = build_model(spec).train()
    x = torch.randn(4, spec.in_channels, spec.input_size, spec.input_size)
    y = torch.randint(0, classes, (4,))
    with torch.no_grad():
        out = model(x)
    heads = [out.logits, *out.aux] if isinstance(out, ModelOutput) else [out]
    assert len(heads) == 1 + len(spec.active_aux)
    for logits in heads:
        loss = F.cross_entropy(logits, y).item()
        assert abs(loss - math.log(classes)) < 0.15 * math.log(classes), (name, loss)


def test_batch_norm_switched_off_still_starts_sane():
    torch.manual_seed(0)
    spec = edits.apply_edits(get_spec("inception_v3"), ["num_classes=10", "width_mult=0.25", "bn=false"])
    with torch.no_grad():
        out = build_model(spec).train()(torch.randn(2, 3, spec.input_size, spec.input_size))
    for logits in (out.logits, *out.aux):
        assert abs(F.cross_entropy(logits, torch.tensor([1, 2])).item() - math.log(10)) < 0.35
