"""Weights: import torchvision/timm state dicts into our presets; our checkpoints, saved and loaded safely.

What each reference source is (its preset, keys, normalisation, loader) is its record in core.sources.
Reference state dicts map onto our modules by *position*: the weight-compatible presets register
their tensors in the same order as the reference, so the n-th tensor of one is the n-th of the other,
with every shape checked. Aux-head tensors are matched as a group of their own because torchvision's
Inception-v3 registers its AuxLogits between Mixed_6e and Mixed_7a.

Checkpoints are safetensors files: the weights as tensors and, in the header metadata, the spec JSON,
class names and free-form metadata. Nothing is ever unpickled.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SpecError, WeightsError
from .files import NotReadable, SaveError, atomic_write, check_regular, open_regular  # noqa: F401 - re-exported
from .names import first_line, printable
from .presets import get_spec
from .sources import get_source
from .spec import ArchSpec

CHECKPOINT_FORMAT = "inception-studio-checkpoint"
CHECKPOINT_VERSION = 1
log = logging.getLogger(__name__)


def _split(sd: dict[str, torch.Tensor], aux_prefixes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    aux = [k for k in sd if k.startswith(aux_prefixes)] if aux_prefixes else []
    main = [k for k in sd if k not in set(aux)]
    return main, aux


def map_state_dict(model: nn.Module, ref: dict[str, torch.Tensor], source: str, name: str = "weights") -> dict[str, torch.Tensor]:
    """Rename a reference state dict's keys to ``model``'s, by position with shapes checked."""
    aux_prefixes = get_source(source).aux_prefixes
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
    """The preset matching ``source``, with the class count and aux heads of the weights file.

    ``pretrained_transform``: with the input normalisation the released weights expect (the source's record).
    """
    src = get_source(source)
    spec = get_spec(src.preset)
    if num_classes is not None:
        spec = replace(spec, num_classes=num_classes)
    if aux is not None:
        spec = replace(spec, aux_enabled=aux and bool(spec.aux))
    if pretrained_transform:
        spec = replace(spec, mean=src.mean, std=src.std)
    return spec


@functools.lru_cache(maxsize=8)
def reference_key_order(source: str, aux: bool = True) -> tuple[str, ...]:
    """The state-dict keys of the reference architecture for ``source``, in its own registration order.

    The reference is rebuilt (randomly initialised, on the meta device: no memory, no download) from
    torchvision or timm, so a file whose keys were re-sorted (safetensors sorts them) maps correctly.
    """
    return get_source(source).reference_keys(aux)


def in_reference_order(source: str, state_dict: dict[str, torch.Tensor], name: str = "weights") -> dict[str, torch.Tensor]:
    """``state_dict`` with its keys in the reference's order; WeightsError naming a key it lacks or should not have."""
    aux_prefixes = get_source(source).aux_prefixes
    has_aux = any(k.startswith(aux_prefixes) for k in state_dict) if aux_prefixes else True
    try:
        order = reference_key_order(source, has_aux)
    except ImportError:  # timm is optional: without it, trust the file's own order unless it was re-sorted
        if list(state_dict) == sorted(state_dict):
            raise WeightsError(f"{name}: its keys are sorted (as in .safetensors files); mapping them onto "
                               f"{source} needs the package 'timm' (pip install timm)") from None
        return state_dict
    known = set(order)
    extra = [k for k in state_dict if k not in known]
    missing = [k for k in order if k not in state_dict]
    if not extra and all(k.endswith(".num_batches_tracked") for k in missing):
        # files saved before PyTorch 0.4.1 have no BN step counters; they only matter for momentum=None
        state_dict = {**state_dict, **{k: torch.tensor(0, dtype=torch.long) for k in missing}}
        missing = []
    if extra or missing:
        what = f"unexpected key '{printable(extra[0], 80)}'" if extra else f"missing key '{missing[0]}'"
        raise WeightsError(f"{name}: not a {source} state dict ({what}; {len(missing)} missing, {len(extra)} unexpected)")
    return {k: state_dict[k] for k in order}


def import_reference(source: str, state_dict: dict[str, torch.Tensor], name: str = "weights",
                     pretrained_transform: bool = False):
    """Build our preset for ``source`` and load a reference state dict into it; returns the model.

    The tensors are matched in the reference architecture's key order, whatever order the file has.
    """
    from .build import build_model

    src = get_source(source)
    state_dict = in_reference_order(source, state_dict, name)
    has_aux = any(k.startswith(src.aux_prefixes) for k in state_dict) if src.aux_prefixes else None
    classes = int(state_dict[src.classifier].shape[0]) if src.classifier in state_dict else None
    spec = spec_for_source(source, classes, has_aux, pretrained_transform)
    log.info("importing %s weights (%s) into %s", source, printable(name, 80), spec.name)
    model = build_model(spec)
    model.load_state_dict(map_state_dict(model, state_dict, source, name))
    return model


def _existing(path: str | os.PathLike) -> Path:
    """The path, if it names a non-empty regular file (else a one-line WeightsError; a FIFO is never opened)."""
    p = Path(path)
    try:
        st = check_regular(p)
    except NotReadable as exc:
        raise WeightsError(f"{_label(p)}: {'no such file' if exc.reason == 'file not found' else exc.reason}") from None
    if st.st_size == 0:
        raise WeightsError(f"{_label(p)}: empty file")
    return p


def _label(p: Path) -> str:
    """A file's name as messages show it (one line, whatever characters it holds)."""
    return printable(p.name or str(p), 80)


def _file_kind(p: Path) -> str:
    """What a weights file is by its first bytes: "torch" (zip or pickle), "safetensors" or "unknown"."""
    try:
        with open_regular(p) as fh:
            head = fh.read(9)
    except NotReadable:
        return "unknown"
    if len(head) == 9 and head[8:9] == b"{":  # 8-byte header length (any bytes), then the JSON header
        return "safetensors"
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":  # torch.save's zip archive, or a bare pickle
        return "torch"
    return "unknown"


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a plain state dict from .safetensors or a torch file (by its content), safely (weights_only=True)."""
    p = _existing(path)
    kind = _file_kind(p)
    try:
        if kind == "safetensors" or (kind == "unknown" and p.suffix == ".safetensors"):
            from safetensors.torch import load_file
            sd = load_file(str(p))
        else:
            sd = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is "not a weights file"
        raise WeightsError(f"{_label(p)}: not a readable weights file ({first_line(exc)})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in sd.items()):
        raise WeightsError(f"{_label(p)}: does not hold a state dict of tensors")
    return sd


# ---- our checkpoints --------------------------------------------------------------------------

@dataclass
class Checkpoint:
    """A spec, its weights, class names and metadata."""

    spec: ArchSpec
    state_dict: dict[str, torch.Tensor]
    class_names: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def write_tensors(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor],
                  metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (on any device) to the safetensors file ``path``, in place (``atomic_write`` wraps it).

    The bytes are the same as ``safetensors.torch.save_file``'s, written through its NumPy writer, which has no
    per-tensor checks for shared storage: a state dict of a few hundred small tensors (a model and its
    optimizer, as Stop writes them) took 25-40 ms there and 9-13 ms here. A dtype NumPy lacks (bfloat16) goes
    the torch way."""
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    try:
        arrays = {k: v.numpy() for k, v in cpu.items()}
    except TypeError:  # bfloat16 and the like
        from safetensors.torch import save_file

        save_file(cpu, str(path), metadata=metadata)
        return
    from safetensors.numpy import save_file as save_arrays

    save_arrays(arrays, str(path), metadata=metadata)


def save_checkpoint(path: str | os.PathLike, spec: ArchSpec, model_or_state: nn.Module | dict[str, torch.Tensor],
                    class_names: list[str] | None = None, metadata: dict[str, Any] | None = None) -> None:
    """Write a checkpoint (safetensors) atomically; SaveError (one line) if it cannot be written."""
    sd = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    header = {
        "format": CHECKPOINT_FORMAT, "version": str(CHECKPOINT_VERSION), "spec": spec.to_json(indent=None),
        "class_names": json.dumps(list(class_names or [])), "metadata": json.dumps(metadata or {}, default=str),
    }
    atomic_write(path, lambda tmp: write_tensors(tmp, sd, header))


MAX_CLASS_NAME = 1000


def _header_json(header: dict[str, str], key: str, default: str, label: str) -> Any:
    from .spec_json import parse_json

    try:
        return parse_json(header.get(key, default), what=key)
    except SpecError as exc:
        raise WeightsError(f"{label}: {exc}") from None


def _read_header(header: dict[str, str], label: str) -> tuple[ArchSpec, list[str], dict[str, Any]]:
    """The spec, class names and metadata in a checkpoint's header, each checked for its type."""
    version = header.get("version")
    if version != str(CHECKPOINT_VERSION):
        raise WeightsError(f"{label}: checkpoint version '{printable(version, 20)}' is not supported "
                           f"(this version reads {CHECKPOINT_VERSION})")
    if "spec" not in header:
        raise WeightsError(f"{label}: its header has no spec")
    try:
        spec = ArchSpec.from_json(header["spec"])
    except SpecError as exc:
        raise WeightsError(f"{label}: its spec is unusable ({exc})") from None
    names = _header_json(header, "class_names", "[]", label)
    if not isinstance(names, list) or not all(isinstance(n, str) and len(n) <= MAX_CLASS_NAME for n in names):
        raise WeightsError(f"{label}: class_names must be a list of names (text of at most {MAX_CLASS_NAME} "
                           "characters each)")
    meta = _header_json(header, "metadata", "{}", label)
    if not isinstance(meta, dict):
        raise WeightsError(f"{label}: metadata must be a JSON object")
    if not isinstance(meta.get("config", {}), dict):
        raise WeightsError(f"{label}: metadata.config must be a JSON object (the training options)")
    return spec, names, meta


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read one of our checkpoints; one-line WeightsError for a foreign, corrupt or mismatched file."""
    from safetensors import safe_open

    p = _existing(path)
    label = _label(p)
    if _file_kind(p) == "torch":
        raise WeightsError(f"{label}: a PyTorch pickle (a .pth/.pt state dict), not an Inception Studio checkpoint; "
                           f"convert it with 'inception-studio import-weights SOURCE {label} -o model.safetensors'")
    try:
        with safe_open(str(p), framework="pt") as fh:
            header = fh.metadata() or {}
            if header.get("format") != CHECKPOINT_FORMAT:
                raise WeightsError(f"{label}: not an Inception Studio checkpoint (no spec inside); "
                                   "use import-weights for torchvision/timm files")
            spec, names, meta = _read_header(header, label)
            sd = {k: fh.get_tensor(k) for k in fh.keys()}
    except WeightsError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise WeightsError(f"{label}: not a readable checkpoint ({first_line(exc)})") from None
    ck = Checkpoint(spec, sd, names, meta)
    check_fits(ck, label)
    return ck


def check_fits(ck: Checkpoint, name: str) -> None:
    """Raise WeightsError unless the weights have exactly the tensors the spec builds."""
    from .build import build_model

    try:
        with torch.device("meta"):  # shapes only: no memory, no initialisation
            want = build_model(ck.spec, check_memory=False).state_dict()
    except SpecError as exc:
        raise WeightsError(f"{name}: its spec is unusable ({exc})") from None
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
    src = get_source(source)
    try:
        log.info("getting pretrained weights %s (%s)", source, local_file or src.url)
        return src.download(progress, str(local_file) if local_file else None)
    except Exception as exc:  # noqa: BLE001 - offline, hub errors, ...
        log.warning("could not get %s", source, exc_info=True)
        raise WeightsError(f"{source}: could not get pretrained weights ({first_line(exc)}); "
                           "download the file elsewhere and use import-weights") from None
