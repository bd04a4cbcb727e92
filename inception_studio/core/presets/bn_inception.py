"""BN-Inception (Ioffe & Szegedy 2015, Fig. 5): GoogLeNet with batch norm, double 3x3, pass-through reductions."""
from __future__ import annotations

from ..spec import ArchSpec, Block, Head, Op, Stage
from .ops import avgpool, br, conv, maxpool, seq


def _bn_block(label: str, c1: int, r3: int, c3: int, rd: int, d: int, pool: str, pp: int) -> Block:
    pool_op = avgpool(3, 1, count_include_pad=False) if pool == "avg" else maxpool(3, 1, pad="same")
    branches = []
    if c1:
        branches.append(br(conv(c1), role="1x1"))
    branches += [br(conv(r3), conv(c3, 3), role="3x3"),
                 br(conv(rd), conv(d, 3), conv(d, 3), role="dbl3x3"),
                 br(pool_op, conv(pp), role="pool")]
    return Block(kind="inception", name=f"inception{label}", label=label, role="Inception", branches=tuple(branches))


def _bn_reduction(label: str, r3: int, c3: int, rd: int, d: int) -> Block:
    return Block(kind="inception", name=f"inception{label}", label=label, role="Reduction", branches=(
        br(conv(r3), conv(c3, 3, 2), role="3x3"),
        br(conv(rd), conv(d, 3), conv(d, 3, 2), role="dbl3x3"),
        br(maxpool(3, 2, pad="same"), role="pool"),
    ))


def bn_inception() -> ArchSpec:
    """BN-Inception (Ioffe & Szegedy 2015, Fig. 5): double 3x3, pass-through reductions."""
    stages = (
        Stage("stem", "Stem", (
            seq("conv1", "conv* (separable)", Op("sepconv", out=64, k=(7, 7), stride=2, depth_mult=8)),
            seq("maxpool1", "max pool", maxpool(3, 2, pad="same"), role="pool"),
            seq("conv2", "conv", conv(64), conv(192, 3)),
            seq("maxpool2", "max pool", maxpool(3, 2, pad="same"), role="pool"),
        )),
        Stage("inception_3", "Inception (3)", (
            _bn_block("3a", 64, 64, 64, 64, 96, "avg", 32),
            _bn_block("3b", 64, 64, 96, 64, 96, "avg", 64),
        ), repeatable=True),
        Stage("reduction_3", "Reduction (3c)", (_bn_reduction("3c", 128, 160, 64, 96),)),
        Stage("inception_4", "Inception (4)", (
            _bn_block("4a", 224, 64, 96, 96, 128, "avg", 128),
            _bn_block("4b", 192, 96, 128, 96, 128, "avg", 128),
            _bn_block("4c", 160, 128, 160, 128, 160, "avg", 96),
            _bn_block("4d", 96, 128, 192, 160, 192, "avg", 96),
        ), repeatable=True),
        Stage("reduction_4", "Reduction (4e)", (_bn_reduction("4e", 128, 192, 192, 256),)),
        Stage("inception_5", "Inception (5)", (
            _bn_block("5a", 352, 192, 320, 160, 224, "avg", 128),
            _bn_block("5b", 352, 192, 320, 192, 224, "max", 128),
        ), repeatable=True),
    )
    return ArchSpec(
        name="bn_inception", title="BN-Inception",
        description="Ioffe & Szegedy 2015: GoogLeNet with BN, 5x5 replaced by two 3x3, stride-2 pass-through reductions.",
        stages=stages, head=Head(dropout=0.0), bn=True, input_size=224, top1_error=25.2, top5_error=7.82,
        reference="[P2] arXiv 1502.03167, Fig. 5; [SLIM] inception_v2.py",
        notes="4c and 4d use a 96-filter pool projection (as TF-slim does): the printed 'avg+128' would give 608 "
              "channels, not the 576 the table prints. 3c and 4e print their pre-stride sizes; they output 14x14x576 "
              "and 7x7x1024. conv1 is separable (depth multiplier 8). BN eps 1e-3; avg pools exclude padding (TF SAME).",
    )
