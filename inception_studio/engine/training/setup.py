"""A model ready to train: the spec sized for the run, weights, frozen parts, optimizer, loss, loaders.

``Trainer`` is what the training loop, the learning-rate finder and classifier-only training share:
it builds the spec's model (from scratch, from initial weights, or from a resume state), freezes
what the config leaves untrained (``train_part``: the whole network, its last stages, or the
classifier), makes the recipe's optimizer and the data loaders, and offers one step, the optimizer
update and the evaluation. Frozen modules stay in eval mode, so their batch-norm statistics do not
move either: their tensors are bit-identical after the run.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from inception_studio.core import edits
from inception_studio.core.analysis import min_input_size
from inception_studio.core.blocks import ModelOutput
from inception_studio.core.build import build_model
from inception_studio.core.graph import node_of_module
from inception_studio.core.names import printable
from inception_studio.core.spec import ArchSpec
from inception_studio.core.weights import carry_over
from inception_studio.engine.device import autocast_dtype, use_channels_last
from inception_studio.engine.distributed import DistContext
from inception_studio.engine.metrics import confusion_update
from inception_studio.engine.training.config import SMALL_SIZE, TrainConfig, max_workers
from inception_studio.engine.training.data import SafeDataset, TrainData, transforms_for
from inception_studio.engine.training.interrupt import StopRequested
from inception_studio.engine.training.sampler import ResumableSampler
from inception_studio.engine.training.state import ResumeState
from inception_studio.errors import DataError, WeightsError


# ------------------------------------------------------------------------------------------- spec
def small_image_size(spec: ArchSpec, preferred: int = SMALL_SIZE) -> int:
    """The "small" input size for CPU: ``preferred`` or the spec's minimum, rounded up to a multiple of 8."""
    need = min_input_size(spec) or preferred
    size = max(preferred, need)
    return int(math.ceil(size / 8) * 8)


def prepare_spec(spec: ArchSpec, num_classes: int, width_mult: float | None = None,
                 image_size: int | None = None, train_part: str = "whole") -> tuple[ArchSpec, list[str]]:
    """The spec to train: classes from the data, optional width/size; aux off when the input is too small
    or when only the last stages or the classifier train (their aux heads would hang off frozen blocks)."""
    notes: list[str] = []
    if width_mult is not None and not math.isclose(width_mult, spec.width_mult):
        spec = edits.apply_edit(spec, "width_mult", float(width_mult))
    if train_part != "whole" and spec.aux_enabled and spec.aux:
        spec = edits.set_aux(spec, False)
        notes.append("aux heads off: only the last stage(s) or the classifier train")
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


# ---------------------------------------------------------------------------------------- freezing
def trainable_prefixes(spec: ArchSpec, part: str, stages: int = 1) -> list[str] | None:
    """Module prefixes that train under ``part`` (None: everything): the head, plus the last ``stages``
    stages that have blocks when ``part`` is "last"."""
    if part == "whole":
        return None
    keep = ["head"]
    if part == "last":
        named = [s.name for s in spec.stages if s.blocks]
        keep += [f"stages.{name}" for name in named[-max(1, stages):]]
    return keep


def freeze(model: nn.Module, prefixes: list[str] | None) -> list[str]:
    """Turn off gradients outside ``prefixes``; returns the frozen top-level module paths (stage, head, aux)."""
    if prefixes is None:
        return []

    def trains(name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)

    frozen: list[str] = []
    for name, p in model.named_parameters():
        p.requires_grad_(trains(name))
    for top, child in model.named_children():
        subs = child.named_children() if isinstance(child, nn.ModuleDict) else [("", child)]
        for sub, _ in subs:
            path = f"{top}.{sub}" if sub else top
            if not trains(path):
                frozen.append(path)
    return frozen


def frozen_modules(model: nn.Module, frozen: list[str]) -> list[nn.Module]:
    """The modules named by ``freeze``'s result."""
    return [model.get_submodule(p) for p in frozen]


