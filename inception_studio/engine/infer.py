"""Inference: classify images with one model and look inside it (feature maps, Grad-CAM).

Owns ``Predictor``, the one engine the GUI, the CLI and the Python API share: image -> preprocessing
as the variant expects -> forward -> top-k class names and probabilities, plus forward hooks for
feature maps and Grad-CAM. On the CPU the forward can run in onnxruntime instead of PyTorch
(``backend=``), which the benchmarks compare. Building a model on a device is engine.building's
(re-exported here, the public face of inference). No Qt.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..core.build import output_module
from ..core.names import first_line
from ..core.sources import get_source
from ..core.spec import ArchSpec
from ..core.weights import spec_for_source
from ..errors import ImageError, ResourceError, StudioError
from . import device as D
from .building import (
    BuildEvent,
    BuiltModel,
    build_on_device,
    copy_model,
    fold_batchnorm,
    inference_memory,
    run_build,
    to_device,
)
from .classes import class_names_for
from .data import Preprocess
from .data.images import expand_sources, source_name
from .export import cached_export, cached_ort_session, prune_onnx_cache
from .loading import WeightsChoice, network_of
from .prepare import CACHE_ITEMS, ImagePrep

TopK = list[tuple[str, float]]
BACKENDS = ("auto", "torch", "onnxruntime")
log = logging.getLogger(__name__)


def topk_of(probs: torch.Tensor, names: Sequence[str], k: int) -> TopK:
    """The ``k`` most probable (name, probability) pairs of one probability vector."""
    k = max(1, min(int(k), probs.numel()))
    values, indices = torch.topk(probs.float(), k)
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def inference_model(model: nn.Module, optimize: bool = True, *, copy: bool = True) -> nn.Module:
    """The network a Predictor runs: ``model`` (a copy unless ``copy`` is False) in eval mode, its batch norms
    folded into the convolutions when ``optimize``."""
    model = (copy_model(model) if copy else model).eval()
    return fold_batchnorm(model) if optimize else model


def export_ahead(model: nn.Module, spec: ArchSpec) -> None:
    """Put the ONNX export a CPU Predictor of ``model`` will look for into the cache (``model`` is unchanged).
    A training process does this before it hands its model over: the GUI's Predictor then finds the file by
    the weights' hash and only opens it, instead of tracing the network on a thread of the window's process."""
    cached_export(inference_model(model), spec)


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


# ------------------------------------------------------------------------------------ Predictor
class Predictor:
    """Classify images with one model: ``predict(image) -> [(class name, probability), ...]`` (top-k).

    ``source`` is either a model already built — a ``BuiltModel``, ``fit``'s result, or any module with a
    ``.spec`` — which runs as it is (a copy: the caller's module is never changed), or something that names
    a network — a variant name, an ArchSpec, a spec .json, a checkpoint file or a loaded Checkpoint —
    which is built on ``device`` with ``weights`` (a checkpoint brings its own).
    """

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
        self.model = inference_model(built.model, optimize, copy=not owned)
        self._channels_last = D.use_channels_last(self.device)
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
        model = source if isinstance(source, nn.Module) else getattr(source, "model", None)
        if not isinstance(model, nn.Module):
            spec, chosen = network_of(source, weights)
            return run_build(spec, device, chosen), True
        spec = getattr(source, "spec", None)
        if not isinstance(spec, ArchSpec):
            raise StudioError("model: not an Inception Studio model (it has no .spec)")
        built = source if isinstance(source, BuiltModel) else None
        if built is None:
            param = next(model.parameters(), None)
            names = list(class_names or []) or list(getattr(source, "class_names", []))
            built = BuiltModel(model, spec, names, str(param.device) if param is not None else "cpu",
                               getattr(source, "source", "") or "given model")
        if device is not None and D.resolve_device(device) != torch.device(built.device):
            dev = D.resolve_device(device)
            return replace(built, model=to_device(copy_model(model), dev, spec.name), device=str(dev)), True
        return built, False

    @classmethod
    def from_pretrained(cls, source: str, device: str | torch.device | None = None,
                        path: str | os.PathLike | None = None, **kw: Any) -> Predictor:
        """Pretrained ImageNet weights for ``source`` (e.g. "timm:inception_v4"): downloaded, or from ``path``."""
        get_source(source)  # an unknown source is refused before anything is built
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
                log.warning("onnxruntime unavailable for %s; using PyTorch", self.spec.name, exc_info=True)
                self.backend_note = f"onnxruntime unavailable ({first_line(exc, 120)}); using PyTorch"
        return "torch"

    def _ort_session(self):
        return cached_ort_session(self.model, self.spec, threads=torch.get_num_threads())

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
        mod = output_module(self.model, path)
        if mod is None:
            raise StudioError(f"module '{path}': not in this model (rebuild it after editing the spec)")
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


__all__ = ["Predictor", "ImageResult", "TopK", "BACKENDS", "topk_of", "source_name", "expand_sources", "class_names_for",
           "BuildEvent", "BuiltModel", "build_on_device", "run_build", "inference_memory", "fold_batchnorm",
           "prune_onnx_cache"]
