"""Inception-ResNet-v1 and -v2 (Szegedy et al. 2016): residual Inception blocks; v2 both as timm / TF-slim
release it (weight-compatible) and with the paper's schema."""
from __future__ import annotations

from ..sources import source_of_preset
from ..spec import INCEPTION_MEAN, INCEPTION_STD, ArchSpec, Block, Branch, Head, Stage
from .inception_v4 import avg_nopad, reduction_a, v4_stem
from .ops import br, conv, maxpool, repeat, seq, vconv


def _res_block(name: str, label: str, role: str, scale: float, *branches: Branch) -> Block:
    return Block(kind="residual", name=name, label=label, role=role, scale=scale, branches=tuple(branches))


def _res_stage(letter: str, n: int, scale: float, branches: tuple[Branch, ...], names: str, short: str = "") -> Stage:
    """A repeated stage of Inception-ResNet-<letter> blocks; ``short`` is the release's name (Block35...)."""
    role = f"Inception-ResNet-{letter}"
    label = f"{short} ({role})" if short else role
    return repeat(f"inception_resnet_{letter.lower()}", label, role, n,
                  lambda nm, lb: _res_block(nm, lb, role, scale, *branches), names, f"{short or role} {{}}")


def _ir_v2_branches():
    a = (br(conv(32), role="1x1"), br(conv(32), conv(32, 3), role="3x3"), br(conv(32), conv(48, 3), conv(64, 3), role="dbl3x3"))
    b = (br(conv(192), role="1x1"), br(conv(128), conv(160, (1, 7)), conv(192, (7, 1)), role="7x7"))
    c = (br(conv(192), role="1x1"), br(conv(192), conv(224, (1, 3)), conv(256, (3, 1)), role="3x3"))
    return a, b, c


def _ir_reduction_b(n1: int, n2: int, n3a: int, n3b: int, name: str = "reduction_b", label: str = "Reduction-B", pool_first: bool = False) -> Stage:
    convs = (br(conv(256), vconv(n1, 3, 2), role="3x3"), br(conv(256), vconv(n2, 3, 2), role="3x3'"),
             br(conv(256), conv(n3a, 3), vconv(n3b, 3, 2), role="dbl3x3"))
    pool = (br(maxpool(), role="pool"),)
    branches = pool + convs if pool_first else convs + pool
    return Stage("reduction_b", "Reduction-B", (Block(kind="inception", name=name, label=label, role="Reduction-B", branches=branches),))


def inception_resnet_v1() -> ArchSpec:
    """Inception-ResNet-v1 as in the paper (5/10/5 residual blocks)."""
    a = (br(conv(32), role="1x1"), br(conv(32), conv(32, 3), role="3x3"), br(conv(32), conv(32, 3), conv(32, 3), role="dbl3x3"))
    b = (br(conv(128), role="1x1"), br(conv(128), conv(128, (1, 7)), conv(128, (7, 1)), role="7x7"))
    c = (br(conv(192), role="1x1"), br(conv(192), conv(192, (1, 3)), conv(192, (3, 1)), role="3x3"))
    stages = (
        Stage("stem", "Stem", (
            seq("conv1", "conv 3x3/2 V", vconv(32, 3, 2)), seq("conv2", "conv 3x3 V", vconv(32, 3)),
            seq("conv3", "conv 3x3", conv(64, 3)), seq("maxpool", "max pool 3x3/2 V", maxpool(), role="pool"),
            seq("conv4", "conv 1x1", conv(80)), seq("conv5", "conv 3x3 V", vconv(192, 3)),
            seq("conv6", "conv 3x3/2 V", vconv(256, 3, 2)),
        )),
        _res_stage("A", 5, 0.17, a, "block35_{}"),
        reduction_a(192, 192, 256, 384),
        _res_stage("B", 10, 0.10, b, "block17_{}"),
        _ir_reduction_b(384, 256, 256, 256),
        _res_stage("C", 5, 0.20, c, "block8_{}"),
    )
    return ArchSpec(
        name="inception_resnet_v1", title="Inception-ResNet-v1",
        description="Szegedy et al. 2016: residual Inception blocks on a cheap stem, about Inception-v3's cost.",
        stages=stages, head=Head(dropout=0.2), bn=True, input_size=299, mean=INCEPTION_MEAN, std=INCEPTION_STD,
        interpolation="bicubic", top1_error=21.3, top5_error=5.5,
        reference="[P4] arXiv 1602.07261, Figs. 7, 10-14",
        notes="Residual branches end in a linear 1x1 projection (with bias, no BN) back to the block's input width, "
              "scaled by 0.17 / 0.10 / 0.20 before the add (the scales of the released Inception-ResNet models).",
    )