# ------------------------------------------------------------------------------------ start weights
def start_weights(start_from: str, spec, current: dict | None) -> dict | None:
    """The state dict a run starts from ("scratch" | "current" | "pretrained"): None, ``current``, or the
    spec's pretrained ImageNet weights (downloaded once). WeightsError, one line, when they cannot be had."""
    if start_from == "current":
        return current
    if start_from != "pretrained":
        return None
    from inception_studio.core.sources import pretrained_sources
    from inception_studio.engine.loading import WeightsChoice, resolve_weights

    sources = pretrained_sources(spec)
    if not sources:
        raise WeightsError(f"{printable(spec.name, 60)}: no pretrained ImageNet weights exist for this network; start from "
                           "scratch or from current weights")
    try:
        return resolve_weights(WeightsChoice.pretrained(sources[0]), spec).state_dict
    except WeightsError as exc:
        raise WeightsError(f"{exc} — or load them from a file (Model → Load Pretrained), then start from "
                           "current weights") from None


# ----------------------------------------------------------------------------------------- trainer
def run_channels_last(config: TrainConfig, device: torch.device | str) -> bool:
    """Whether a run keeps activations channels-last: the config asks for it and the device gains from it."""
    return config.channels_last and use_channels_last(device)


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The recipe's optimizer over the trainable parameters; no weight decay on BN parameters and biases."""
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


