"""Training as a plain generator of progress events: data, model sizing, the papers' recipes, the loop.

Owns ``TrainConfig`` (every recipe field, with ``recipe_defaults`` for GoogLeNet's SGD, Inception-v3's
RMSProp and AdamW), ``prepare_data`` (ImageFolder scan + stratified split), ``prepare_spec`` (class
count, width multiplier, input size, aux heads off when the input is too small), and ``train(...)``,
which yields ``StartEvent``, ``StepEvent``, ``EpochEvent``, ``FeatureMapEvent``, ``CheckpointEvent``,
``NoteEvent``, ``PausedEvent``, ``StoppedEvent`` and finally ``DoneEvent``. Pausing and stopping are
callables the loop polls; a non-finite loss stops the run and restores the last good weights.
Checkpoints are core.weights safetensors files; the optimizer state and counters for resuming go in a
second safetensors file beside them (``*.state.safetensors``), never in a pickle. Runs unchanged
under torchrun (DistributedDataParallel, see engine.distributed). No Qt.
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler

from inception_studio.core import edits
from inception_studio.core.analysis import analyze, min_input_size
from inception_studio.core.blocks import ModelOutput
from inception_studio.core.build import build_model
from inception_studio.core.spec import ArchSpec
from inception_studio.core.weights import (
    atomic_write,
    carry_over,
    save_checkpoint,
)
from inception_studio.engine import data as D
from inception_studio.engine.device import (
    autocast_dtype,
    check_memory,
    is_oom_error,
    resolve_device,
    use_channels_last,
)
from inception_studio.engine.distributed import DistContext
from inception_studio.engine.metrics import (
    RateMeter,
    accuracy_from_confusion,
    confusion_update,
    per_class_accuracy,
)
from inception_studio.engine.train_config import (  # noqa: F401 - re-exported: engine.train is the public API
    RECIPES,
    OPTIMIZERS,
    SCHEDULES,
    SMALL_WIDTH,
    SMALL_SIZE,
    MAX_FEATURE_MAPS,
    TrainConfig,
    recipe_defaults,
    demo_recipe,
    lr_at,
)
from inception_studio.engine.train_events import (  # noqa: F401 - re-exported
    StartEvent,
    StepEvent,
    EpochEvent,
    FeatureMapEvent,
    CheckpointEvent,
    NoteEvent,
    PausedEvent,
    StoppedEvent,
    DoneEvent,
    TrainEvent,
)
from inception_studio.engine.train_state import (
    ResumeState,
    best_path,
    load_resume,
    save_train_state,
    state_path,
)
from inception_studio.errors import (
    DataError,
    ImageError,
    ResourceError,
    StudioError,
)

def is_demo_source(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names the built-in demo dataset ("demo" or its cache folder)."""
    text = str(source).strip()
    if text.lower() == "demo":
        return True
    try:  # compare with where demo_data_dir() keeps it, without creating it
        return Path(text).expanduser().resolve() == (D.user_cache_dir() / D.DEMO_VERSION).resolve()
    except OSError:
        return False




# ------------------------------------------------------------------------------------------- data
@dataclass
class TrainData:
    """A scanned ImageFolder tree split into train and validation samples."""

    root: str
    classes: list[str]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    empty_classes: list[str] = field(default_factory=list)


def resolve_data_root(source: str | os.PathLike[str]) -> Path:
    """"demo" -> the built-in demo dataset folder (created on first use); anything else as a path."""
    if str(source).strip().lower() == "demo":
        return D.demo_data_dir()
    return Path(source).expanduser()


