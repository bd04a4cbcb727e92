"""The nn.Modules a spec is built from: ConvBNAct, branches, Inception and residual blocks, heads."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .spec import AuxHead, Block, Branch, Op


class ModelOutput(NamedTuple):
    """Training-mode output when aux heads are on: main logits and each aux head's logits."""

    logits: torch.Tensor
    aux: tuple[torch.Tensor, ...]


class ConvBNAct(nn.Sequential):
    """Conv (no bias when BN follows) -> BN -> ReLU, named conv/bn like torchvision and timm."""

    def __init__(self, cin: int, op: Op, bn: bool, eps: float):
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, op.out, op.k, op.stride, op.padding(), bias=not bn))
        if bn:
            self.add_module("bn", nn.BatchNorm2d(op.out, eps=eps))
        if op.act:
            self.add_module("act", nn.ReLU(inplace=True))


class SepConvBNAct(nn.Sequential):
    """Depthwise kxk (channel multiplier) -> pointwise 1x1 -> BN -> ReLU (BN-Inception's conv*)."""

    def __init__(self, cin: int, op: Op, bn: bool, eps: float):
        super().__init__()
        mid = cin * op.depth_mult
        self.add_module("dw", nn.Conv2d(cin, mid, op.k, op.stride, op.padding(), groups=cin, bias=False))
        self.add_module("conv", nn.Conv2d(mid, op.out, 1, bias=not bn))
        if bn:
            self.add_module("bn", nn.BatchNorm2d(op.out, eps=eps))
        if op.act:
            self.add_module("act", nn.ReLU(inplace=True))


def make_op(op: Op, cin: int, bn: bool, eps: float) -> tuple[nn.Module, int]:
    """The module for ``op`` and its output channel count."""
    if op.kind == "conv":
        return ConvBNAct(cin, op, bn, eps), op.out
    if op.kind == "sepconv":
        return SepConvBNAct(cin, op, bn, eps), op.out
    if op.kind == "maxpool":
        return nn.MaxPool2d(op.k, op.stride, op.padding(), ceil_mode=op.ceil), cin
    if op.kind == "avgpool":
        return nn.AvgPool2d(op.k, op.stride, op.padding(), ceil_mode=op.ceil, count_include_pad=op.count_include_pad), cin
    if op.kind == "lrn":
        return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0), cin
    if op.kind == "dropout":
        return nn.Dropout(op.rate), cin
    raise ValueError(f"unknown op kind {op.kind}")


def make_chain(ops: tuple[Op, ...], cin: int, bn: bool, eps: float) -> tuple[nn.Sequential, int]:
    """A Sequential of ops named 0..n-1, and its output channels."""
    seq = nn.Sequential()
    for k, op in enumerate(ops):
        mod, cin = make_op(op, cin, bn, eps)
        seq.add_module(str(k), mod)
    return seq, cin


class ForkBranch(nn.Module):
    """A chain whose output feeds parallel tails that are concatenated (Inception-v3 Fig. 7)."""

    def __init__(self, branch: Branch, cin: int, bn: bool, eps: float):
        super().__init__()
        self.out_channels = 0
        for k, op in enumerate(branch.ops):
            mod, cin = make_op(op, cin, bn, eps)
            self.add_module(str(k), mod)
        self.n_ops = len(branch.ops)
        for f, tail in enumerate(branch.fork):
            seq, c = make_chain(tail, cin, bn, eps)
            self.add_module(f"fork{f}", seq)
            self.out_channels += c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k in range(self.n_ops):
            x = self._modules[str(k)](x)
        return torch.cat([m(x) for name, m in self._modules.items() if name.startswith("fork")], 1)


def make_branch(branch: Branch, cin: int, bn: bool, eps: float) -> tuple[nn.Module, int]:
    """A plain Sequential, or a ForkBranch when the branch forks."""
    if branch.fork:
        mod = ForkBranch(branch, cin, bn, eps)
        return mod, mod.out_channels
    return make_chain(branch.ops, cin, bn, eps)


class InceptionBlock(nn.Module):
    """Parallel branches (branch0..N) joined by concatenation along channels."""

    def __init__(self, block: Block, cin: int, bn: bool, eps: float):
        super().__init__()
        self.out_channels = 0
        self.n = len(block.branches)
        for j, b in enumerate(block.branches):
            mod, c = make_branch(b, cin, bn, eps)
            self.add_module(f"branch{j}", mod)
            self.out_channels += c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._modules[f"branch{j}"](x) for j in range(self.n)], 1)


class ResidualBlock(InceptionBlock):
    """Inception-ResNet block: concat -> linear 1x1 back to the input width -> x + scale * that -> ReLU."""

    def __init__(self, block: Block, cin: int, bn: bool, eps: float):
        super().__init__(block, cin, bn, eps)
        self.proj = nn.Conv2d(self.out_channels, cin, 1, bias=True)
        self.act = nn.ReLU(inplace=True) if block.final_act else nn.Identity()
        self.scale = float(block.scale)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.proj(super().forward(x))
        return self.act(out * self.scale + x)


def make_block(block: Block, cin: int, bn: bool, eps: float) -> tuple[nn.Module, int]:
    """The module for ``block`` and its output channels."""
    if block.kind == "seq":
        return make_chain(block.branches[0].ops, cin, bn, eps)
    cls = ResidualBlock if block.kind == "residual" else InceptionBlock
    mod = cls(block, cin, bn, eps)
    return mod, mod.out_channels


class AuxClassifier(nn.Module):
    """GoogLeNet / Inception-v3 auxiliary head: pool -> convs -> (GAP | flatten) -> FCs -> classes."""

    def __init__(self, aux: AuxHead, cin: int, feat: int, num_classes: int, bn: bool, eps: float):
        super().__init__()
        self.pool = nn.AvgPool2d(aux.pool_k, aux.pool_s) if aux.pool_k else nn.AdaptiveAvgPool2d(aux.adaptive)
        self.convs, _ = make_chain(aux.convs, cin, bn, eps)
        self.gap = aux.gap
        self.fcs = nn.ModuleList()
        for width in aux.fc:
            self.fcs.append(nn.Linear(feat, width))
            feat = width
        self.dropout = nn.Dropout(aux.dropout)
        self.fc = nn.Linear(feat, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(self.pool(x))
        x = x.mean((2, 3)) if self.gap else torch.flatten(x, 1)
        for fc in self.fcs:
            x = torch.relu(fc(x))
        return self.fc(self.dropout(x))


class Classifier(nn.Module):
    """Global average pool, dropout, then a linear layer (or, NIN-style, a 1x1 conv before the pool)."""

    def __init__(self, kind: str, cin: int, num_classes: int, dropout: float):
        super().__init__()
        self.kind = kind
        self.dropout = nn.Dropout(dropout)
        if kind == "conv":
            self.fc: nn.Module = nn.Conv2d(cin, num_classes, 1)
        else:
            self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv":
            return self.fc(self.dropout(x)).mean((2, 3))
        return self.fc(self.dropout(torch.flatten(x.mean((2, 3), keepdim=True), 1)))