class Trainer:
    """One run's model, optimizer, loss and loaders (see the module docstring)."""

    def __init__(self, config: TrainConfig, spec: ArchSpec, data: TrainData, ctx: DistContext,
                 device: torch.device, init_state: Any = None, loaders: bool = True) -> None:
        self.cfg, self.ctx, self.device, self.data = config, ctx, device, data
        self.resume = init_state if isinstance(init_state, ResumeState) else None
        self.init_weights = None if self.resume is not None else init_state
        self.notes: list[str] = []
        self.reinit: list[str] = []
        self.spec = self._sized_spec(spec)
        self._build()
        if loaders:
            self._loaders()

    # ---- set-up ------------------------------------------------------------------------------
    def _sized_spec(self, spec: ArchSpec) -> ArchSpec:
        if self.resume is None:
            spec, notes = prepare_spec(spec, len(self.data.classes), self.cfg.width_mult, self.cfg.image_size,
                                       self.cfg.train_part)
            self.notes += notes
            return spec
        spec = self.resume.spec
        if self.resume.class_names and list(self.resume.class_names) != list(self.data.classes):
            raise DataError(f"{self.data.root}: its classes {self.data.classes} differ from the checkpoint's "
                            f"{self.resume.class_names}; resume needs the same dataset")
        if spec.num_classes != len(self.data.classes):
            raise DataError(f"{self.data.root}: has {len(self.data.classes)} classes, the checkpoint "
                            f"{spec.num_classes}")
        return spec

    def _build(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        model = build_model(self.spec)
        if self.resume is not None:
            model.load_state_dict(self.resume.state_dict)
        elif self.init_weights is not None:
            loaded, fresh = carry_over(model, dict(self.init_weights))
            if not loaded:
                raise WeightsError(f"the initial weights fit none of {printable(self.spec.name, 60)}'s blocks: they "
                                   "belong to another network (start from scratch, or train the variant they were "
                                   "made for)")
            self.reinit = [node_of_module(p) for p in fresh]
        self.frozen = freeze(model, trainable_prefixes(self.spec, cfg.train_part, cfg.train_stages))
        self.channels_last = run_channels_last(cfg, self.device)
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self._frozen_mods = frozen_modules(model, self.frozen)
        self.optimizer = make_optimizer(cfg, model)
        self._restore_optimizer()
        self.amp_dtype = autocast_dtype(self.device) if cfg.amp else None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16) \
            if self.amp_dtype is not None else None
        self.ddp = model
        if self.ctx.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.sum_dtype = torch.float64 if self.device.type != "mps" else torch.float32  # MPS has no float64
        self.aux_weights = [cfg.aux_weight if cfg.aux_weight is not None else a.loss_weight
                            for a in self.spec.active_aux]
        self.crit = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.val_crit = nn.CrossEntropyLoss(reduction="sum")
        self.zero = torch.zeros((), device=self.device)

    def _restore_optimizer(self) -> None:
        r = self.resume
        if r is None:
            return
        saved = r.optimizer_name
        if r.optimizer is not None and saved and saved != self.cfg.optimizer:
            self.notes.append(f"optimizer changed ({saved} -> {self.cfg.optimizer}): its state starts afresh")
        elif r.optimizer is not None:
            try:
                self.optimizer.load_state_dict(r.optimizer)
            except (ValueError, KeyError, RuntimeError) as exc:
                self.notes.append(f"optimizer state not restored ({str(exc).splitlines()[0][:120]})")
        if r.note:
            self.notes.append(r.note)

    def workers(self) -> int:
        """DataLoader worker processes: the config's (bounded by the cores), else 0 on CPU, more on GPU."""
        w = self.cfg.num_workers
        if w is None:  # CPU: decode in the training thread (the cores are busy computing anyway)
            per_rank = max_workers() // max(1, self.ctx.world_size)
            return 0 if self.device.type == "cpu" else min(8, max(1, per_rank - 1))
        return min(w, max_workers())

    def _loaders(self) -> None:
        cfg, spec = self.cfg, self.spec
        train_tf, self.eval_tf = transforms_for(cfg, spec)
        self.train_set = SafeDataset(self.data.train, train_tf, spec.in_channels)
        val = self.data.val[self.ctx.rank::self.ctx.world_size]  # unpadded shard: every image counted once
        self.val_set = SafeDataset(val, self.eval_tf, spec.in_channels)
        workers = self.workers()
        common = {"num_workers": workers, "pin_memory": self.device.type == "cuda",
                  "persistent_workers": workers > 0}
        self.sampler = ResumableSampler(self.train_set, self.ctx.world_size, self.ctx.rank, cfg.seed)
        per_rank = self.sampler.num_samples
        self.drop_last = per_rank >= cfg.batch_size  # a tail batch of 1 would break BatchNorm
        self.steps_per_epoch = per_rank // cfg.batch_size if self.drop_last else 1
        self.train_loader = DataLoader(self.train_set, batch_size=cfg.batch_size, sampler=self.sampler,
                                       drop_last=self.drop_last, **common)
        self.val_loader = DataLoader(self.val_set, batch_size=cfg.batch_size, shuffle=False, **common)

    def close(self) -> None:
        """Stop the loaders' worker processes now (persistent workers would otherwise outlive the run)."""
        for name in ("train_loader", "val_loader"):
            loader = getattr(self, name, None)
            it = getattr(loader, "_iterator", None)
            if it is not None and hasattr(it, "_shutdown_workers"):
                it._shutdown_workers()
            if loader is not None:
                loader._iterator = None

    # ---- per step ------------------------------------------------------------------------------
    def set_training(self, on: bool = True) -> None:
        """Train mode for the trainable parts; frozen parts always stay in eval mode."""
        self.model.train(on)
        for m in self._frozen_mods:
            m.eval()

    def to_device(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch on the training device (channels-last where that is faster)."""
        nb = self.device.type == "cuda"
        x = x.to(self.device, non_blocking=nb)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y.to(self.device, non_blocking=nb)

    def autocast(self) -> Any:
        """The mixed-precision context of the run (disabled when it has none)."""
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """Forward + backward of one batch: ([loss, main, aux, correct] summed on the device, has aux)."""
        with self.autocast():
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

    def apply(self, lr: float) -> None:
        """Clip, set the learning rate and take the optimizer step."""
        if self.cfg.grad_clip is not None:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], self.cfg.grad_clip)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of every weight and buffer (to roll back to)."""
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    @torch.no_grad()
    def evaluate(self, should_stop: Callable[[], bool] | None = None) -> tuple[float, np.ndarray]:
        """(mean validation loss, confusion matrix) over every rank's shard; (NaN, zeros) without a split.
        StopRequested when ``should_stop()`` is true between batches; None under DDP, where a rank that
        left early would hang the others."""
        n = len(self.data.classes)
        conf = torch.zeros(n, n, dtype=torch.long, device=self.device)
        loss_sum = torch.zeros(2, dtype=self.sum_dtype, device=self.device)
        was = self.model.training
        self.model.eval()
        try:
            for x, y in self.val_loader:
                if should_stop is not None and should_stop():
                    raise StopRequested
                x, y = self.to_device(x, y)
                with self.autocast():
                    logits = self.model(x)
                loss_sum[0] += self.val_crit(logits.float(), y).to(self.sum_dtype)
                loss_sum[1] += y.numel()
                confusion_update(conf, logits, y)
        finally:
            self.set_training(was)
        if self.ctx.enabled:
            c = conf.to(self.sum_dtype) if self.ctx.backend == "gloo" else conf
            self.ctx.all_reduce_sum(c)
            self.ctx.all_reduce_sum(loss_sum)
            conf = c.long()
        total = float(loss_sum[1].item())
        loss = float(loss_sum[0].item()) / total if total > 0 else math.nan
        return loss, conf.cpu().numpy()
