"""Inference: build a model on a device, classify images, look inside it (feature maps, Grad-CAM).

Owns ``build_on_device`` (a generator of progress events that checks memory first, loads or carries
over weights, moves the model to its device with channels-last / autocast policy, and turns an
out-of-memory failure into a ResourceError) and ``Predictor``, the one engine the GUI, the CLI and
the Python API share: image -> preprocessing as the variant expects -> forward -> top-k class names
and probabilities, plus forward hooks for feature maps and Grad-CAM. On the CPU the forward can run in
onnxruntime instead of PyTorch (``backend=``), which the benchmarks compare. No Qt.
"""
from __future__ import annotations

import copy
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..core import weights as W
from ..core.analysis import analyze
from ..core.build import build_model
from ..core.spec import ArchSpec
from ..errors import ImageError, ResourceError, StudioError, WeightsError
from . import device as D
from .data import Preprocess, is_image_path, user_cache_dir
from .loading import (
    Weights,
    WeightsChoice,
    apply_weights,
    resolve_weights,
    spec_for_weights,
)
from .prepare import CACHE_ITEMS, ImagePrep

TopK = list[tuple[str, float]]
BACKENDS = ("auto", "torch", "onnxruntime")


# ---------------------------------------------------------------------------------- class names
def class_names_for(num_classes: int, names: Sequence[str] | None = None) -> list[str]:
    """Names for each output: ``names`` when they fit, ImageNet's for 1000 classes, else "class i"."""
    if names and len(names) == num_classes:
        return list(names)
    if num_classes == 1000:
        from .classes import imagenet_classes
        return imagenet_classes()
    return [f"class {i}" for i in range(num_classes)]


def topk_of(probs: torch.Tensor, names: Sequence[str], k: int) -> TopK:
    """The ``k`` most probable (name, probability) pairs of one probability vector."""
    k = max(1, min(int(k), probs.numel()))
    values, indices = torch.topk(probs.float(), k)
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]


# ------------------------------------------------------------------------------ build on device
@dataclass(frozen=True)
class BuildEvent:
    """One step of building a model: what is happening, and how far along (None = unknown)."""

    stage: str  # "memory" | "weights" | "build" | "carry" | "device" | "done"
    message: str
    fraction: float | None = None


@dataclass
class BuiltModel:
    """A model ready to run on its device, with the weights' provenance."""

    model: nn.Module
    spec: ArchSpec
    class_names: list[str]
    device: str
    source: str = "random init"
    reinitialised: list[str] = field(default_factory=list)  # graph ids: "b:<block>", "head", "aux:<name>"
    loaded: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"BuiltModel({self.spec.name} on {self.device}, {self.source}, "
                f"{len(self.reinitialised)} re-initialised, {len(self.class_names)} classes)")


def inference_memory(spec: ArchSpec, batch_size: int = 1) -> int:
    """Bytes a forward pass of ``spec`` needs (weights + activations) at ``batch_size``."""
    return analyze(spec).memory_bytes(batch_size, training=False)


def _to_device(model: nn.Module, dev: torch.device, what: str) -> nn.Module:
    """Move ``model`` to ``dev`` (channels-last where it helps); OOM becomes a ResourceError."""
    try:
        model = model.to(dev)
        if D.use_channels_last(dev):
            model = model.to(memory_format=torch.channels_last)
    except Exception as exc:
        if not D.is_oom_error(exc):
            raise
        try:  # give the device its memory back; the app keeps running
            model.to("cpu")
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001, S110 - best effort after an OOM
            pass
        raise ResourceError(f"{what}: out of memory on {dev} while moving the model there; "
                            "pick another device or a smaller model") from None
    return model


