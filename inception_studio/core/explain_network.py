"""Network-level lessons of :mod:`core.explain`: NIN's global average pooling against a fully connected
head, the network's parameters against AlexNet's, where the multiply-adds go, and its aux heads.

AlexNet's count is computed from its layers (Krizhevsky et al. 2012, two-GPU grouped convs, as
Caffe's bvlc_alexnet), not typed in. No Qt, no torch.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..errors import SpecError
from .trace import Trace, trace
from .ideas import ALEXNET, GOOGLENET, INCEPTION_V3, NIN, CostRow, Figure, Idea, percent, share, short
from .spec import ArchSpec

# (in, out, kernel, groups) of AlexNet's five convs, then its three FC layers (in, out).
ALEXNET_CONVS = ((3, 96, 11, 1), (96, 256, 5, 2), (256, 384, 3, 1), (384, 384, 3, 2), (384, 256, 3, 2))
ALEXNET_FCS = ((256 * 6 * 6, 4096), (4096, 4096), (4096, 1000))


def alexnet_params() -> int:
    """AlexNet's parameter count, weights and biases: 60,965,224."""
    convs = sum(o * (i // g) * k * k + o for i, o, k, g in ALEXNET_CONVS)
    return convs + sum(i * o + o for i, o in ALEXNET_FCS)


def gap_head(spec: ArchSpec, t: Trace) -> Idea:
    """Global average pooling then a linear layer, against a fully connected layer on the whole map."""
    c, h, w = t.head_in
    n = spec.num_classes
    gap = c * n + n
    fc = c * h * w * n + n
    figures = (Figure("final width", c, "channels"), Figure("final grid", h, "px"), Figure("classes", n, ""),
               Figure("head after global average pooling", gap, "params"),
               Figure(f"fully connected head on the {h}x{w}x{c} map", fc, "params"),
               Figure("params saved by pooling first", fc - gap, "params"))
    summary = ("NIN replaced the fully connected classifier by global average pooling, which has no weights "
               "and cannot overfit; GoogLeNet kept one linear layer after it. For this network's final "
               f"{h}x{w}x{c} map and {n} classes, the pooled head has {gap:,} params where a fully connected "
               f"layer on the whole map would have {fc:,}.")
    return Idea("gap_head", "Global average pooling instead of a fully connected head", NIN, summary, figures,
                headline=f"{short(gap)} params, against {short(fc)} for a fully connected head")


def against_alexnet(spec: ArchSpec, t: Trace) -> Idea:
    """This network's parameters (without aux heads) against AlexNet's."""
    ours = sum(b.params for b in t.blocks) + t.head_params
    alex = alexnet_params()
    figures = (Figure("this network's params (no aux heads)", ours, "params"),
               Figure("AlexNet's params", alex, "params"),
               Figure("this network / AlexNet", Fraction(ours, alex), "share"))
    summary = ("The GoogLeNet paper says it uses 12 times fewer parameters than AlexNet, while being "
               f"deeper and more accurate. Counted exactly, this network has {ours:,} params against AlexNet's "
               f"{alex:,}: {alex / ours:.1f} times fewer." if ours < alex else
               "The GoogLeNet paper says it uses 12 times fewer parameters than AlexNet. This network has "
               f"{ours:,} params, {ours / alex:.1f} times AlexNet's {alex:,}.")
    return Idea("alexnet", "Parameters against AlexNet", f"{GOOGLENET}; {ALEXNET}", summary, figures,
                headline=f"{short(ours)} params, AlexNet {short(alex)}")


def stage_costs(spec: ArchSpec, t: Trace) -> Idea:
    """Where the multiply-adds go: each stage's share (the Statistics panel's bars)."""
    tot: dict[str, list[int]] = {s.name: [0, 0] for s in spec.stages}
    for b in t.blocks:
        tot[b.stage.name][0] += b.params
        tot[b.stage.name][1] += b.macs
    macs = sum(m for _, m in tot.values()) + t.head_macs
    rows = tuple(CostRow(f"{s.label} ({s.count} block{'s' if s.count != 1 else ''})", *tot[s.name])
                 for s in spec.stages) + (CostRow("classifier", t.head_params, t.head_macs),)
    top = max(spec.stages, key=lambda s: tot[s.name][1])
    figures = (Figure("network multiply-adds", macs, "MACs"),
               Figure(f"largest share: {top.label}", Fraction(tot[top.name][1], macs), "share"))
    summary = (f"Where the {macs:,} multiply-adds go, stage by stage. The largest share, "
               f"{share(Fraction(tot[top.name][1], macs))}, is in {top.label}; the Inception-v3 paper argues for "
               "spending compute evenly across depth and width, and for not shrinking the grid too early.")
    return Idea("stages", "Where the multiply-adds go", INCEPTION_V3, summary, figures, rows,
                headline=f"{share(Fraction(tot[top.name][1], macs))} in {top.label}")


def aux_summary(spec: ArchSpec, t: Trace) -> Idea | None:
    """The network's aux heads: where, cost, and the training-only share of the parameters."""
    if not spec.aux:
        return None
    try:
        full = t if spec.aux_enabled else trace(replace(spec, aux_enabled=True))
    except SpecError as exc:
        return Idea("aux", "Auxiliary classifiers", GOOGLENET, f"The aux heads do not fit at {t.input_size} px: {exc}")
    main = sum(b.params for b in t.blocks) + t.head_params
    aux_p = sum(a.params for a in full.aux)
    rows = tuple(CostRow(f"{a.aux.name} after {spec.stage(a.aux.stage).blocks[a.aux.index].label}", a.params, a.macs)
                 for a in full.aux)
    figures = (Figure("aux params (training only)", aux_p, "params"),
               Figure("params with aux heads", main + aux_p, "params"),
               Figure("aux share of the training params", Fraction(aux_p, main + aux_p), "share"))
    summary = (f"GoogLeNet adds classifiers to middle blocks during training; their weighted loss helps "
               f"gradients reach the lower layers. Here they add {aux_p:,} params "
               f"({percent(Fraction(aux_p, main))} on the {main:,} used at inference) and are dropped for inference.")
    return Idea("aux", "Auxiliary classifiers", GOOGLENET, summary, figures, rows,
                headline=f"{short(aux_p)} params, training only")


def network_ideas(spec: ArchSpec, t: Trace) -> list[Idea]:
    """The network-level lessons for ``spec``."""
    ideas = [gap_head(spec, t), against_alexnet(spec, t), stage_costs(spec, t)]
    aux = aux_summary(spec, t)
    return ideas + ([aux] if aux else [])
