"""Weights: import torchvision/timm state dicts into our presets; our checkpoints, saved and loaded safely.

Reference state dicts map onto our modules by *position*: the weight-compatible presets register
their tensors in the same order as the reference, so the n-th tensor of one is the n-th of the other,
with every shape checked. Aux-head tensors are matched as a group of their own because torchvision's
Inception-v3 registers its AuxLogits between Mixed_6e and Mixed_7a.

Checkpoints are safetensors files: the weights as tensors and, in the header metadata, the spec JSON,
class names and free-form metadata. Nothing is ever unpickled.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SpecError, WeightsError
from .presets import INCEPTION_MEAN, INCEPTION_STD, get_spec
from .spec import ArchSpec

# source name -> (preset name, prefixes of the reference's aux-head keys)
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "torchvision:googlenet": ("googlenet", ("aux1.", "aux2.")),
    "torchvision:inception_v3": ("inception_v3", ("AuxLogits.",)),
    "timm:inception_v4": ("inception_v4", ()),
    "timm:inception_resnet_v2": ("inception_resnet_v2", ()),
}

CHECKPOINT_FORMAT = "inception-studio-checkpoint"
CHECKPOINT_VERSION = 1


def _source(source: str) -> tuple[str, tuple[str, ...]]:
    try:
        return SOURCES[source]
    except KeyError:
        raise WeightsError(f"unknown weights source '{source}' (one of {', '.join(SOURCES)})") from None


def _split(sd: dict[str, torch.Tensor], aux_prefixes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    aux = [k for k in sd if k.startswith(aux_prefixes)] if aux_prefixes else []
    main = [k for k in sd if k not in set(aux)]
    return main, aux


def map_state_dict(model: nn.Module, ref: dict[str, torch.Tensor], source: str, name: str = "weights") -> dict[str, torch.Tensor]:
    """Rename a reference state dict's keys to ``model``'s, by position with shapes checked."""
    _, aux_prefixes = _source(source)
    ours = model.state_dict()
    ref_main, ref_aux = _split(ref, aux_prefixes)
    our_main, our_aux = _split(ours, ("aux.",))
    if not our_aux:
        ref_aux = []  # aux heads switched off here: their reference weights are simply not needed
    out: dict[str, torch.Tensor] = {}
    for group, theirs, mine in (("main", ref_main, our_main), ("aux", ref_aux, our_aux)):
        if len(theirs) != len(mine):
            raise WeightsError(f"{name}: has {len(theirs)} {group} tensors but the spec builds {len(mine)}; "
                               f"it is not a {source} state dict, or the spec was edited")
        for a, b in zip(theirs, mine):
            ta, tb = ref[a], ours[b]
            if tuple(ta.shape) != tuple(tb.shape):
                raise WeightsError(f"{name}: '{a}' has shape {tuple(ta.shape)} but '{b}' needs {tuple(tb.shape)}")
            out[b] = ta
    return out


def spec_for_source(source: str, num_classes: int | None = None, aux: bool | None = None,
                    pretrained_transform: bool = False) -> ArchSpec:
    """The preset matching ``source``, with the class count and aux heads of the weights file."""
    preset, _ = _source(source)
    spec = get_spec(preset)
    if num_classes is not None:
        spec = replace(spec, num_classes=num_classes)
    if aux is not None:
        spec = replace(spec, aux_enabled=aux and bool(spec.aux))
    if pretrained_transform and source.startswith("torchvision:"):
        # torchvision's pretrained googlenet/inception_v3 set transform_input=True, which maps ImageNet-normalised
        # input to the (x - 0.5) / 0.5 scaling the TF weights expect: the same as normalising with 0.5 directly.
        spec = replace(spec, mean=INCEPTION_MEAN, std=INCEPTION_STD)
    return spec


def _infer_classes(sd: dict[str, torch.Tensor]) -> int | None:
    for key in ("fc.weight", "last_linear.weight", "classif.weight"):
        if key in sd:
            return int(sd[key].shape[0])
    return None


def import_reference(source: str, state_dict: dict[str, torch.Tensor], name: str = "weights",
                     pretrained_transform: bool = False):
    """Build our preset for ``source`` and load a reference state dict into it; returns the model."""
    from .build import build_model

    preset, aux_prefixes = _source(source)
    has_aux = any(k.startswith(aux_prefixes) for k in state_dict) if aux_prefixes else None
    spec = spec_for_source(source, _infer_classes(state_dict), has_aux, pretrained_transform)
    model = build_model(spec)
    model.load_state_dict(map_state_dict(model, state_dict, source, name))
    return model


def _existing(path: str | os.PathLike) -> Path:
    """The path, if it names a non-empty file (else a one-line WeightsError)."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{p.name}: no such file")
    if p.stat().st_size == 0:
        raise WeightsError(f"{p.name}: empty file")
    return p


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a plain state dict from .safetensors or a torch file, safely (weights_only=True)."""
    p = _existing(path)
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file
            sd = load_file(str(p))
        else:
            sd = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is "not a weights file"
        raise WeightsError(f"{p.name}: not a readable weights file ({_short(exc)})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise WeightsError(f"{p.name}: does not hold a state dict of tensors")
    return sd


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# ---- our checkpoints --------------------------------------------------------------------------

@dataclass
class Checkpoint:
    """A spec, its weights, class names and metadata."""

    spec: ArchSpec
    state_dict: dict[str, torch.Tensor]
    class_names: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so a crash never leaves half a file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent))
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(path: str | os.PathLike, spec: ArchSpec, model_or_state: nn.Module | dict[str, torch.Tensor],
                    class_names: list[str] | None = None, metadata: dict[str, Any] | None = None) -> None:
    """Write a checkpoint (safetensors) atomically."""
    from safetensors.torch import save_file

    sd = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in sd.items()}
    header = {
        "format": CHECKPOINT_FORMAT, "version": str(CHECKPOINT_VERSION), "spec": spec.to_json(indent=None),
        "class_names": json.dumps(list(class_names or [])), "metadata": json.dumps(metadata or {}, default=str),
    }
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=header))


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read one of our checkpoints; one-line WeightsError for a foreign, corrupt or mismatched file."""
    from safetensors import safe_open

    p = _existing(path)
    try:
        with safe_open(str(p), framework="pt") as fh:
            header = fh.metadata() or {}
            if header.get("format") != CHECKPOINT_FORMAT:
                raise WeightsError(f"{p.name}: not an Inception Studio checkpoint (no spec inside); "
                                   "use import-weights for torchvision/timm files")
            sd = {k: fh.get_tensor(k) for k in fh.keys()}
    except WeightsError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise WeightsError(f"{p.name}: not a readable checkpoint ({_short(exc)})") from None
    if header.get("version") != str(CHECKPOINT_VERSION):
        raise WeightsError(f"{p.name}: checkpoint version {header.get('version')} is not supported")
    try:
        spec = ArchSpec.from_json(header["spec"])
        names = json.loads(header.get("class_names", "[]"))
        meta = json.loads(header.get("metadata", "{}"))
    except (SpecError, KeyError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{p.name}: its spec is unusable ({exc})") from None
    ck = Checkpoint(spec, sd, names, meta)
    check_fits(ck, p.name)
    return ck


def check_fits(ck: Checkpoint, name: str) -> None:
    """Raise WeightsError unless the weights have exactly the tensors the spec builds."""
    from .build import build_model

    with torch.device("meta"):  # shapes only: no memory, no initialisation
        want = build_model(ck.spec, check_memory=False).state_dict()
    missing = [k for k in want if k not in ck.state_dict]
    extra = [k for k in ck.state_dict if k not in want]
    if missing or extra:
        what = f"missing '{missing[0]}'" if missing else f"unexpected '{extra[0]}'"
        raise WeightsError(f"{name}: weights don't fit its spec ({what}; {len(missing)} missing, {len(extra)} extra)")
    for k, v in want.items():
        if tuple(v.shape) != tuple(ck.state_dict[k].shape):
            raise WeightsError(f"{name}: '{k}' has shape {tuple(ck.state_dict[k].shape)}, the spec needs {tuple(v.shape)}")


def model_from_checkpoint(ck: Checkpoint):
    """Build the checkpoint's spec and load its weights."""
    from .build import build_model

    model = build_model(ck.spec)
    model.load_state_dict(ck.state_dict)
    return model


def carry_over(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Load the tensors of ``state_dict`` that fit ``model`` by name and shape.

    Returns (loaded block prefixes, re-initialised block prefixes) at block granularity
    ("stages.<stage>.<block>"), so an edited spec keeps the weights of the blocks it did not touch.
    """
    own = model.state_dict()
    blocks: dict[str, bool] = {}
    take: dict[str, torch.Tensor] = {}
    for key, value in own.items():
        prefix = _block_prefix(key)
        src = state_dict.get(key)
        ok = src is not None and tuple(src.shape) == tuple(value.shape)
        blocks[prefix] = blocks.get(prefix, True) and ok
    for key in own:
        if blocks[_block_prefix(key)]:
            take[key] = state_dict[key]
    model.load_state_dict(take, strict=False)
    loaded = [b for b, ok in blocks.items() if ok]
    fresh = [b for b, ok in blocks.items() if not ok]
    return loaded, fresh


def _block_prefix(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "stages" and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


# ---- online loading (real code; needs network or a warm cache) ------------------------------------

def download_reference(source: str, progress: bool = True, local_file: str | os.PathLike | None = None) -> dict[str, torch.Tensor]:
    """Pretrained ImageNet weights through torchvision's weight enums or timm's pretrained loading.

    torchvision looks in its hub cache ($TORCH_HOME/hub/checkpoints) before downloading; timm is
    pointed at ``local_file`` when one is given (its ``pretrained_cfg_overlay``), else the HF hub.
    """
    kind, arch = source.split(":", 1)
    _source(source)
    try:
        if kind == "torchvision":
            import torchvision.models as tvm
            enum = {"googlenet": tvm.GoogLeNet_Weights, "inception_v3": tvm.Inception_V3_Weights}[arch].DEFAULT
            return enum.get_state_dict(progress=progress, check_hash=True)
        import timm
        overlay = {"file": str(local_file)} if local_file else None
        return timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=overlay).state_dict()
    except Exception as exc:  # noqa: BLE001 - offline, hub errors, ...
        raise WeightsError(f"{source}: could not get pretrained weights ({_short(exc)}); "
                           "download the file elsewhere and use import-weights") from None
