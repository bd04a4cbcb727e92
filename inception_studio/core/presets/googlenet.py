"""GoogLeNet (Inception-v1): torchvision's weight-compatible release and the 2014 paper's Table 1."""
from __future__ import annotations

from ..sources import source_of_preset
from ..spec import ArchSpec, AuxHead, Block, Head, Op, Stage
from .ops import br, conv, maxpool, seq


# Table 1 of the paper: name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
GOOGLENET_TABLE = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _googlenet_block(label: str, five: int) -> Block:
    c1, r3, c3, r5, c5, pp = GOOGLENET_TABLE[label]
    return Block(kind="inception", name=f"inception{label}", label=label, role="Inception", branches=(
        br(conv(c1), role="1x1"),
        br(conv(r3), conv(c3, 3), role="3x3"),
        br(conv(r5), conv(c5, five), role="5x5"),
        br(maxpool(3, 1, pad="same", ceil=True), conv(pp), role="pool"),
    ))


def _googlenet(paper: bool) -> ArchSpec:
    five = 5 if paper else 3
    lrn = (Op("lrn"),) if paper else ()
    pool = lambda name: seq(name, "max pool", maxpool(ceil=True), role="pool")  # noqa: E731
    stages = (
        Stage("stem", "Stem", (
            seq("conv1", "conv", conv(64, 7, 2)),
            seq("maxpool1", "max pool", maxpool(ceil=True), *lrn, role="pool"),
            seq("conv2", "conv", conv(64), conv(192, 3), *lrn),
            seq("maxpool2", "max pool", maxpool(ceil=True), role="pool"),
        )),
        Stage("inception_3", "Inception (3)", tuple(_googlenet_block(x, five) for x in ("3a", "3b")), repeatable=True),
        Stage("pool3", "max pool", (pool("maxpool3"),)),
        Stage("inception_4", "Inception (4)", tuple(_googlenet_block(x, five) for x in ("4a", "4b", "4c", "4d", "4e")), repeatable=True),
        Stage("pool4", "max pool", (seq("maxpool4", "max pool", maxpool(3 if paper else 2, 2, ceil=True), role="pool"),)),
        Stage("inception_5", "Inception (5)", tuple(_googlenet_block(x, five) for x in ("5a", "5b")), repeatable=True),
    )
    aux_kw = dict(convs=(conv(128),), fc=(1024,), dropout=0.7, loss_weight=0.3)
    if paper:
        aux = (AuxHead("aux1", "inception_4", 0, pool_k=5, pool_s=3, **aux_kw),
               AuxHead("aux2", "inception_4", 3, pool_k=5, pool_s=3, **aux_kw))
        return ArchSpec(
            name="googlenet_paper", title="GoogLeNet (paper)",
            description="Szegedy et al. 2014, Table 1 as printed: real 5x5 branches, LRN, no BN, two aux heads.",
            stages=stages, head=Head(dropout=0.4), aux=aux, aux_enabled=True, bn=False, input_size=224,
            top5_error=10.07, reference="[P1] arXiv 1409.4842, Table 1",
            notes="Pools use ceil mode as in the Caffe release so every row's output size matches Table 1. The paper's "
                  "params column differs from a recount for conv1, 4a, 4c-4e, 5a-5b (its 5a ops, 54M, recounts as 51M); "
                  "the analysis gives the recount.",
        )
    aux = (AuxHead("aux1", "inception_4", 0, pool_k=0, adaptive=4, **aux_kw),
           AuxHead("aux2", "inception_4", 3, pool_k=0, adaptive=4, **aux_kw))
    return ArchSpec(
        name="googlenet", title="GoogLeNet (torchvision)",
        description="Inception-v1 as torchvision ships it: BN, the '5x5' branch is 3x3, two aux heads.",
        stages=stages, head=Head(dropout=0.2), aux=aux, aux_enabled=True, bn=True, input_size=224,
        top1_error=30.222, top5_error=10.47, weights_source=source_of_preset("googlenet"),
        reference="[TV] torchvision.models.googlenet; [P1] arXiv 1409.4842",
        notes="Weight-compatible with torchvision googlenet (a TF port): BN eps 1e-3, no conv bias, 3x3 in the '5x5' "
              "branch (pytorch/vision#906), 2x2/2 maxpool4, ceil-mode pools, aux = adaptive 4x4 pool, FC 2048->1024. "
              "Errors are torchvision's (69.778/89.530 acc).",
    )


def googlenet() -> ArchSpec:
    """GoogLeNet, weight-compatible with torchvision's googlenet."""
    return _googlenet(paper=False)


def googlenet_paper() -> ArchSpec:
    """GoogLeNet exactly as the 2014 paper's Table 1."""
    return _googlenet(paper=True)
