"""The registry of released ImageNet weights our presets load: one ``WeightSource`` record per source.

As torchvision's ``WeightsEnum`` bundles a checkpoint's url, transforms and meta, a record here holds
everything about one source: its name (what the CLI's ``import-weights`` choices, the GUI's Model menu
and ``ArchSpec.weights_source`` say), the preset it fits, how its state dicts are recognised and read
(a key prefix only they have, the aux-head keys, the classifier key, the reference architecture's key
order), the input normalisation the weights expect, and how to get them (torchvision's weight enum or
timm's pretrained loading). Importing this module imports no torch; the loaders import it on use.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import WeightsError
from .spec import INCEPTION_MEAN, INCEPTION_STD

if TYPE_CHECKING:
    from .spec import ArchSpec


@dataclass(frozen=True)
class WeightSource:
    """One set of released weights: where it comes from, what it fits and expects, how to read it."""

    name: str  # "<library>:<architecture>", e.g. "torchvision:googlenet"
    preset: str  # our weight-compatible preset
    release: str  # torchvision: "<WeightsEnum>.<member>"; timm: "<model>.<pretrained tag>"
    signature: str  # a key prefix that only this reference's state dicts have
    aux_prefixes: tuple[str, ...] = ()  # the reference's aux-head keys, matched as a group of their own
    classifier: str = "fc.weight"  # the key whose rows count the classes
    # The normalisation the released weights expect. torchvision's googlenet / inception_v3 weights are
    # TF ports made with transform_input=True, which maps ImageNet-normalised input to (x - 0.5) / 0.5:
    # the same as normalising with 0.5 directly.
    mean: tuple[float, ...] = INCEPTION_MEAN
    std: tuple[float, ...] = INCEPTION_STD
    url: str = ""  # where the file is published, for a user who downloads it elsewhere
    meta: Mapping[str, Any] = field(default_factory=dict)  # as the library publishes it (accuracy, licence)

    @property
    def library(self) -> str:
        """"torchvision" or "timm"."""
        return self.name.split(":", 1)[0]

    @property
    def arch(self) -> str:
        """The library's name for the architecture ("googlenet", "inception_v4", ...)."""
        return self.name.split(":", 1)[1]

    def reference_model(self, aux: bool = True, init: bool = False):
        """The library's own model of this architecture, without weights (randomly initialised when ``init``)."""
        if self.library == "torchvision":
            import torchvision.models as tvm
            return getattr(tvm, self.arch)(weights=None, aux_logits=aux, init_weights=init)
        import timm
        return timm.create_model(self.arch, pretrained=False)

    def reference_keys(self, aux: bool = True) -> tuple[str, ...]:
        """The reference architecture's state-dict keys in its own order (built on the meta device: no download)."""
        import torch

        with torch.device("meta"):
            return tuple(self.reference_model(aux).state_dict().keys())

    def download(self, progress: bool = True, local_file: str | None = None) -> dict:
        """The released state dict: torchvision's hub cache or download; timm from ``local_file`` or the HF hub."""
        if self.library == "torchvision":
            import torchvision.models as tvm
            enum, member = self.release.split(".")
            return getattr(getattr(tvm, enum), member).get_state_dict(progress=progress, check_hash=True)
        import timm
        overlay = {"file": str(local_file)} if local_file else None
        return timm.create_model(self.release, pretrained=True, pretrained_cfg_overlay=overlay).state_dict()


_TORCHVISION_MEAN_NOTE = "transform_input=True: input normalised with 0.5 (a TF port)"

SOURCES: dict[str, WeightSource] = {s.name: s for s in (
    WeightSource("torchvision:googlenet", "googlenet", "GoogLeNet_Weights.IMAGENET1K_V1", "inception3a.",
                 aux_prefixes=("aux1.", "aux2."),
                 url="https://download.pytorch.org/models/googlenet-1378be20.pth",
                 meta={"acc@1": 69.778, "acc@5": 89.53, "note": _TORCHVISION_MEAN_NOTE}),
    WeightSource("torchvision:inception_v3", "inception_v3", "Inception_V3_Weights.IMAGENET1K_V1", "Mixed_5b.",
                 aux_prefixes=("AuxLogits.",),
                 url="https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
                 meta={"acc@1": 77.294, "acc@5": 93.45, "note": _TORCHVISION_MEAN_NOTE}),
    WeightSource("timm:inception_v4", "inception_v4", "inception_v4.tf_in1k", "features.",
                 classifier="last_linear.weight", url="https://huggingface.co/timm/inception_v4.tf_in1k",
                 meta={"license": "apache-2.0"}),
    WeightSource("timm:inception_resnet_v2", "inception_resnet_v2", "inception_resnet_v2.tf_in1k", "mixed_5b.",
                 classifier="classif.weight", url="https://huggingface.co/timm/inception_resnet_v2.tf_in1k",
                 meta={"license": "apache-2.0"}),
)}


def get_source(name: str) -> WeightSource:
    """The record called ``name``; a one-line WeightsError naming the known sources otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        raise WeightsError(f"unknown weights source '{name}' (one of {', '.join(SOURCES)})") from None


def source_of_preset(preset: str) -> str:
    """The source whose weights the preset ``preset`` loads ("" for a preset without released weights)."""
    return next((s.name for s in SOURCES.values() if s.preset == preset), "")


def pretrained_sources(spec: ArchSpec) -> list[str]:
    """Sources whose weights fit ``spec``'s preset (the first is the best match)."""
    out = [spec.weights_source] if spec.weights_source in SOURCES else []
    return out + [s.name for s in SOURCES.values() if s.preset == spec.name and s.name not in out]


def no_weights_for(spec: ArchSpec) -> WeightsError:
    """The one-line error for a network without released weights (naming the weight-compatible presets)."""
    return WeightsError(f"{spec.name}: no pretrained weights exist for this variant "
                        f"(weight-compatible: {', '.join(s.preset for s in SOURCES.values())})")


def guess_source(keys: Iterable[str], name: str = "weights") -> str:
    """Which source a state dict comes from, by its key names; WeightsError when none matches."""
    keys = list(keys)
    for s in SOURCES.values():
        if any(k.startswith(s.signature) or f".{s.signature}" in k for k in keys):
            return s.name
    raise WeightsError(f"{name}: not a torchvision/timm Inception state dict (choose its source explicitly)")