def inception_resnet_v2() -> ArchSpec:
    """Inception-ResNet-v2, weight-compatible with timm's inception_resnet_v2 (TF-slim release)."""
    a, b, c = _ir_v2_branches()
    stages = (
        Stage("stem", "Stem", (
            seq("conv2d_1a", "conv 3x3/2 V", vconv(32, 3, 2)), seq("conv2d_2a", "conv 3x3 V", vconv(32, 3)),
            seq("conv2d_2b", "conv 3x3", conv(64, 3)), seq("maxpool_3a", "max pool 3x3/2", maxpool(), role="pool"),
            seq("conv2d_3b", "conv 1x1", conv(80)), seq("conv2d_4a", "conv 3x3 V", vconv(192, 3)),
            seq("maxpool_5a", "max pool 3x3/2", maxpool(), role="pool"),
        )),
        Stage("mixed_5b", "Mixed_5b", (Block(kind="inception", name="mixed_5b", label="Mixed_5b", role="stem", branches=(
            br(conv(96), role="1x1"), br(conv(48), conv(64, 5), role="5x5"),
            br(conv(64), conv(96, 3), conv(96, 3), role="dbl3x3"), br(avg_nopad(), conv(64), role="pool"))),)),
        _res_stage("A", 10, 0.17, a, "block35_{}", "Block35"),
        reduction_a(256, 256, 384, 384, name="mixed_6a", label="Mixed_6a"),
        _res_stage("B", 20, 0.10, b, "block17_{}", "Block17"),
        _ir_reduction_b(384, 288, 288, 320, name="mixed_7a", label="Mixed_7a"),
        _res_stage("C", 9, 0.20, c, "block8_{}", "Block8"),
        Stage("block8", "Block8 (final, linear)", (Block(kind="residual", name="block8", label="Block8 (no ReLU)",
                                                         role="Inception-ResNet-C", scale=1.0, final_act=False, branches=c),)),
        Stage("conv2d_7b", "conv 1x1", (seq("conv2d_7b", "conv 1x1", conv(1536), role="head"),)),
    )
    return ArchSpec(
        name="inception_resnet_v2", title="Inception-ResNet-v2 (timm / TF-slim)",
        description="The released Inception-ResNet-v2: v3-style stem + Mixed_5b, 10/20/9(+1) residual blocks, 1x1 to 1536.",
        stages=stages, head=Head(dropout=0.2), bn=True, input_size=299, mean=INCEPTION_MEAN, std=INCEPTION_STD,
        interpolation="bicubic", crop_pct=0.8975, top1_error=19.9, top5_error=4.9, weights_source=source_of_preset("inception_resnet_v2"),
        reference="[TIMM] inception_resnet_v2.py; [SLIM] inception_resnet_v2.py; [P4] arXiv 1602.07261",
        notes="Weight-compatible with timm's inception_resnet_v2 (the TF-slim release), which departs from the paper: "
              "v3-style stem plus Mixed_5b (320 ch), 10/20/9 blocks plus a final linear Block8, widths 320/1088/2080, "
              "a 1x1 conv to 1536, scales 0.17/0.10/0.20. Errors quoted are the paper's.",
    )


def inception_resnet_v2_paper() -> ArchSpec:
    """Inception-ResNet-v2 with the paper's schema: v4 stem, 5/10/5 blocks."""
    a, b, c = _ir_v2_branches()
    stages = (
        v4_stem(),
        _res_stage("A", 5, 0.17, a, "block35_{}"),
        reduction_a(256, 256, 384, 384),
        _res_stage("B", 10, 0.10, b, "block17_{}"),
        _ir_reduction_b(384, 288, 288, 320),
        _res_stage("C", 5, 0.20, c, "block8_{}"),
    )
    return ArchSpec(
        name="inception_resnet_v2_paper", title="Inception-ResNet-v2 (paper)",
        description="The paper's Inception-ResNet-v2 schema: Inception-v4 stem, 5 x A, 10 x B, 5 x C residual blocks.",
        stages=stages, head=Head(dropout=0.2), bn=True, input_size=299, mean=INCEPTION_MEAN, std=INCEPTION_STD,
        interpolation="bicubic", top1_error=19.9, top5_error=4.9,
        reference="[P4] arXiv 1602.07261, Figs. 3, 7, 16-19",
        notes="The paper's widths do not add up: its B projection says 1154 and its C projection 2048, but the inputs "
              "have 1152 and 2144 channels (Reduction-B gives 1152+384+288+320 = 2144, not the printed 2146). Here every "
              "residual projection returns to its input width (1152, 2144), which is what a residual add requires.",
    )