def build_on_device(spec: ArchSpec, device: str | torch.device | None = None,
                    weights: WeightsChoice | Weights | None = None, class_names: Sequence[str] | None = None,
                    download=None) -> Iterator[BuildEvent | BuiltModel]:
    """Build ``spec`` on ``device`` with ``weights``: yields BuildEvents, then the BuiltModel (also returned)."""
    dev = D.resolve_device(device)
    yield BuildEvent("memory", f"checking memory on {dev}", 0.02)
    D.check_memory(inference_memory(spec), dev, f"{spec.name} (inference, batch 1)")
    if dev.type != "cpu":  # the model is built in RAM first, then moved
        D.check_memory(analyze(spec).params * 4, "cpu", f"{spec.name} (weights in RAM)")
    w = weights if isinstance(weights, Weights) else None
    if w is None:
        choice = weights or WeightsChoice.random()
        if choice.kind != "random":
            what = "downloading" if choice.kind == "pretrained" and not choice.path else "reading"
            yield BuildEvent("weights", f"{what} {choice.label}", None)
        w = resolve_weights(choice, spec, download)
    spec = spec_for_weights(spec, w)
    yield BuildEvent("build", f"building {spec.title or spec.name}", 0.35)
    model = build_model(spec, check_memory=False)
    loaded: list[str] = []
    fresh: list[str] = []
    if w.state_dict is not None:
        yield BuildEvent("carry", f"loading weights ({w.label})", 0.6)
        loaded, fresh = apply_weights(model, w)
    yield BuildEvent("device", f"moving to {dev}", 0.8)
    model = _to_device(model, dev, spec.name).eval()
    names = class_names_for(spec.num_classes, list(class_names or []) or w.class_names)
    built = BuiltModel(model, spec, names, str(dev), w.label, fresh, loaded)
    note = f", {len(fresh)} block(s) re-initialised" if fresh else ""
    yield BuildEvent("done", f"{spec.name} ready on {dev} ({w.label}{note})", 1.0)
    yield built
    return built


def run_build(spec: ArchSpec, device: str | torch.device | None = None,
              weights: WeightsChoice | Weights | None = None, **kw: Any) -> BuiltModel:
    """``build_on_device`` run to completion (for scripts and the CLI)."""
    out = None
    for event in build_on_device(spec, device, weights, **kw):
        out = event
    assert isinstance(out, BuiltModel)
    return out


