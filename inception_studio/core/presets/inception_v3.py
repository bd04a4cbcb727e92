"""Inception-v3 as torchvision releases it (weight-compatible): factorised 7x7, expanded filter banks."""
from __future__ import annotations

from ..sources import source_of_preset
from ..spec import ArchSpec, AuxHead, Block, Head, Stage
from .ops import avgpool, br, conv, maxpool, seq, vconv


def _v3_a(name: str, pf: int) -> Block:
    return Block(kind="inception", name=name, label=name, role="Inception-A (Fig. 5)", branches=(
        br(conv(64), role="1x1"),
        br(conv(48), conv(64, 5), role="5x5"),
        br(conv(64), conv(96, 3), conv(96, 3), role="dbl3x3"),
        br(avgpool(3, 1), conv(pf), role="pool"),
    ))


def _v3_b(name: str, c7: int) -> Block:
    return Block(kind="inception", name=name, label=name, role="Inception-B (Fig. 6)", branches=(
        br(conv(192), role="1x1"),
        br(conv(c7), conv(c7, (1, 7)), conv(192, (7, 1)), role="7x7"),
        br(conv(c7), conv(c7, (7, 1)), conv(c7, (1, 7)), conv(c7, (7, 1)), conv(192, (1, 7)), role="dbl7x7"),
        br(avgpool(3, 1), conv(192), role="pool"),
    ))


def _v3_c(name: str) -> Block:
    split = ((conv(384, (1, 3)),), (conv(384, (3, 1)),))
    return Block(kind="inception", name=name, label=name, role="Inception-C (Fig. 7)", branches=(
        br(conv(320), role="1x1"),
        br(conv(384), fork=split, role="3x3"),
        br(conv(448), conv(384, 3), fork=split, role="dbl3x3"),
        br(avgpool(3, 1), conv(192), role="pool"),
    ))


def inception_v3() -> ArchSpec:
    """Inception-v3, weight-compatible with torchvision's inception_v3 (one aux head)."""
    stages = (
        Stage("stem", "Stem", (
            seq("Conv2d_1a_3x3", "conv 3x3/2", vconv(32, 3, 2)),
            seq("Conv2d_2a_3x3", "conv 3x3", vconv(32, 3)),
            seq("Conv2d_2b_3x3", "conv padded 3x3", conv(64, 3)),
            seq("maxpool1", "max pool 3x3/2", maxpool(), role="pool"),
            seq("Conv2d_3b_1x1", "conv 1x1", conv(80)),
            seq("Conv2d_4a_3x3", "conv 3x3", vconv(192, 3)),
            seq("maxpool2", "max pool 3x3/2", maxpool(), role="pool"),
        )),
        Stage("inception_a", "Inception-A (Fig. 5)", (_v3_a("Mixed_5b", 32), _v3_a("Mixed_5c", 64), _v3_a("Mixed_5d", 64)),
              repeatable=True),
        Stage("reduction_a", "Reduction (Mixed_6a)", (Block(kind="inception", name="Mixed_6a", label="Mixed_6a", role="Reduction", branches=(
            br(vconv(384, 3, 2), role="3x3"),
            br(conv(64), conv(96, 3), vconv(96, 3, 2), role="dbl3x3"),
            br(maxpool(), role="pool"),
        )),)),
        Stage("inception_b", "Inception-B (Fig. 6)", tuple(_v3_b(f"Mixed_6{x}", c7) for x, c7 in zip("bcde", (128, 160, 160, 192))),
              repeatable=True),
        Stage("reduction_b", "Reduction (Mixed_7a)", (Block(kind="inception", name="Mixed_7a", label="Mixed_7a", role="Reduction", branches=(
            br(conv(192), vconv(320, 3, 2), role="3x3"),
            br(conv(192), conv(192, (1, 7)), conv(192, (7, 1)), vconv(192, 3, 2), role="7x7x3"),
            br(maxpool(), role="pool"),
        )),)),
        Stage("inception_c", "Inception-C (Fig. 7)", (_v3_c("Mixed_7b"), _v3_c("Mixed_7c")), repeatable=True),
    )
    aux = (AuxHead("AuxLogits", "inception_b", 3, pool_k=5, pool_s=3, convs=(conv(128), vconv(768, 5)), gap=True,
                   loss_weight=0.4),)
    return ArchSpec(
        name="inception_v3", title="Inception-v3 (torchvision)",
        description="Szegedy et al. 2015 as released: factorised 7x7, expanded filter banks, one aux head, 4 blocks at 17x17.",
        stages=stages, head=Head(dropout=0.5), aux=aux, aux_enabled=True, bn=True, input_size=299, crop_pct=299 / 342,
        top1_error=21.2, top5_error=5.6, weights_source=source_of_preset("inception_v3"),
        reference="[TV] torchvision.models.inception_v3; [P3] arXiv 1512.00567",
        notes="Follows the released model (TF-slim, torchvision), not the paper's Table 1: 1x1 80 / 3x3 192 / pool stem, "
              "four Inception-B blocks, separate reduction blocks. Aux loss weight 0.4 is TF-slim's.",
    )
