"""ONNX export: write the model with block-scoped node names, check it, and compare with onnxruntime;
and the cache of exports that lets trained weights classify in onnxruntime on the CPU.

The TorchScript-based exporter is used because it names every node after the module scope it came
from (``/inception3a/branch1/branch1.0/conv/Conv``), so Netron shows which block a node belongs to,
and because it needs no extra packages. BatchNorm is folded into the convs (eval mode).
"""
from __future__ import annotations

import hashlib
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..core.spec import ArchSpec
from ..core.files import SaveError, atomic_write
from ..core.names import first_line, safe_filename
from ..errors import StudioError
from ..paths import cache_dir

OPSET = 17


class ExportError(StudioError):
    """The model could not be exported or the exported file failed its checks."""


@dataclass(frozen=True)
class ExportReport:
    """What an export produced and how well onnxruntime agrees with PyTorch."""

    path: str
    input_size: int
    checker_ok: bool
    max_abs_diff: float
    nodes: int
    seconds: float
    size_bytes: int

    def summary(self) -> str:
        """One line for a status bar or the CLI."""
        return (f"{Path(self.path).name}: {self.nodes} nodes, {self.size_bytes / 2**20:.1f} MiB, onnx.checker ok, "
                f"onnxruntime max |diff| = {self.max_abs_diff:.2e} vs PyTorch ({self.seconds:.1f} s)")


def export_onnx(model: nn.Module, spec: ArchSpec, path: str | Path, input_size: int | None = None,
                check: bool = True, tolerance: float = 1e-3) -> ExportReport:
    """Export ``model`` (eval, batch axis dynamic) to ``path``; check it and compare with onnxruntime.

    ``tolerance`` is relative to the largest logit (at least 1).
    """
    import onnx

    size = int(input_size or spec.input_size)
    start = time.perf_counter()
    was_training = model.training
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    x = torch.randn(2, spec.in_channels, size, size, generator=torch.Generator().manual_seed(0))

    def write(tmp: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), tmp, dynamo=False, opset_version=OPSET, input_names=["image"],
                              output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                              do_constant_folding=True)

    model.eval().to("cpu")  # the exporter traces on the CPU; the model goes back where it was below
    try:
        with torch.no_grad():
            ref = model(x).numpy() if check else None
        atomic_write(path, write)
    except SaveError:
        raise  # a full disk or a read-only folder: already one line naming the file
    except Exception as exc:  # noqa: BLE001 - exporter failures come in many types
        raise ExportError(f"{Path(path).name}: ONNX export failed ({first_line(exc)})") from None
    finally:
        model.to(device).train(was_training)
    proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"{Path(path).name}: onnx.checker rejected the export ({first_line(exc)})") from None
    diff = float("nan")
    if ref is not None:
        out = ort_session(path).run(None, {"image": x.numpy()})[0]
        diff = float(abs(out - ref).max())
        # float32 reordering (folded BN, fused kernels) errs relative to the logits' scale, which
        # for random-init deep nets can be in the hundreds, so the bound scales with it.
        bound = tolerance * max(1.0, float(abs(ref).max()))
        if not diff <= bound:
            raise ExportError(f"{Path(path).name}: onnxruntime differs from PyTorch by {diff:.3g} (> {bound:.3g})")
    return ExportReport(str(path), size, True, diff, len(proto.graph.node), time.perf_counter() - start,
                        Path(path).stat().st_size)


def ort_session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session for an exported model."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


# ------------------------------------------------------------------------------------ the cache
def onnx_cache_dir() -> Path:
    """Where exports of trained weights are cached for onnxruntime."""
    return cache_dir() / "onnx"


# What the cache writes: "<safe name>-<20 hex digits>.onnx". Pruning touches nothing else.
_CACHE_FILE = re.compile(r"[A-Za-z0-9._-]{1,64}-[0-9a-f]{20}\.onnx")


def onnx_cache_path(spec: ArchSpec, model: nn.Module) -> Path:
    """Where the export of these weights of ``spec`` is cached (named by a hash of the spec and the weights)."""
    h = hashlib.sha256(spec.to_json(indent=None).encode())
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().to("cpu").contiguous().numpy().tobytes())
    # The spec's name comes from a file: it is made a plain file name, never a path.
    return onnx_cache_dir() / f"{safe_filename(spec.name)}-{h.hexdigest()[:20]}.onnx"


ONNX_CACHE_FILES = 8


def prune_onnx_cache(folder: Path, limit: int = ONNX_CACHE_FILES, keep: Path | None = None) -> list[Path]:
    """Delete all but the ``limit`` newest exports the cache wrote in ``folder`` (~26 MB each for GoogLeNet).

    Only regular files named as the cache names them are candidates; anything else there is left alone.
    """
    files = []
    for f in folder.glob("*.onnx"):
        try:
            if _CACHE_FILE.fullmatch(f.name) and f.is_file() and not f.is_symlink():
                files.append((f.stat().st_mtime_ns, f))
        except OSError:
            continue
    files.sort(key=lambda t: t[0], reverse=True)
    gone = [f for _, f in files[limit:] if f != keep]
    for f in gone:
        f.unlink(missing_ok=True)
    return gone


def cached_export(model: nn.Module, spec: ArchSpec) -> Path:
    """The cached ONNX export of these weights of ``spec``: made now if missing (the cache is then pruned)."""
    path = onnx_cache_path(spec, model)
    if not path.is_file():
        export_onnx(model, spec, path)
        prune_onnx_cache(path.parent, keep=path)
    return path


def cached_ort_session(model: nn.Module, spec: ArchSpec, threads: int | None = None):
    """An onnxruntime session for ``model``: exported on first use (then kept; the cache is pruned), else reused."""
    return ort_session(cached_export(model, spec), threads=threads)

