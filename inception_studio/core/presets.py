"""One function per Inception-family variant, each returning an ArchSpec, and the registry by name.

Weight-compatible presets follow the released code exactly (branch order, padding, BN eps) so the
reference state dicts load by position; paper presets follow the papers and say in ``notes`` how
they resolve the papers' inconsistencies (see shared/reference/inception_reference.md).
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import SpecError
from .spec import ArchSpec, AuxHead, Block, Branch, Head, Op, Stage

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)


# ---- op shorthands ------------------------------------------------------------------------

def conv(out: int, k: int | tuple[int, int] = 1, s: int = 1, pad: str = "same") -> Op:
    """A conv (+BN) + ReLU; ``k`` an int for square kernels or (h, w)."""
    kk = (k, k) if isinstance(k, int) else tuple(k)
    return Op("conv", out=out, k=kk, stride=s, pad=pad)


def vconv(out: int, k: int | tuple[int, int] = 3, s: int = 1) -> Op:
    """A conv with 'valid' (no) padding, the papers' V."""
    return conv(out, k, s, pad="valid")


def maxpool(k: int = 3, s: int = 2, pad: str = "valid", ceil: bool = False) -> Op:
    """A max pool."""
    return Op("maxpool", k=(k, k), stride=s, pad=pad, ceil=ceil)


def avgpool(k: int = 3, s: int = 1, pad: str = "same", count_include_pad: bool = True, ceil: bool = False) -> Op:
    """An average pool."""
    return Op("avgpool", k=(k, k), stride=s, pad=pad, count_include_pad=count_include_pad, ceil=ceil)


def br(*ops: Op, role: str = "", fork: tuple[tuple[Op, ...], ...] = ()) -> Branch:
    """A branch from ops."""
    return Branch(ops=tuple(ops), fork=fork, role=role)


def seq(name: str, label: str, *ops: Op, role: str = "stem") -> Block:
    """A plain chain of ops as one block."""
    return Block(kind="seq", name=name, label=label, branches=(br(*ops),), role=role)


def _repeat(stage: str, label: str, role: str, n: int, make: Callable[[str, str], Block], names: str, labels: str) -> Stage:
    """A repeatable stage of ``n`` identical blocks named ``names.format(i)``."""
    blocks = tuple(make(names.format(i + 1), labels.format(i + 1)) for i in range(n))
    return Stage(stage, label, blocks, repeatable=True)


# ---- NIN --------------------------------------------------------------------------------

def nin() -> ArchSpec:
    """Network in Network (Lin et al. 2013), ImageNet model: four mlpconv blocks and GAP."""
    def mlp(name, k, s, w, w_last=None, pad="same"):
        return seq(name, name, Op("conv", out=w, k=(k, k), stride=s, pad=pad), conv(w), conv(w_last or w), role="mlpconv")

    stages = (
        Stage("mlpconv1", "mlpconv 1", (mlp("mlpconv1", 11, 4, 96, pad="valid"), seq("pool1", "max pool", maxpool(ceil=True), role="pool"))),
        Stage("mlpconv2", "mlpconv 2", (mlp("mlpconv2", 5, 1, 256), seq("pool2", "max pool", maxpool(ceil=True), role="pool"))),
        Stage("mlpconv3", "mlpconv 3", (mlp("mlpconv3", 3, 1, 384),
                                          seq("pool3", "max pool + dropout", maxpool(ceil=True), Op("dropout", rate=0.5), role="pool"))),
        Stage("mlpconv4", "mlpconv 4", (seq("mlpconv4", "mlpconv4", conv(1024, 3), conv(1024), role="mlpconv"),)),
    )
    return ArchSpec(
        name="nin", title="Network in Network",
        description="Lin et al. 2013: mlpconv blocks (kxk conv + two 1x1 convs), global average pooling, no FC layer.",
        stages=stages, head=Head(kind="conv"), bn=False, input_size=224,
        reference="Lin, Chen, Yan: Network In Network (arXiv 1312.4400); Caffe model-zoo ImageNet NIN",
        notes="The last 1x1 conv of mlpconv4 maps to the classes (the head); it has no ReLU here, unlike the Caffe model, "
              "so logits can be negative.",
    )


# ---- GoogLeNet ------------------------------------------------------------------------------

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
        top1_error=30.222, top5_error=10.47, weights_source="torchvision:googlenet",
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


# ---- BN-Inception ---------------------------------------------------------------------------

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


# ---- Inception-v3 (torchvision) ----------------------------------------------------------

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
        top1_error=21.2, top5_error=5.6, weights_source="torchvision:inception_v3",
        reference="[TV] torchvision.models.inception_v3; [P3] arXiv 1512.00567",
        notes="Follows the released model (TF-slim, torchvision), not the paper's Table 1: 1x1 80 / 3x3 192 / pool stem, "
              "four Inception-B blocks, separate reduction blocks. Aux loss weight 0.4 is TF-slim's.",
    )


# ---- Inception-v4 / Inception-ResNet stems and reductions --------------------------------

def _v4_stem() -> Stage:
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


def _reduction_a(k: int, l: int, m: int, n: int, name: str = "reduction_a", label: str = "Reduction-A") -> Stage:
    return Stage("reduction_a", "Reduction-A", (Block(kind="inception", name=name, label=label, role="Reduction-A", branches=(
        br(vconv(n, 3, 2), role="3x3"),
        br(conv(k), conv(l, 3), vconv(m, 3, 2), role="dbl3x3"),
        br(maxpool(), role="pool"),
    )),))


def _avg_nopad() -> Op:
    return avgpool(3, 1, count_include_pad=False)