def prepare_data(source: str | os.PathLike[str], val_fraction: float = 0.2, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> TrainData:
    """Scan ``source`` (a class-per-subfolder tree or "demo") and split it; DataError if unusable."""
    scan = D.scan_image_folder(resolve_data_root(source), progress=progress)
    if scan.num_classes < 2:
        raise DataError(f"{scan.root}: training needs at least 2 classes with images, found {scan.num_classes}")
    train_s, val_s = D.stratified_split(scan.samples, val_fraction, seed)
    if not train_s:
        raise DataError(f"{scan.root}: no images left for training after the validation split")
    return TrainData(scan.root, list(scan.classes), train_s, val_s, list(scan.skipped), dict(scan.counts),
                     list(scan.empty_classes))


class _SafeDataset(D.ImageDataset):
    """ImageDataset that replaces an image failing to decode by the next one and records the file."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.failed: dict[str, str] = {}

    def __getitem__(self, index: int) -> tuple[Any, int]:
        n = len(self.samples)
        for k in range(min(n, 16)):
            try:
                return super().__getitem__((index + k) % n)
            except ImageError as exc:
                path = self.samples[(index + k) % n][0]
                self.failed[path] = str(exc)
        raise DataError(f"{Path(self.samples[index][0]).parent}: 16 images in a row failed to decode")


# ------------------------------------------------------------------------------------------- spec
def small_image_size(spec: ArchSpec, preferred: int = SMALL_SIZE) -> int:
    """The "small" input size for CPU: ``preferred`` or the spec's minimum, rounded up to a multiple of 8."""
    need = min_input_size(spec) or preferred
    size = max(preferred, need)
    return int(math.ceil(size / 8) * 8)


def prepare_spec(spec: ArchSpec, num_classes: int, width_mult: float | None = None,
                 image_size: int | None = None) -> tuple[ArchSpec, list[str]]:
    """The spec to train: classes from the data, optional width/size; aux off when the input is too small."""
    notes: list[str] = []
    if width_mult is not None and not math.isclose(width_mult, spec.width_mult):
        spec = edits.apply_edit(spec, "width_mult", float(width_mult))
    if image_size is not None and image_size != spec.input_size:
        if spec.aux_enabled and spec.aux:
            need = min_input_size(spec, with_aux=True)
            if need is None or image_size < need:
                spec = edits.set_aux(spec, False)
                notes.append(f"aux heads off: they need at least {need} px, the input is {image_size} px")
        spec = edits.set_field(spec, "input_size", int(image_size))
    if spec.num_classes != num_classes:
        spec = edits.set_field(spec, "num_classes", int(num_classes))
    return spec, notes


def graph_block_id(prefix: str) -> str:
    """core.weights.carry_over prefix -> graph node id: "stages.s.b" -> "b:b", "aux.x" -> "aux:x", "head"."""
    parts = prefix.split(".")
    if parts[0] == "stages" and len(parts) >= 3:
        return f"b:{parts[2]}"
    if parts[0] == "aux" and len(parts) >= 2:
        return f"aux:{parts[1]}"
    return parts[0]




# ------------------------------------------------------------------------------------- optimizer
def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The recipe's optimizer; no weight decay on BN parameters and biases (as timm and TF-slim)."""
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
    if config.optimizer == "rmsprop":
        # TF's RMSProp adds eps inside the square root; torch's outside. With eps=1.0 both damp early steps.
        return torch.optim.RMSprop(groups, lr=config.lr, alpha=config.rmsprop_decay, eps=config.rmsprop_eps,
                                   momentum=config.momentum)
    return torch.optim.AdamW(groups, lr=config.lr)


# --------------------------------------------------------------------------------- feature maps
class _Captured(Exception):
    """Raised by the probe hook to end the forward pass once the wanted activation is in hand."""


@torch.no_grad()
def probe_feature_maps(model: nn.Module, module_path: str, image: torch.Tensor,
                       max_maps: int = MAX_FEATURE_MAPS) -> tuple[np.ndarray, int] | None:
    """The first ``max_maps`` channels of ``module_path``'s output for ``image`` (1xCxHxW); None if none."""
    try:
        target = model.get_submodule(module_path)
    except AttributeError:
        return None
    parts = module_path.split(".")
    if len(parts) == 2 and parts[0] == "stages" and len(target):
        # The model runs a stage block by block (for the aux heads), never as a whole Sequential,
        # so a stage's output is its last block's.
        target = target[-1]
    got: list[torch.Tensor] = []

    def hook(_m: nn.Module, _i: Any, out: Any) -> None:
        got.append(out[0] if isinstance(out, (tuple, list)) else out)
        raise _Captured

    was_training = model.training
    handle = target.register_forward_hook(hook)
    model.eval()
    try:
        model(image)
    except _Captured:
        pass
    finally:
        handle.remove()
        model.train(was_training)
    if not got or got[0].dim() != 4:
        return None
    act = got[0][0].detach().float()
    return act[:max_maps].to("cpu").contiguous().numpy(), int(act.shape[0])


# ------------------------------------------------------------------------------------------ timing
def measure_step_seconds(spec: ArchSpec, batch_size: int, device: str | torch.device = "cpu",
                         steps: int = 2, warmup: int = 1, aux_weight: float | None = None) -> float:
    """Seconds per training step on random data (forward, backward, SGD step), after ``warmup`` steps."""
    dev = resolve_device(device)
    model = build_model(spec).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x = torch.randn(batch_size, spec.in_channels, spec.input_size, spec.input_size, device=dev)
    y = torch.randint(0, spec.num_classes, (batch_size,), device=dev)
    crit = nn.CrossEntropyLoss()
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
        out = model(x)
        loss = crit(out.logits, y) + sum(crit(a, y) for a in out.aux) * (aux_weight or 0.3) \
            if isinstance(out, ModelOutput) else crit(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return (time.perf_counter() - t0) / max(1, steps)


def estimate_epoch(spec: ArchSpec, config: TrainConfig, train_count: int, num_classes: int) -> tuple[float, int, float]:
    """(seconds per epoch, steps per epoch, seconds per step) of compute, measured on two steps.

    ResourceError up front when a training batch will not fit in the device's free memory. A big
    model is timed at a batch of 4 and scaled, so the estimate itself stays a few seconds.
    """
    spec, _ = prepare_spec(spec, num_classes, config.width_mult, config.image_size)
    device = resolve_device(config.device)
    summary = analyze(spec)
    needed = summary.memory_bytes(config.batch_size, training=True)
    check_memory(needed, device, f"training {spec.name} at batch size {config.batch_size}")
    batch = config.batch_size
    if device.type == "cpu" and summary.macs * batch > 20e9:  # > ~20 GMAC per step: seconds per step
        batch = min(batch, 4)
    per_step = measure_step_seconds(spec, batch, device, steps=2, warmup=1) * config.batch_size / batch
    steps = max(1, train_count // config.batch_size)
    return per_step * steps, steps, per_step


# ------------------------------------------------------------------------------------------ logging
class _RunLog:
    """--log-json and --tensorboard writers (rank 0 only); TensorBoard skipped with a note if absent."""

    def __init__(self, config: TrainConfig, enabled: bool) -> None:
        self.enabled = enabled
        self.path = Path(config.log_json) if (enabled and config.log_json) else None
        self.doc: dict[str, Any] = {"config": config.to_dict(), "steps": [], "epochs": [], "notes": []}
        self.tb = None
        self.tb_note = ""
        if enabled and config.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tb_note = "tensorboard is not installed: --tensorboard skipped (pip install tensorboard)"
            else:
                self.tb = SummaryWriter(config.tensorboard)

    def step(self, ev: StepEvent) -> None:
        """Record one StepEvent."""
        if not self.enabled:
            return
        self.doc["steps"].append({"step": ev.step, "epoch": ev.epoch, "loss": ev.loss, "main_loss": ev.main_loss,
                                  "aux_loss": ev.aux_loss, "lr": ev.lr, "images_per_s": ev.images_per_s})
        if self.tb is not None:
            self.tb.add_scalar("train/loss", ev.loss, ev.step)
            self.tb.add_scalar("train/main_loss", ev.main_loss, ev.step)
            if ev.aux_loss is not None:
                self.tb.add_scalar("train/aux_loss", ev.aux_loss, ev.step)
            self.tb.add_scalar("train/lr", ev.lr, ev.step)

    def epoch(self, ev: EpochEvent) -> None:
        """Record one EpochEvent and rewrite the JSON file."""
        if not self.enabled:
            return
        self.doc["epochs"].append({"epoch": ev.epoch, "step": ev.step, "val_loss": _num(ev.val_loss),
                                   "val_acc": _num(ev.val_acc), "train_acc": _num(ev.train_acc)})
        if self.tb is not None:
            for name in ("val_loss", "val_acc", "train_acc"):
                value = getattr(ev, name)
                if math.isfinite(value):
                    self.tb.add_scalar(f"val/{name}" if name.startswith("val") else f"train/{name}", value, ev.step)
        self.flush()

    def flush(self) -> None:
        """Write the JSON log atomically (so a reader never sees half a file)."""
        if self.path is not None:
            text = json.dumps(self.doc, indent=1, default=str)
            atomic_write(self.path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def close(self) -> None:
        """Flush and close the writers."""
        if self.tb is not None:
            self.tb.close()
            self.tb = None


def _num(x: float) -> float | None:
    """JSON-safe float (None for NaN/inf)."""
    return float(x) if x is not None and math.isfinite(x) else None


# ------------------------------------------------------------------------------------------ the loop
def _as_data(data: TrainData | str | os.PathLike[str], config: TrainConfig) -> TrainData:
    if isinstance(data, TrainData):
        return data
    return prepare_data(data, config.val_fraction, config.seed)


class _Sampler(DistributedSampler):
    """DistributedSampler (also for one process) that can skip the batches already done when resuming."""

    def __init__(self, dataset: Any, world: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
        self.skip = 0

    def __iter__(self):
        return islice(super().__iter__(), self.skip, None)

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)


def train(config: TrainConfig, spec: ArchSpec, data: TrainData | str | os.PathLike[str],
          should_stop: Callable[[], bool] = lambda: False, should_pause: Callable[[], bool] = lambda: False,
          init_state: Mapping[str, torch.Tensor] | ResumeState | None = None, *,
          feature_target: Callable[[], str | None] | str | None = None,
          probe_image: str | os.PathLike[str] | None = None) -> Iterator[TrainEvent]:
    """Train ``spec`` on ``data``, yielding events; ``init_state``: weights to fine-tune or a ResumeState."""
    config.validate()
    requested = resolve_device(config.device)
    ctx = DistContext.from_env(requested)
    run = _Run(config, spec, data, should_stop, should_pause, init_state, feature_target, probe_image, ctx,
               ctx.device_for(requested))
    try:
        yield from run.events()
    except (RuntimeError, MemoryError) as exc:
        if is_oom_error(exc):
            raise ResourceError(f"out of memory while training on {run.device} with batch size "
                                f"{config.batch_size}: try a smaller batch, width or image size") from None
        raise
    finally:
        run.log.close()
        ctx.close()


class _Run:
    """State of one training run; ``events()`` is the generator ``train`` hands out."""

    def __init__(self, config: TrainConfig, spec: ArchSpec, data: Any, should_stop: Callable[[], bool],
                 should_pause: Callable[[], bool], init_state: Any, feature_target: Any, probe_image: Any,
                 ctx: DistContext, device: torch.device) -> None:
        self.cfg, self.ctx, self.device = config, ctx, device
        self.should_stop, self.should_pause = should_stop, should_pause
        self.feature_target = feature_target
        self.probe_image = probe_image
        self.resume = init_state if isinstance(init_state, ResumeState) else None
        self.init_weights = None if self.resume is not None else init_state
        self.data = _as_data(data, config)
        self.spec = spec
        self.log = _RunLog(config, ctx.is_main)

    # ---- set-up ------------------------------------------------------------------------------
    def _build(self) -> list[str]:
        cfg, notes = self.cfg, []
        if self.resume is not None:
            spec = self.resume.spec
            if self.resume.class_names and list(self.resume.class_names) != list(self.data.classes):
                raise DataError(f"{self.data.root}: its classes {self.data.classes} differ from the checkpoint's "
                                f"{self.resume.class_names}; resume needs the same dataset")
            if spec.num_classes != len(self.data.classes):
                raise DataError(f"{self.data.root}: has {len(self.data.classes)} classes, the checkpoint "
                                f"{spec.num_classes}")
        else:
            spec, notes = prepare_spec(self.spec, len(self.data.classes), cfg.width_mult, cfg.image_size)
        self.spec = spec
        torch.manual_seed(cfg.seed)
        model = build_model(spec)
        self.reinit: list[str] = []
        if self.resume is not None:
            model.load_state_dict(self.resume.state_dict)
        elif self.init_weights is not None:
            _loaded, fresh = carry_over(model, dict(self.init_weights))
            self.reinit = [graph_block_id(p) for p in fresh]
        self.channels_last = cfg.channels_last and use_channels_last(self.device)
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.optimizer = make_optimizer(cfg, model)
        saved = self.resume.optimizer_name if self.resume is not None else ""
        if self.resume is not None and self.resume.optimizer is not None and saved and saved != cfg.optimizer:
            notes.append(f"optimizer changed ({saved} -> {cfg.optimizer}): its state starts afresh")
        elif self.resume is not None and self.resume.optimizer is not None:
            try:
                self.optimizer.load_state_dict(self.resume.optimizer)
            except (ValueError, KeyError, RuntimeError) as exc:
                notes.append(f"optimizer state not restored ({str(exc).splitlines()[0][:120]})")
        if self.resume is not None and self.resume.note:
            notes.append(self.resume.note)
        self.amp_dtype = autocast_dtype(self.device) if cfg.amp else None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16) \
            if self.amp_dtype is not None else None
        self.ddp = model
        if self.ctx.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.sum_dtype = torch.float64 if self.device.type != "mps" else torch.float32  # MPS has no float64
        self.aux_weights = [cfg.aux_weight if cfg.aux_weight is not None else a.loss_weight for a in spec.active_aux]
        self.crit = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.val_crit = nn.CrossEntropyLoss(reduction="sum")
        return notes

    def _loaders(self) -> None:
        cfg, spec = self.cfg, self.spec
        pre = D.Preprocess(spec.input_size, spec.crop_pct, spec.mean, spec.std, spec.interpolation, spec.in_channels)
        train_tf = pre.train_transform(cfg.augment, tuple(cfg.crop_scale), cfg.flip, cfg.color_jitter)
        self.eval_tf = pre.eval_transform()
        self.train_set = _SafeDataset(self.data.train, train_tf, spec.in_channels)
        val = self.data.val[self.ctx.rank::self.ctx.world_size]  # unpadded shard: every image counted once
        self.val_set = _SafeDataset(val, self.eval_tf, spec.in_channels)
        workers = cfg.num_workers
        if workers is None:  # CPU: decode in the training thread (the cores are busy computing anyway)
            per_rank = (os.cpu_count() or 2) // max(1, self.ctx.world_size)
            workers = 0 if self.device.type == "cpu" else min(8, max(1, per_rank - 1))
        pin = self.device.type == "cuda"
        self.sampler = _Sampler(self.train_set, self.ctx.world_size, self.ctx.rank, cfg.seed)
        per_rank = self.sampler.num_samples
        self.drop_last = per_rank >= cfg.batch_size  # a tail batch of 1 would break BatchNorm
        self.steps_per_epoch = per_rank // cfg.batch_size if self.drop_last else 1
        common = {"num_workers": workers, "pin_memory": pin, "persistent_workers": workers > 0}
        self.train_loader = DataLoader(self.train_set, batch_size=cfg.batch_size, sampler=self.sampler,
                                       drop_last=self.drop_last, **common)
        self.val_loader = DataLoader(self.val_set, batch_size=cfg.batch_size, shuffle=False, **common)

    def _probe_tensor(self) -> torch.Tensor | None:
        source = self.probe_image
        if source is None:
            pool = self.data.val or self.data.train
            source = pool[0][0] if pool else None
        if source is None:
            return None
        try:
            img = D.load_image(source, self.spec.in_channels)
        except ImageError:
            return None
        x = self.eval_tf(img).unsqueeze(0).to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    # ---- helpers -------------------------------------------------------------------------------
    def _target(self) -> str | None:
        t = self.feature_target
        return t() if callable(t) else t

    def _features(self, step: int) -> FeatureMapEvent | None:
        if not self.ctx.is_main or self.probe is None:
            return None
        path = self._target()
        if not path:
            return None
        got = probe_feature_maps(self.model, path, self.probe)
        if got is None:
            return None
        maps, channels = got
        return FeatureMapEvent(path, maps, step, channels)

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def _to_device(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nb = self.device.type == "cuda"
        x = x.to(self.device, non_blocking=nb)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y.to(self.device, non_blocking=nb)

    def _autocast(self) -> Any:
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    @torch.no_grad()
    def evaluate(self) -> tuple[float, np.ndarray]:
        """(mean validation loss, confusion matrix) over every rank's shard; (NaN, zeros) without a split."""
        n = len(self.data.classes)
        conf = torch.zeros(n, n, dtype=torch.long, device=self.device)
        loss_sum = torch.zeros(2, dtype=self.sum_dtype, device=self.device)
        model = self.model
        was = model.training
        model.eval()
        try:
            for x, y in self.val_loader:
                x, y = self._to_device(x, y)
                with self._autocast():
                    logits = model(x)
                loss_sum[0] += self.val_crit(logits.float(), y).to(self.sum_dtype)
                loss_sum[1] += y.numel()
                confusion_update(conf, logits, y)
        finally:
            model.train(was)
        if self.ctx.enabled:
            c = conf.to(self.sum_dtype) if self.ctx.backend == "gloo" else conf
            self.ctx.all_reduce_sum(c)
            self.ctx.all_reduce_sum(loss_sum)
            conf = c.long()
        total = float(loss_sum[1].item())
        loss = float(loss_sum[0].item()) / total if total > 0 else math.nan
        return loss, conf.cpu().numpy()

    def _save(self, kind: str, weights: Mapping[str, torch.Tensor], optimizer: torch.optim.Optimizer | None,
              counters: dict[str, Any]) -> CheckpointEvent | None:
        if not (self.ctx.is_main and self.cfg.out):
            return None
        out = Path(self.cfg.out)
        path = best_path(out) if kind == "best" else out
        counters = {**counters, "optimizer": self.cfg.optimizer}
        meta = {**counters, "kind": kind, "config": self.cfg.to_dict(), "data": self.data.root}
        try:
            if kind == "last":  # state first: a crash between the two leaves a mismatch load_resume detects
                save_train_state(state_path(out), optimizer, counters)
            save_checkpoint(path, self.spec, dict(weights), self.data.classes, meta)
        except OSError as exc:
            raise StudioError(f"{path}: cannot write checkpoint ({exc.strerror or exc})") from None
        return CheckpointEvent(str(path), kind)

    # ---- the generator -----------------------------------------------------------------------------
    def _pause(self) -> Iterator[TrainEvent]:
        """Block (polling) while paused, telling the consumer when it starts and ends."""
        yield PausedEvent(True)
        while self.should_pause() and not self.should_stop():
            time.sleep(0.05)
        yield PausedEvent(False)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """Forward + backward of one batch; returns (loss, main, aux, correct) summed on the device."""
        with self._autocast():
            out = self.ddp(x)
            if isinstance(out, ModelOutput):
                main = self.crit(out.logits, y)
                aux = sum((w * self.crit(a, y) for w, a in zip(self.aux_weights, out.aux, strict=True)), self.zero)
                logits = out.logits
            else:
                main, aux, logits = self.crit(out, y), self.zero, out
            loss = main + aux
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        with torch.no_grad():
            correct = (logits.argmax(1) == y).sum()
            return torch.stack([loss.detach(), main.detach(), aux.detach(), correct]).to(self.sum_dtype), \
                isinstance(out, ModelOutput)

    def _apply(self, lr: float) -> None:
        """Clip, set the scheduled learning rate and take the optimizer step."""
        if self.cfg.grad_clip is not None:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()

    def _epoch_end(self, epoch: int, step: int, correct: list[float], counters: dict[str, Any],
                   best_acc: float) -> Iterator[TrainEvent]:
        """Validate, then write the last checkpoint (and the best one when accuracy improved)."""
        val_loss, self.conf = self.evaluate()
        self.conf_step = step
        val_acc = accuracy_from_confusion(self.conf)
        if self.ctx.enabled:
            t = torch.tensor(correct, dtype=torch.float64)
            self.ctx.all_reduce_sum(t)
            correct = t.tolist()
        train_acc = correct[0] / correct[1] if correct[1] > 0 else math.nan
        ev = EpochEvent(epoch + 1, val_loss, val_acc, train_acc, step, tuple(per_class_accuracy(self.conf)))
        self.log.epoch(ev)
        yield ev
        score = val_acc if math.isfinite(val_acc) else -1.0
        improved = score > best_acc or best_acc < 0
        self.best_acc = max(best_acc, score)
        counters = {**counters, "best_acc": self.best_acc, "val_acc": _num(val_acc)}
        for kind in ("last", "best") if improved else ("last",):
            ck = self._save(kind, self.model.state_dict(), self.optimizer if kind == "last" else None, counters)
            if ck is not None:
                yield ck

    def events(self) -> Iterator[TrainEvent]:
        """The whole run as events (see the module docstring)."""
        cfg, ctx = self.cfg, self.ctx
        notes = self._build()
        self._loaders()
        self.probe = self._probe_tensor() if (cfg.feature_every and ctx.is_main) else None
        if self.data.skipped:
            notes.append(f"{len(self.data.skipped)} file(s) skipped: not readable images")
        if self.log.tb_note:
            notes.append(self.log.tb_note)
        r = self.resume
        epoch, start_batch, step = (r.epoch, r.batch, r.step) if r is not None else (0, 0, 0)
        self.best_acc = r.best_acc if r is not None else -1.0
        spe = self.steps_per_epoch
        total_steps = cfg.epochs * spe if cfg.max_steps is None else min(cfg.epochs * spe, cfg.max_steps)
        if start_batch >= spe:
            epoch, start_batch = epoch + 1, 0
        init = "resume" if r is not None else ("fine-tune" if self.init_weights is not None else "scratch")
        yield StartEvent(self.spec, list(self.data.classes), len(self.data.train), len(self.data.val), spe,
                         total_steps, step, epoch, str(self.device), ctx.world_size, self.reinit, init)
        for n in notes:
            self.log.doc["notes"].append(n)
            yield NoteEvent(n)

        log_every = cfg.log_every or (1 if self.device.type == "cpu" else 20)
        snap_every = max(log_every, 10)
        good, good_step = self._snapshot(), step
        rate = RateMeter()
        rate.update(time.perf_counter(), 0)
        self.conf, self.conf_step = None, -1
        reason, message = "finished", ""
        self.zero = torch.zeros((), device=self.device)
        acc = torch.zeros(4, dtype=self.sum_dtype, device=self.device)  # loss, main, aux, correct
        pending = 0  # steps summed into acc since the last read-back (no host sync in between)
        steps_run = reported = 0
        batch = start_batch
        if cfg.feature_every:
            fev = self._features(step)
            if fev is not None:
                yield fev
        while epoch < cfg.epochs and step < total_steps:
            self.sampler.set_epoch(epoch)
            self.sampler.skip = start_batch * cfg.batch_size
            batch, start_batch = start_batch, 0
            epoch_correct = torch.zeros((), dtype=self.sum_dtype, device=self.device)
            epoch_seen = 0
            self.model.train()
            for x, y in self.train_loader:
                if self.should_pause() and not self.should_stop():
                    yield from self._pause()
                    rate = RateMeter()
                    rate.update(time.perf_counter(), 0)
                stop_req = self.should_stop()
                if stop_req and not ctx.enabled:
                    reason, message = "stopped", f"stopped at step {step} (epoch {epoch + 1})"
                    break
                x, y = self._to_device(x, y)
                sums, has_aux = self._step(x, y)
                acc += sums
                epoch_correct += sums[3]
                epoch_seen += int(y.shape[0])
                pending += 1
                check = (step + 1) % log_every == 0 or step + 1 >= total_steps or batch + 1 >= spe
                if check:
                    # The one host sync per log interval: sum over ranks, then test for NaN/inf *before*
                    # the optimizer step, so a step with a bad loss is never applied.
                    flag = torch.tensor([1.0 if stop_req else 0.0], dtype=self.sum_dtype, device=self.device)
                    vals = ctx.all_reduce_sum(torch.cat([acc, flag])).tolist()
                    k = pending * ctx.world_size
                    mean_loss, mean_main, mean_aux = vals[0] / k, vals[1] / k, vals[2] / k
                    acc.zero_()
                    pending = 0
                    if not all(math.isfinite(a) for a in (mean_loss, mean_main, mean_aux)):
                        self.model.load_state_dict(good)
                        reason = "nan"
                        message = (f"loss became {'nan' if math.isnan(mean_loss) else 'infinite'} at step {step + 1}"
                                   f" (epoch {epoch + 1}); kept the weights from step {good_step}: try a lower "
                                   f"learning rate (it was {self.optimizer.param_groups[0]['lr']:.3g})")
                        break
                    if vals[4] > 0:
                        reason, message = "stopped", f"stopped at step {step} (epoch {epoch + 1})"
                        break
                    if step - good_step >= snap_every:
                        good, good_step = self._snapshot(), step
                lr = lr_at(cfg, step, spe)
                self._apply(lr)
                step += 1
                steps_run += 1
                batch += 1
                if check:
                    rate.update(time.perf_counter(), k * cfg.batch_size)
                    ips = rate.rate
                    eta = (total_steps - step) * cfg.batch_size * ctx.world_size / ips if ips > 0 else math.nan
                    sev = StepEvent(step, epoch + 1, mean_loss, mean_main, mean_aux if has_aux else None, lr, ips,
                                    eta, total_steps)
                    self.log.step(sev)
                    yield sev
                if cfg.feature_every and step % cfg.feature_every == 0:
                    fev = self._features(step)
                    if fev is not None:
                        yield fev
                if step >= total_steps:
                    break
            if reason != "finished":
                break
            finished_epoch = batch >= spe
            counters = {"epoch": epoch + 1 if finished_epoch else epoch, "batch": 0 if finished_epoch else batch,
                        "step": step}
            yield from self._epoch_end(epoch, step, [float(epoch_correct.item()), float(epoch_seen)], counters,
                                       self.best_acc)
            failed = {**self.train_set.failed, **self.val_set.failed}
            if len(failed) > reported:
                why = list(failed.values())[-1]
                yield NoteEvent(f"{len(failed)} image(s) failed to decode and were replaced by others "
                                f"(latest: {why})")
                reported = len(failed)
            epoch += 1

        # ---- wrap up: a stop keeps the current weights, a NaN the last good ones
        if reason == "stopped":
            counters = {"epoch": epoch, "batch": batch, "step": step, "best_acc": self.best_acc}
            ck = self._save("last", self.model.state_dict(), self.optimizer, counters)
            if ck is not None:
                yield ck
        elif reason == "nan":
            e, b = divmod(good_step, spe)
            counters = {"epoch": e, "batch": b, "step": good_step, "best_acc": self.best_acc}
            ck = self._save("last", good, None, counters)  # the optimizer state may hold the NaNs: not kept
            if ck is not None:
                yield ck
        else:
            message = f"finished {step} steps ({step / spe:.3g} epochs)"
        if ctx.enabled:
            self.log.doc["world_size"] = ctx.world_size
            self.log.doc["rank_steps"] = ctx.all_gather_int(steps_run)
            message += f" on {ctx.world_size} processes"
        self.log.doc["result"] = {"reason": reason, "message": message, "step": step}
        yield StoppedEvent(reason, message)
        if self.conf is None or self.conf_step != step or reason == "nan":
            _, self.conf = self.evaluate()
        pca = per_class_accuracy(self.conf)
        val_acc = accuracy_from_confusion(self.conf)
        self.log.doc["result"].update({"val_acc": _num(val_acc), "confusion": self.conf.tolist(),
                                       "per_class_acc": [_num(a) for a in pca], "classes": self.data.classes})
        self.log.flush()
        self.model.eval()
        last = Path(cfg.out) if (cfg.out and ctx.is_main) else None
        best = best_path(last) if last is not None else None
        yield DoneEvent(self.model, list(self.data.classes), self.conf, pca, self.spec, val_acc, str(self.device),
                        str(best) if best is not None and best.exists() else None,
                        str(last) if last is not None and last.exists() else None)


def describe_data(data: TrainData) -> str:
    """One line: "4 classes, 192 train / 48 validation images (2 skipped)"."""
    skipped = f" ({len(data.skipped)} skipped)" if data.skipped else ""
    return (f"{len(data.classes)} classes, {len(data.train)} train / {len(data.val)} validation images"
            f"{skipped}")


__all__ = [
    "TrainConfig", "recipe_defaults", "demo_recipe", "is_demo_source", "lr_at", "TrainData", "prepare_data",
    "resolve_data_root", "prepare_spec", "small_image_size", "train", "StartEvent", "StepEvent", "EpochEvent",
    "FeatureMapEvent", "CheckpointEvent", "NoteEvent", "PausedEvent", "StoppedEvent", "DoneEvent", "TrainEvent",
    "ResumeState", "load_resume", "save_train_state", "state_path", "best_path", "measure_step_seconds",
    "estimate_epoch", "probe_feature_maps", "make_optimizer", "describe_data", "SMALL_WIDTH", "SMALL_SIZE",
]
