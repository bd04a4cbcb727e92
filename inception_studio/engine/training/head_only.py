"""Classifier-only training: the frozen network's features computed once, then the head trained on them.

With everything below the classifier frozen, an epoch over the images is wasted work: the features
never change. So the frozen network runs once over the training and validation images (evaluation
transform, eval mode, no gradients), the pooled features are kept in memory (keyed by the weights,
the spec and the files, so a second run with another learning rate reuses them), and the model's own
head module trains on them in well under a second. The frozen tensors are never touched: they are
bit-identical afterwards. The events are the training loop's, so the GUI and the CLI need nothing new.
A stop ends the feature pass at the next block of the network (engine.training.interrupt) and skips the
closing speed note, which times steps of the whole network.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from inception_studio.core.spec import ArchSpec
from inception_studio.engine.distributed import DistContext
from inception_studio.engine.metrics import accuracy_from_confusion, confusion_update, per_class_accuracy
from inception_studio.engine.training.checkpoints import Checkpointer, remove_stale_temps
from inception_studio.engine.training.config import TrainConfig, lr_at
from inception_studio.engine.training.data import SafeDataset, TrainData
from inception_studio.engine.training.events import (
    CheckpointEvent,
    DoneEvent,
    EpochEvent,
    NoteEvent,
    StartEvent,
    StepEvent,
    StoppedEvent,
    TrainEvent,
)
from inception_studio.engine.training.interrupt import StepInterrupter, StopRequested
from inception_studio.engine.training.probe import measure_step_seconds
from inception_studio.engine.training.setup import Trainer

_CACHE: OrderedDict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = OrderedDict()
CACHE_RUNS = 4  # feature sets kept in memory (one per network/weights/data combination)


def clear_feature_cache() -> None:
    """Forget every cached feature set."""
    _CACHE.clear()


def _key(t: Trainer) -> str:
    """What the cached features depend on: the frozen weights, the spec, the files and the transform."""
    h = hashlib.sha1()
    for name, tensor in t.model.state_dict().items():
        if not name.startswith("head."):
            h.update(name.encode())
            h.update(tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    spec = t.spec.to_json(indent=None)
    h.update(spec.encode())
    h.update(repr(t.eval_tf).encode())
    for path, label in (*t.data.train, *t.data.val):
        h.update(f"{path}\0{label}\n".encode())
    return h.hexdigest()


@torch.no_grad()
def _features(t: Trainer, loader: Any, should_stop: Callable[[], bool]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Pooled features (N x C, float32 on the device) and labels of every image the loader yields."""
    feats, labels = [], []
    for x, y in loader:
        if should_stop():
            return None
        x, y = t.to_device(x, y)
        with t.autocast():
            f, _ = t.model.forward_features(x)
        feats.append(f.float().mean((2, 3)))
        labels.append(y)
    if not feats:
        c = t.model.head.fc.in_channels if isinstance(t.model.head.fc, nn.Conv2d) else t.model.head.fc.in_features
        return torch.zeros(0, c, device=t.device), torch.zeros(0, dtype=torch.long, device=t.device)
    return torch.cat(feats), torch.cat(labels)


def _cached_features(t: Trainer, should_stop: Callable[[], bool]) -> tuple[Any, bool, float]:
    """((train x, train y, val x, val y) or None if stopped, reused from the cache?, seconds)."""
    t0 = time.perf_counter()
    key = _key(t)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key], True, time.perf_counter() - t0
    t.model.eval()
    plain = DataLoader(SafeDataset(t.data.train, t.eval_tf, t.spec.in_channels),
                       batch_size=t.cfg.batch_size, shuffle=False, num_workers=0)
    tr = _features(t, plain, should_stop)
    va = _features(t, t.val_loader, should_stop) if tr is not None else None
    if tr is None or va is None:
        return None, False, time.perf_counter() - t0
    got = (*tr, *va)
    _CACHE[key] = got
    while len(_CACHE) > CACHE_RUNS:
        _CACHE.popitem(last=False)
    return got, False, time.perf_counter() - t0


