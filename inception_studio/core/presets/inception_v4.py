"""Inception-v4 (Szegedy et al. 2016), weight-compatible with timm's inception_v4, and the stem and
Reduction-A it shares with the Inception-ResNets."""
from __future__ import annotations

from ..sources import source_of_preset
from ..spec import INCEPTION_MEAN, INCEPTION_STD, ArchSpec, Block, Head, Op, Stage
from .ops import avgpool, br, conv, maxpool, repeat, seq, vconv


def v4_stem() -> Stage:
    return Stage("stem", "Stem", (
        seq("conv1", "conv 3x3/2 V", vconv(32, 3, 2)),
        seq("conv2", "conv 3x3 V", vconv(32, 3)),
        seq("conv3", "conv 3x3", conv(64, 3)),
        Block(kind="inception", name="Mixed_3a", label="Mixed_3a", role="stem", branches=(
            br(maxpool(), role="pool"), br(vconv(96, 3, 2), role="3x3"))),
        Block(kind="inception", name="Mixed_4a", label="Mixed_4a", role="stem", branches=(
            br(conv(64), vconv(96, 3), role="3x3"),
            br(conv(64), conv(64, (1, 7)), conv(64, (7, 1)), vconv(96, 3), role="7x7"))),
        Block(kind="inception", name="Mixed_5a", label="Mixed_5a", role="stem", branches=(
            br(vconv(192, 3, 2), role="3x3"), br(maxpool(), role="pool"))),
    ))


def reduction_a(k: int, l: int, m: int, n: int, name: str = "reduction_a", label: str = "Reduction-A") -> Stage:
    return Stage("reduction_a", "Reduction-A", (Block(kind="inception", name=name, label=label, role="Reduction-A", branches=(
        br(vconv(n, 3, 2), role="3x3"),
        br(conv(k), conv(l, 3), vconv(m, 3, 2), role="dbl3x3"),
        br(maxpool(), role="pool"),
    )),))


def avg_nopad() -> Op:
    return avgpool(3, 1, count_include_pad=False)


def inception_v4() -> ArchSpec:
    """Inception-v4 (paper schema 4/7/3), weight-compatible with timm's inception_v4."""
    def a(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-A", branches=(
            br(conv(96), role="1x1"), br(conv(64), conv(96, 3), role="3x3"),
            br(conv(64), conv(96, 3), conv(96, 3), role="dbl3x3"), br(avg_nopad(), conv(96), role="pool")))

    def b(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-B", branches=(
            br(conv(384), role="1x1"), br(conv(192), conv(224, (1, 7)), conv(256, (7, 1)), role="7x7"),
            br(conv(192), conv(192, (7, 1)), conv(224, (1, 7)), conv(224, (7, 1)), conv(256, (1, 7)), role="dbl7x7"),
            br(avg_nopad(), conv(128), role="pool")))

    def c(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-C", branches=(
            br(conv(256), role="1x1"),
            br(conv(384), fork=((conv(256, (1, 3)),), (conv(256, (3, 1)),)), role="3x3"),
            br(conv(384), conv(448, (3, 1)), conv(512, (1, 3)), fork=((conv(256, (1, 3)),), (conv(256, (3, 1)),)), role="dbl3x3"),
            br(avg_nopad(), conv(256), role="pool")))

    stages = (
        v4_stem(),
        repeat("inception_a", "Inception-A", "Inception-A", 4, a, "inception_a{}", "Inception-A {}"),
        reduction_a(192, 224, 256, 384),
        repeat("inception_b", "Inception-B", "Inception-B", 7, b, "inception_b{}", "Inception-B {}"),
        Stage("reduction_b", "Reduction-B", (Block(kind="inception", name="reduction_b", label="Reduction-B", role="Reduction-B", branches=(
            br(conv(192), vconv(192, 3, 2), role="3x3"),
            br(conv(256), conv(256, (1, 7)), conv(320, (7, 1)), vconv(320, 3, 2), role="7x7x3"),
            br(maxpool(), role="pool"))),)),
        repeat("inception_c", "Inception-C", "Inception-C", 3, c, "inception_c{}", "Inception-C {}"),
    )
    return ArchSpec(
        name="inception_v4", title="Inception-v4",
        description="Szegedy et al. 2016: uniform Inception-A/B/C blocks (4/7/3) with dedicated reductions.",
        stages=stages, head=Head(dropout=0.2), bn=True, input_size=299, mean=INCEPTION_MEAN, std=INCEPTION_STD,
        interpolation="bicubic", top1_error=20.0, top5_error=5.0, weights_source=source_of_preset("inception_v4"),
        reference="[P4] arXiv 1602.07261, Figs. 3-9; [TIMM] inception_v4.py",
        notes="Same as timm's inception_v4 (weight-compatible): branch order and the 1xn/nx1 order follow timm, "
              "BN eps 1e-3, avg pools exclude padding. Dropout 0.2 (keep 0.8) as the paper.",
    )
