"""Network in Network (Lin et al. 2013): the ImageNet model with four mlpconv blocks and global average pooling."""
from __future__ import annotations

from ..spec import ArchSpec, Head, Op, Stage
from .ops import conv, maxpool, seq


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