def _evaluate(head: nn.Module, x: torch.Tensor, y: torch.Tensor, n: int) -> tuple[float, np.ndarray]:
    head.eval()
    with torch.no_grad():
        conf = torch.zeros(n, n, dtype=torch.long, device=x.device)
        if len(y) == 0:
            return math.nan, conf.cpu().numpy()
        logits = head(x[:, :, None, None])
        loss = float(nn.functional.cross_entropy(logits, y).item())
        confusion_update(conf, logits, y)
    return loss, conf.cpu().numpy()


def train_head(config: TrainConfig, spec: ArchSpec, data: TrainData, ctx: DistContext, device: torch.device,
               should_stop: Callable[[], bool], init_state: Any) -> Iterator[TrainEvent]:
    """Classifier-only training (``config.train_part == "classifier"``) as training-loop events."""
    t = Trainer(config, spec, data, ctx, device, init_state)
    stops = None if ctx.enabled else StepInterrupter(t.model, should_stop, t.frozen)
    try:
        yield from _HeadRun(t, config, ctx, should_stop, stops).events()
    finally:
        if stops is not None:
            stops.close()
        t.close()


class _HeadRun:
    """One classifier-only run over cached features: its counters and its steps as events."""

    def __init__(self, t: Trainer, cfg: TrainConfig, ctx: DistContext, should_stop: Callable[[], bool],
                 stops: StepInterrupter | None) -> None:
        self.t, self.cfg, self.ctx, self.should_stop, self.stops = t, cfg, ctx, should_stop, stops
        self.n = len(t.data.classes)
        self.ckpt = Checkpointer(cfg, ctx.is_main, t.data.root, list(t.data.classes))
        self.spe = max(1, math.ceil(len(t.data.train) / cfg.batch_size))
        self.total = cfg.epochs * self.spe if cfg.max_steps is None else min(cfg.epochs * self.spe, cfg.max_steps)
        self.step, self.best, self.conf = 0, -1.0, None
        self.reason, self.message = "finished", ""

    def events(self) -> Iterator[TrainEvent]:
        """Start, features (computed or reused), the head's epochs, the speed note, stop and done."""
        t, cfg = self.t, self.cfg
        if self.ctx.is_main and cfg.out:
            remove_stale_temps(cfg.out)
        yield from self._start()
        feats, reused, secs = self._features()
        if feats is None:
            yield StoppedEvent("stopped", "stopped while computing the features")
            yield _done(t, np.zeros((self.n, self.n), dtype=np.int64), self.ckpt)
            return
        xtr, ytr, xva, yva = feats
        yield NoteEvent(f"features of {len(ytr) + len(yva)} images reused from the last run" if reused else
                        f"features of {len(ytr) + len(yva)} images computed once in {secs:.1f} s (kept for the "
                        "next run)")
        gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
        t_head = time.perf_counter()
        for epoch in range(cfg.epochs):
            correct = yield from self._epoch(epoch, xtr, ytr, gen, t_head)
            if self.reason != "finished":
                break
            yield from self._epoch_end(epoch, xva, yva, correct / max(1, len(ytr)))
            if self.step >= self.total:
                break
        if self.reason == "finished":
            self.message = f"finished {self.step} steps ({self.step / self.spe:.3g} epochs) of the classifier"
        if self.reason != "stopped":  # timing the whole network would hold the stop for a few steps of it
            yield from _speed_note(t, cfg, 0.0 if reused else secs, time.perf_counter() - t_head, self.step)
        yield StoppedEvent(self.reason, self.message)
        if self.conf is None:
            _, self.conf = _evaluate(t.model.head, xva, yva, self.n)
        yield _done(t, self.conf, self.ckpt)

    def _features(self) -> tuple[Any, bool, float]:
        """``_cached_features``; a stop also ends it at the next block of the frozen network (one process).
        The interrupt hooks go afterwards: nothing else here is long."""
        if self.stops is None:
            return _cached_features(self.t, self.should_stop)
        try:
            with self.stops.armed():
                return _cached_features(self.t, self.should_stop)
        except StopRequested:
            return None, False, 0.0
        finally:
            self.stops.close()

    def _start(self) -> Iterator[TrainEvent]:
        t, data = self.t, self.t.data
        init = "resume" if t.resume is not None else ("fine-tune" if t.init_weights is not None else "scratch")
        yield StartEvent(t.spec, list(data.classes), len(data.train), len(data.val), self.spe, self.total, 0, 0,
                         str(t.device), self.ctx.world_size, t.reinit, init, "classifier", tuple(t.frozen))
        for note in t.notes:
            yield NoteEvent(note)
        if init == "scratch":
            yield NoteEvent("classifier only on a network with random weights: its features are random too; "
                            "start from pretrained or trained weights")

    def _epoch(self, epoch: int, xtr: torch.Tensor, ytr: torch.Tensor, gen: torch.Generator,
               t_head: float) -> Iterator[TrainEvent]:
        """One pass over the training features in random order; returns how many were right."""
        t, cfg, head = self.t, self.cfg, self.t.model.head
        head.train()
        order = torch.randperm(len(ytr), generator=gen).to(xtr.device)
        correct = 0
        for b in range(self.spe):
            if self.should_stop():
                self.reason, self.message = "stopped", f"stopped at step {self.step} (epoch {epoch + 1})"
                break
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            logits = head(xtr[idx][:, :, None, None])
            loss = t.crit(logits, ytr[idx])
            t.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            lr = lr_at(cfg, self.step, self.spe)
            t.apply(lr)
            self.step += 1
            correct += int((logits.argmax(1) == ytr[idx]).sum())
            value = float(loss.detach())
            if not math.isfinite(value):
                self.reason = "nan"
                self.message = f"loss became non-finite at step {self.step}: try a lower learning rate"
                break
            rate = self.step * cfg.batch_size / max(1e-9, time.perf_counter() - t_head)
            yield StepEvent(self.step, epoch + 1, value, value, None, lr, rate, 0.0, self.total)
            if self.step >= self.total:
                break
        return correct

    def _epoch_end(self, epoch: int, xva: torch.Tensor, yva: torch.Tensor, train_acc: float) -> Iterator[TrainEvent]:
        """Validate on the cached features; write the last (and, when better, the best) checkpoint."""
        t = self.t
        val_loss, self.conf = _evaluate(t.model.head, xva, yva, self.n)
        val_acc = accuracy_from_confusion(self.conf)
        yield EpochEvent(epoch + 1, val_loss, val_acc, train_acc, self.step, tuple(per_class_accuracy(self.conf)))
        score = val_acc if math.isfinite(val_acc) else -1.0
        counters = {"epoch": epoch + 1, "batch": 0, "step": self.step, "best_acc": max(self.best, score)}
        for kind in ("last", "best") if (score > self.best or self.best < 0) else ("last",):
            ck = self.ckpt.save(kind, t.spec, t.model.state_dict(), t.optimizer if kind == "last" else None, counters)
            if isinstance(ck, CheckpointEvent):
                yield ck
        self.best = max(self.best, score)


def _speed_note(t: Trainer, cfg: TrainConfig, feat_s: float, head_s: float, steps: int) -> Iterator[TrainEvent]:
    """How much faster this was than training the whole network for the same epochs (measured)."""
    ours = feat_s + head_s
    if steps == 0 or ours <= 0:
        return
    batch = min(8, cfg.batch_size)
    try:
        whole_step = measure_step_seconds(t.spec, batch, t.device, steps=1, warmup=1, channels_last=t.channels_last)
    except (RuntimeError, MemoryError):
        return
    whole = whole_step / batch * len(t.data.train) * cfg.epochs
    yield NoteEvent(f"classifier only: {ours:.1f} s ({len(t.data.train) * cfg.epochs / ours:,.0f} images/s) "
                    f"against about {whole:.0f} s ({batch / whole_step:,.0f} images/s) to train the whole "
                    f"network as long: {whole / ours:.0f}x faster")


def _done(t: Trainer, conf: np.ndarray, ckpt: Checkpointer) -> DoneEvent:
    t.model.eval()
    return DoneEvent(t.model, list(t.data.classes), conf, per_class_accuracy(conf), t.spec,
                     accuracy_from_confusion(conf), str(t.device), ckpt.wrote("best"), ckpt.wrote("last"))