# ------------------------------------------------------------------------------- optimisations
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that follows a conv into that conv's weights (in place).

    Module paths stay the same (the BN becomes an Identity), so forward hooks on graph nodes still work.
    """
    for mod in model.modules():
        conv, bn = getattr(mod, "conv", None), getattr(mod, "bn", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
            with torch.no_grad():
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                                  conv.padding, conv.dilation, conv.groups, bias=True,
                                  device=conv.weight.device, dtype=conv.weight.dtype)
                fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
            mod.conv = fused
            mod.bn = nn.Identity()
    return model


def _cpu_channels_last(dev: torch.device) -> bool:
    # oneDNN runs these convs markedly faster in NHWC on CPU (see benchmarks/bench_cpu_backends.py).
    return dev.type == "cpu"


def _onnx_cache_path(spec: ArchSpec, model: nn.Module) -> Path:
    h = hashlib.sha256(spec.to_json(indent=None).encode())
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().to("cpu").contiguous().numpy().tobytes())
    return user_cache_dir() / "onnx" / f"{spec.name}-{h.hexdigest()[:20]}.onnx"


ONNX_CACHE_FILES = 8


def prune_onnx_cache(folder: Path, limit: int = ONNX_CACHE_FILES, keep: Path | None = None) -> list[Path]:
    """Delete all but the ``limit`` newest exports in ``folder`` (every training run adds one; ~26 MB for GoogLeNet)."""
    files = sorted(folder.glob("*.onnx"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
    gone = [f for f in files[limit:] if f != keep]
    for f in gone:
        f.unlink(missing_ok=True)
    return gone


# ----------------------------------------------------------------------------------- results
@dataclass
class ImageResult:
    """One classified (or refused) image: its name, top-k or the error, a thumbnail and the model input."""

    name: str
    source: Any = None
    top: TopK = field(default_factory=list)
    error: str = ""
    thumbnail: np.ndarray | None = None  # HxWx3 uint8, longest side prepare.THUMB_SIZE
    preview: np.ndarray | None = None  # HxWx3 uint8: the input crop as pixels, for display
    input: torch.Tensor | None = None  # the preprocessed CxHxW tensor, for feature maps / Grad-CAM

    @property
    def ok(self) -> bool:
        """True when the image was classified."""
        return not self.error


def source_name(source: Any) -> str:
    """The display name of an image source: the file name, or "<image>" for in-memory images."""
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name or str(source)
    if isinstance(source, Image.Image):
        return str(source.info.get("name") or Path(getattr(source, "filename", "") or "").name or "<image>")
    return "<image>"


def expand_sources(items: Iterable[Any]) -> list[Any]:
    """Paths as dropped: folders become the image files inside them (sorted, recursive, hidden skipped).

    Files named explicitly are kept whatever their extension, so a bad one gets its own message.
    """
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and Path(item).is_dir():
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out += [os.path.join(root, f) for f in sorted(files) if is_image_path(f)]
        else:
            out.append(item)
    return out


# ------------------------------------------------------------------------------------ Predictor
class Predictor:
    """Classify images with one model: ``predict(image) -> [(class name, probability), ...]`` (top-k)."""

    def __init__(self, source: Any, device: str | torch.device | None = None, topk: int = 5,
                 backend: str = "auto", class_names: Sequence[str] | None = None,
                 weights: WeightsChoice | None = None, optimize: bool = True):
        if backend not in BACKENDS:
            raise StudioError(f"backend '{backend}': one of {', '.join(BACKENDS)}")
        self.topk = int(topk)
        self._lock = threading.RLock()
        self._ort = None
        self.backend = "torch"
        self.backend_note = ""
        built, owned = self._resolve(source, device, weights, class_names)
        self.spec: ArchSpec = built.spec
        self.device = torch.device(built.device)
        self.class_names: list[str] = class_names_for(self.spec.num_classes, list(class_names or []) or built.class_names)
        self.source_label = built.source
        self.reinitialised = list(built.reinitialised)
        if self.spec.in_channels not in (1, 3):
            raise StudioError(f"{self.spec.name}: in_channels={self.spec.in_channels}; images can only feed "
                              "1- or 3-channel models")
        self.preprocess = Preprocess(self.spec.input_size, self.spec.crop_pct, self.spec.mean, self.spec.std,
                                     self.spec.interpolation, self.spec.in_channels)
        # A caller's model (the GUI's, a trainer's) is never changed, not even its train/eval mode: use a copy.
        self.model = (built.model if owned else copy.deepcopy(built.model)).eval()
        if optimize:
            self.model = fold_batchnorm(self.model)
        self._channels_last = D.use_channels_last(self.device) or (optimize and _cpu_channels_last(self.device))
        if self._channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.backend = self._pick_backend(backend)
        # Inputs are made in the memory order the forward wants (onnxruntime takes NCHW).
        self.images = ImagePrep(self.preprocess, channels_last=self._channels_last and self.backend == "torch")

    # ---- construction ----------------------------------------------------------------------
    @staticmethod
    def _resolve(source: Any, device: Any, weights: WeightsChoice | None,
                 class_names: Sequence[str] | None) -> tuple[BuiltModel, bool]:
        """The model to run and whether this predictor owns it (may change it in place)."""
        if isinstance(source, (BuiltModel, nn.Module)):
            built = source if isinstance(source, BuiltModel) else None
            model = built.model if built else source
            spec = built.spec if built else getattr(source, "spec", None)
            if not isinstance(spec, ArchSpec):
                raise StudioError("model: not an Inception Studio model (it has no .spec)")
            if built is None:
                param = next(model.parameters(), None)
                built = BuiltModel(model, spec, list(class_names or []),
                                   str(param.device) if param is not None else "cpu", "given model")
            if device is not None and D.resolve_device(device) != torch.device(built.device):
                dev = D.resolve_device(device)
                moved = _to_device(copy.deepcopy(model), dev, spec.name)
                return replace(built, model=moved, device=str(dev)), True
            return built, False
        if isinstance(source, W.Checkpoint):
            w = Weights(source.state_dict, "checkpoint", source.spec, list(source.class_names))
            return run_build(source.spec, device, w), True
        if isinstance(source, ArchSpec):
            return run_build(source, device, weights), True
        if isinstance(source, (str, os.PathLike)):
            text = str(source)
            from ..core.presets import get_spec, list_variants
            if text in list_variants() and not Path(text).exists():
                return run_build(get_spec(text), device, weights), True
            p = Path(text)
            if not p.exists():
                raise StudioError(f"{text}: neither a variant ({', '.join(list_variants())}) nor an existing file")
            if p.suffix == ".json":
                return run_build(ArchSpec.from_json(p.read_text(encoding="utf-8")), device, weights), True
            ck = W.load_checkpoint(p)
            w = Weights(ck.state_dict, f"checkpoint: {p.name}", ck.spec, list(ck.class_names))
            return run_build(ck.spec, device, w), True
        raise StudioError(f"cannot make a predictor from {type(source).__name__}")

    @classmethod
    def from_pretrained(cls, source: str, device: str | torch.device | None = None,
                        path: str | os.PathLike | None = None, **kw: Any) -> Predictor:
        """Pretrained ImageNet weights for ``source`` (e.g. "timm:inception_v4"): downloaded, or from ``path``."""
        from ..core.weights import spec_for_source
        if source not in W.SOURCES:
            raise WeightsError(f"unknown weights source '{source}' (one of {', '.join(W.SOURCES)})")
        spec = replace(spec_for_source(source), aux_enabled=False)
        return cls(spec, device, weights=WeightsChoice.pretrained(source, path), **kw)

    def _pick_backend(self, backend: str) -> str:
        if self.device.type != "cpu":
            if backend == "onnxruntime":
                raise StudioError(f"backend 'onnxruntime' runs on the CPU only, not {self.device}")
            return "torch"
        if backend == "onnxruntime":
            self._ort = self._ort_session()
            return "onnxruntime"
        if backend == "auto" and self.source_label != "random init":
            # onnxruntime is faster on the CPU (benchmarks/bench_cpu_backends.py). Exports are cached by content
            # hash, so trained weights pay the export once; random weights change every run and stay in PyTorch.
            try:
                self._ort = self._ort_session()
                return "onnxruntime"
            except Exception as exc:  # noqa: BLE001 - any export failure just means "use PyTorch"
                self.backend_note = f"onnxruntime unavailable ({str(exc).splitlines()[0][:120]}); using PyTorch"
        return "torch"

    def _ort_session(self):
        from .export import export_onnx, ort_session
        path = _onnx_cache_path(self.spec, self.model)
        if not path.is_file():
            export_onnx(self.model, self.spec, path)
            prune_onnx_cache(path.parent, keep=path)
        return ort_session(path, threads=torch.get_num_threads())

    # ---- preprocessing ---------------------------------------------------------------------
    def load(self, image: Any, name: str | None = None) -> Image.Image:
        """Decode an image (path, bytes or PIL image) the way this model wants it; ImageError if bad."""
        return self.images.load(image, name)

    def prepare(self, image: Any) -> torch.Tensor:
        """The model input for one image: a CxHxW float tensor (a tensor passes through)."""
        if isinstance(image, torch.Tensor):
            return image[0] if image.dim() == 4 else image
        return self.images.prepare(image).input

    def prefetch(self, sources: Iterable[Any], cancel=None, limit: int = CACHE_ITEMS // 2,
                 classify: bool = False) -> int:
        """Decode and prepare image files (folders expanded) ahead of ``classify``; returns how many are ready.

        With ``classify`` each file is also run through the model, one at a time and in order: a later
        ``classify`` of an unchanged file then answers from memory, without a forward pass (the GUI does
        this while a drag hovers, so that a drop is answered at once). ``cancel`` is checked between files.
        """
        return self.images.prefetch(expand_sources(sources), cancel, limit, self._classify_ahead if classify else None)

    def _classify_ahead(self, prepared) -> None:
        if self.images.attached(prepared) is None:  # kept with the prepared file, and forgotten with it
            self.images.attach(prepared, self.probabilities([prepared.input])[0])

    def answered(self, source: Any) -> bool:
        """Whether ``classify`` would answer the file ``source`` from memory (it was classified ahead, unchanged)."""
        return self.images.cached(source) and self.images.attached(self.images.prepare(source)) is not None

    def _batch(self, images: Sequence[Any]) -> torch.Tensor:
        xs = [self.prepare(i) for i in images]
        x = xs[0][None] if len(xs) == 1 else torch.stack(xs)
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self._channels_last and self.backend == "torch" else x

    def _hooked_batch(self, image: Any) -> torch.Tensor:
        """A batch of one for the PyTorch module (hooks need it even when classification runs in onnxruntime)."""
        x = self.prepare(image)[None].to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self._channels_last else x

    # ---- classification --------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (float32) of a prepared NxCxHxW batch on this predictor's backend."""
        if self.backend == "onnxruntime":
            out = self._ort.run(None, {"image": x.detach().cpu().float().contiguous().numpy()})[0]
            return torch.from_numpy(out)
        try:
            with self._lock, torch.inference_mode(), D.autocast_context(self.device):
                out = self.model(x)
        except Exception as exc:
            if D.is_oom_error(exc):
                raise self._oom(len(x)) from None
            raise
        if isinstance(out, tuple):
            out = out[0]
        return out.float()

    def _oom(self, batch: int) -> ResourceError:
        """An out-of-memory failure as a one-line ResourceError (the device's cache is released first)."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return ResourceError(f"{self.spec.name}: out of memory on {self.device} at batch {batch}; "
                             "use fewer images at once, a smaller input size or another device")

    def probabilities(self, images: Sequence[Any]) -> torch.Tensor:
        """Softmax probabilities (N x classes, on the CPU) for a list of images."""
        return torch.softmax(self.forward(self._batch(images)), dim=1).cpu()

    def predict(self, image: Any, topk: int | None = None) -> TopK:
        """Top-k (class name, probability) for one image (a path, bytes, PIL image or prepared tensor)."""
        return topk_of(self.probabilities([image])[0], self.class_names, topk or self.topk)

    def predict_batch(self, images: Sequence[Any], topk: int | None = None) -> list[TopK]:
        """Top-k for each image, in one forward pass; ImageError names the first bad image."""
        if not images:
            return []
        probs = self.probabilities(list(images))
        return [topk_of(p, self.class_names, topk or self.topk) for p in probs]

    def classify(self, sources: Iterable[Any], topk: int | None = None, batch_size: int = 8,
                 keep_inputs: bool = False, cancel=None, use_cache: bool = True) -> Iterator[ImageResult]:
        """Classify many images, yielding one ImageResult per source; a bad file yields its error, not a raise.

        A source is a path, bytes, PIL image or tensor, or a (display name, source) pair. Files prepared
        before (``prefetch``, an earlier call) and unchanged since are not decoded again, and files that
        ``prefetch(classify=True)`` classified are not run again, unless ``use_cache`` is False.
        """
        pending: list[ImageResult] = []

        def flush() -> Iterator[ImageResult]:
            if pending:
                probs = self.probabilities([r.input for r in pending])
                for r, p in zip(pending, probs):
                    r.top = topk_of(p, self.class_names, topk or self.topk)
                    if not keep_inputs:
                        r.input = None
                    yield r
                pending.clear()

        for src in sources:
            if cancel is not None and cancel():
                return
            name, src = src if isinstance(src, tuple) else (source_name(src), src)
            try:
                ready = self.images.prepare(src, name, use_cache)
            except ImageError as exc:
                yield ImageResult(name, src, error=str(exc))
                continue
            result = ImageResult(name, src, thumbnail=ready.thumbnail, preview=ready.preview, input=ready.input)
            probs = self.images.attached(ready) if use_cache else None
            if probs is not None:  # classified ahead: answer now, after the images before it
                yield from flush()
                result.top = topk_of(probs, self.class_names, topk or self.topk)
                if not keep_inputs:
                    result.input = None
                yield result
                continue
            pending.append(result)
            if len(pending) >= batch_size:
                yield from flush()
        yield from flush()

    # ---- looking inside --------------------------------------------------------------------
    def _module(self, path: str) -> nn.Module:
        try:
            mod = self.model.get_submodule(path)
        except AttributeError:
            raise StudioError(f"module '{path}': not in this model (rebuild it after editing the spec)") from None
        parts = path.split(".")
        if len(parts) == 2 and parts[0] == "stages" and len(mod):
            # The model runs a stage block by block (for aux heads), never as a whole: a stage's output is its last block's.
            mod = mod[-1]
        return mod

    def feature_maps(self, image: Any, module_paths: Sequence[str]) -> dict[str, torch.Tensor]:
        """Each module's output for one image (CxHxW or a vector, float32 on the CPU), via forward hooks."""
        mods = {p: self._module(p) for p in module_paths}
        out: dict[str, torch.Tensor] = {}
        handles = []
        for p, m in mods.items():
            def hook(_m, _i, o, p=p):
                t = o[0] if isinstance(o, tuple) else o
                out[p] = t[0].detach().float().to("cpu", copy=True)  # copy: a later in-place ReLU must not change it
            handles.append(m.register_forward_hook(hook))
        try:
            x = self._hooked_batch(image)
            with self._lock, torch.inference_mode(), D.autocast_context(self.device):
                self.model(x)
        finally:
            for h in handles:
                h.remove()
        return {p: out[p] for p in module_paths if p in out}

    def branch_maps(self, image: Any, block_path: str) -> list[tuple[str, np.ndarray]]:
        """For an Inception block, each branch's mean activation map (label, HxW array), side by side."""
        block = self._module(block_path)
        names = [n for n, _ in block.named_children() if n.startswith("branch")]
        if not names:
            raise StudioError(f"module '{block_path}': not an Inception block (it has no branches)")
        spec_block = self._spec_block(block_path)
        paths = [f"{block_path}.{n}" for n in names]
        maps = self.feature_maps(image, paths)
        out = []
        for j, p in enumerate(paths):
            role = spec_block.branches[j].role if spec_block is not None and j < len(spec_block.branches) else ""
            t = maps[p]
            label = f"branch {j}" + (f" ({role})" if role else "") + f" · {t.shape[0]} ch"
            out.append((label, t.mean(0).numpy() if t.dim() == 3 else t.numpy()))
        return out

    def _spec_block(self, module_path: str):
        parts = module_path.split(".")
        if len(parts) >= 3 and parts[0] == "stages":
            for b in self.spec.stage(parts[1]).blocks:
                if b.name == parts[2]:
                    return b
        return None

    def last_block_path(self) -> str:
        """Module path of the last block before the head (Grad-CAM's default target)."""
        stage = self.spec.stages[-1]
        return f"stages.{stage.name}.{stage.blocks[-1].name}"

    def gradcam(self, image: Any, module_path: str | None = None, class_index: int | None = None) -> np.ndarray:
        """Grad-CAM of ``class_index`` (default: the top class) at ``module_path``: HxW in [0, 1] at input size."""
        mod = self._module(module_path or self.last_block_path())
        store: dict[str, torch.Tensor] = {}

        def hook(_m, _i, o):
            store["a"] = o[0] if isinstance(o, tuple) else o
        handle = mod.register_forward_hook(hook)
        try:
            x = self._hooked_batch(image).requires_grad_(True)
            with self._lock, torch.enable_grad():
                logits = self.model(x)
                logits = logits[0] if isinstance(logits, tuple) else logits
                cls = int(logits[0].argmax()) if class_index is None else int(class_index)
                if not 0 <= cls < logits.shape[1]:
                    raise StudioError(f"class index {cls}: the model has {logits.shape[1]} classes")
                act = store.get("a")
                if act is None or act.dim() != 4:
                    raise StudioError(f"module '{module_path}': its output is not a feature map")
                grad, = torch.autograd.grad(logits[0, cls], act)
        finally:
            handle.remove()
        weights = grad.float().mean((2, 3), keepdim=True)
        cam = torch.relu((weights * act.detach().float()).sum(1, keepdim=True))
        cam = torch.nn.functional.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
        top = float(cam.max())
        cam = cam / top if top > 0 else torch.zeros_like(cam)
        return cam.clamp_(0, 1).cpu().numpy()