def inception_v4() -> ArchSpec:
    """Inception-v4 (paper schema 4/7/3), weight-compatible with timm's inception_v4."""
    def a(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-A", branches=(
            br(conv(96), role="1x1"), br(conv(64), conv(96, 3), role="3x3"),
            br(conv(64), conv(96, 3), conv(96, 3), role="dbl3x3"), br(_avg_nopad(), conv(96), role="pool")))

    def b(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-B", branches=(
            br(conv(384), role="1x1"), br(conv(192), conv(224, (1, 7)), conv(256, (7, 1)), role="7x7"),
            br(conv(192), conv(192, (7, 1)), conv(224, (1, 7)), conv(224, (7, 1)), conv(256, (1, 7)), role="dbl7x7"),
            br(_avg_nopad(), conv(128), role="pool")))

    def c(name, label):
        return Block(kind="inception", name=name, label=label, role="Inception-C", branches=(
            br(conv(256), role="1x1"),
            br(conv(384), fork=((conv(256, (1, 3)),), (conv(256, (3, 1)),)), role="3x3"),
            br(conv(384), conv(448, (3, 1)), conv(512, (1, 3)), fork=((conv(256, (1, 3)),), (conv(256, (3, 1)),)), role="dbl3x3"),
            br(_avg_nopad(), conv(256), role="pool")))

    stages = (
        _v4_stem(),
        _repeat("inception_a", "Inception-A", "Inception-A", 4, a, "inception_a{}", "Inception-A {}"),
        _reduction_a(192, 224, 256, 384),
        _repeat("inception_b", "Inception-B", "Inception-B", 7, b, "inception_b{}", "Inception-B {}"),
        Stage("reduction_b", "Reduction-B", (Block(kind="inception", name="reduction_b", label="Reduction-B", role="Reduction-B", branches=(
            br(conv(192), vconv(192, 3, 2), role="3x3"),
            br(conv(256), conv(256, (1, 7)), conv(320, (7, 1)), vconv(320, 3, 2), role="7x7x3"),
            br(maxpool(), role="pool"))),)),
        _repeat("inception_c", "Inception-C", "Inception-C", 3, c, "inception_c{}", "Inception-C {}"),
    )
    return ArchSpec(
        name="inception_v4", title="Inception-v4",
        description="Szegedy et al. 2016: uniform Inception-A/B/C blocks (4/7/3) with dedicated reductions.",
        stages=stages, head=Head(dropout=0.2), bn=True, input_size=299, mean=INCEPTION_MEAN, std=INCEPTION_STD,
        interpolation="bicubic", top1_error=20.0, top5_error=5.0, weights_source="timm:inception_v4",
        reference="[P4] arXiv 1602.07261, Figs. 3-9; [TIMM] inception_v4.py",
        notes="Same as timm's inception_v4 (weight-compatible): branch order and the 1xn/nx1 order follow timm, "
              "BN eps 1e-3, avg pools exclude padding. Dropout 0.2 (keep 0.8) as the paper.",
    )


def _res_block(name: str, label: str, role: str, scale: float, *branches: Branch) -> Block:
    return Block(kind="residual", name=name, label=label, role=role, scale=scale, branches=tuple(branches))


def _res_stage(letter: str, n: int, scale: float, branches: tuple[Branch, ...], names: str, short: str = "") -> Stage:
    """A repeated stage of Inception-ResNet-<letter> blocks; ``short`` is the release's name (Block35...)."""
    role = f"Inception-ResNet-{letter}"
    label = f"{short} ({role})" if short else role
    return _repeat(f"inception_resnet_{letter.lower()}", label, role, n,
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
        _reduction_a(192, 192, 256, 384),
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
            br(conv(64), conv(96, 3), conv(96, 3), role="dbl3x3"), br(_avg_nopad(), conv(64), role="pool"))),)),
        _res_stage("A", 10, 0.17, a, "block35_{}", "Block35"),
        _reduction_a(256, 256, 384, 384, name="mixed_6a", label="Mixed_6a"),
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
        interpolation="bicubic", crop_pct=0.8975, top1_error=19.9, top5_error=4.9, weights_source="timm:inception_resnet_v2",
        reference="[TIMM] inception_resnet_v2.py; [SLIM] inception_resnet_v2.py; [P4] arXiv 1602.07261",
        notes="Weight-compatible with timm's inception_resnet_v2 (the TF-slim release), which departs from the paper: "
              "v3-style stem plus Mixed_5b (320 ch), 10/20/9 blocks plus a final linear Block8, widths 320/1088/2080, "
              "a 1x1 conv to 1536, scales 0.17/0.10/0.20. Errors quoted are the paper's.",
    )


def inception_resnet_v2_paper() -> ArchSpec:
    """Inception-ResNet-v2 with the paper's schema: v4 stem, 5/10/5 blocks."""
    a, b, c = _ir_v2_branches()
    stages = (
        _v4_stem(),
        _res_stage("A", 5, 0.17, a, "block35_{}"),
        _reduction_a(256, 256, 384, 384),
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


_REGISTRY: dict[str, Callable[[], ArchSpec]] = {
    "nin": nin,
    "googlenet": googlenet,
    "googlenet_paper": googlenet_paper,
    "bn_inception": bn_inception,
    "inception_v3": inception_v3,
    "inception_v4": inception_v4,
    "inception_resnet_v1": inception_resnet_v1,
    "inception_resnet_v2": inception_resnet_v2,
    "inception_resnet_v2_paper": inception_resnet_v2_paper,
}


def list_variants() -> list[str]:
    """Names of every preset, in family order."""
    return list(_REGISTRY)


def get_spec(name: str) -> ArchSpec:
    """The preset spec called ``name``."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise SpecError(f"unknown variant '{name}' (known: {', '.join(_REGISTRY)})") from None
