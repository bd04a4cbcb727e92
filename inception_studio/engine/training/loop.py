"""The training loop as a plain generator of events; pausing and stopping are callables it polls.

``train(...)`` yields StartEvent, NoteEvent, StepEvent, HintEvent, FeatureMapEvent, EpochEvent,
CheckpointEvent, PausedEvent, StoppedEvent and finally DoneEvent. The loss is read back from the
device once per log interval (one host sync), summed over DDP ranks, and tested for NaN/inf before
the optimizer step, so a bad step is never applied: the run then stops with the last good weights.
A stop abandons the step in progress at the next block of its forward or backward pass, and a
validation between batches or blocks (engine.training.interrupt); DDP ranks agree on it between steps.
A LearningMonitor turns the logged losses into one-line hints. Classifier-only runs go to
``head_only``. Runs unchanged under torchrun (DistributedDataParallel, see engine.distributed). No Qt.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from inception_studio.core.spec import ArchSpec
from inception_studio.engine import data as D
from inception_studio.engine.device import is_oom_error, resolve_device
from inception_studio.engine.distributed import DistContext, is_stall_error
from inception_studio.engine.metrics import RateMeter, accuracy_from_confusion, per_class_accuracy
from inception_studio.engine.training.checkpoints import Checkpointer, remove_stale_temps
from inception_studio.engine.training.config import TrainConfig, lr_at, total_steps
from inception_studio.engine.training.data import TrainData, as_data
from inception_studio.engine.training.events import (
    DoneEvent,
    EpochEvent,
    FeatureMapEvent,
    HintEvent,
    NoteEvent,
    PausedEvent,
    StartEvent,
    StepEvent,
    StoppedEvent,
    TrainEvent,
)
from inception_studio.engine.training.health import Hint, LearningMonitor
from inception_studio.engine.training.interrupt import StepInterrupter, StopRequested
from inception_studio.engine.training.probe import probe_feature_maps
from inception_studio.engine.training.runlog import RunLog, json_number
from inception_studio.engine.training.setup import Trainer
from inception_studio.errors import ImageError, ResourceError


def train(config: TrainConfig, spec: ArchSpec, data: TrainData | str | os.PathLike[str],
          should_stop: Callable[[], bool] = lambda: False, should_pause: Callable[[], bool] = lambda: False,
          init_state: Any = None, *, feature_target: Callable[[], str | None] | str | None = None,
          probe_image: str | os.PathLike[str] | None = None) -> Iterator[TrainEvent]:
    """Train ``spec`` on ``data``, yielding events; ``init_state``: weights to fine-tune or a ResumeState."""
    config.validate()
    requested = resolve_device(config.device)
    ctx = DistContext.from_env(requested, timeout_s=config.ddp_timeout_s)
    device = ctx.device_for(requested)
    run = None
    try:
        data = as_data(data, config)
        if config.train_part == "classifier":
            from inception_studio.engine.training.head_only import train_head

            yield from train_head(config, spec, data, ctx, device, should_stop, init_state)
            return
        run = Run(config, spec, data, should_stop, should_pause, init_state, feature_target, probe_image, ctx,
                  device)
        yield from run.events()
    except (RuntimeError, MemoryError) as exc:
        if is_oom_error(exc):
            raise ResourceError(f"out of memory while training on {device} with batch size "
                                f"{config.batch_size}: try a smaller batch, width or image size") from None
        if ctx.enabled and is_stall_error(exc):
            raise ResourceError(ctx.describe_stall(config.ddp_timeout_s)) from None
        raise
    finally:
        if run is not None:
            run.close()
        ctx.close()


class Run:
    """State of one training run; ``events()`` is the generator ``train`` hands out."""

    def __init__(self, config: TrainConfig, spec: ArchSpec, data: TrainData, should_stop: Callable[[], bool],
                 should_pause: Callable[[], bool], init_state: Any, feature_target: Any, probe_image: Any,
                 ctx: DistContext, device: torch.device) -> None:
        self.cfg, self.ctx, self.device, self.data = config, ctx, device, data
        self.should_stop, self.should_pause = should_stop, should_pause
        self.feature_target, self.probe_image = feature_target, probe_image
        self.log = RunLog(config, ctx.is_main)
        self.t = Trainer(config, spec, data, ctx, device, init_state)
        self.spec = self.t.spec
        self.ckpt = Checkpointer(config, ctx.is_main, data.root, list(data.classes))
        r = self.t.resume
        self.epoch, self.batch, self.step = (r.epoch, r.batch, r.step) if r is not None else (0, 0, 0)
        self.best_acc = r.best_acc if r is not None else -1.0
        self.spe = self.t.steps_per_epoch
        self.total = total_steps(config, self.spe)
        self.monitor = LearningMonitor(len(data.classes), self.total, config.lr)
        self.reason, self.message = "finished", ""
        self.conf, self.conf_step = None, -1
        self.failed_reported = 0
        self.steps_run = 0
        # DDP ranks must agree on a stop (between steps); one process may drop the step in progress
        self.interrupter = None if ctx.enabled else StepInterrupter(self.t.model, should_stop, self.t.frozen)

    def close(self) -> None:
        """Remove the interrupt hooks, stop the data workers and close the log writers."""
        if self.interrupter is not None:
            self.interrupter.close()
        self.t.close()
        self.log.close()

    # ---- the run -------------------------------------------------------------------------------
    def events(self) -> Iterator[TrainEvent]:
        """The whole run as events (see the module docstring)."""
        yield from self._start()
        self.good, self.good_step = self.t.snapshot(), self.step
        start_batch = self.batch
        if start_batch >= self.spe:
            self.epoch, start_batch = self.epoch + 1, 0
        while self.epoch < self.cfg.epochs and self.step < self.total:
            yield from self._epoch(start_batch)
            start_batch = 0
            if self.reason != "finished":
                break
            self.epoch += 1
        yield from self._finish()

    def _start(self) -> Iterator[TrainEvent]:
        cfg, t = self.cfg, self.t
        if self.ctx.is_main and cfg.out:
            remove_stale_temps(cfg.out)
        self.probe = self._probe_tensor() if (cfg.feature_every and self.ctx.is_main) else None
        notes = list(t.notes)
        if self.data.skipped:
            notes.append(f"{len(self.data.skipped)} file(s) skipped: not readable images")
        if self.log.tb_note:
            notes.append(self.log.tb_note)
        init = "resume" if t.resume is not None else ("fine-tune" if t.init_weights is not None else "scratch")
        if init == "fine-tune" and t.reinit:
            notes.append(f"fine-tune: {len(t.reinit)} part(s) start from scratch (not in the initial weights or a "
                         f"different shape): {', '.join(t.reinit[:6])}{' ...' if len(t.reinit) > 6 else ''}")
        yield StartEvent(self.spec, list(self.data.classes), len(self.data.train), len(self.data.val), self.spe,
                         self.total, self.step, self.epoch, str(self.device), self.ctx.world_size, t.reinit, init,
                         cfg.train_part, tuple(t.frozen))
        for n in notes:
            self.log.note(n)
            yield NoteEvent(n)
        if cfg.feature_every:
            fev = self._features()
            if fev is not None:
                yield fev

    def _epoch(self, start_batch: int) -> Iterator[TrainEvent]:
        """One epoch (or its rest, when resuming): steps, then validation and checkpoints."""
        cfg, t = self.cfg, self.t
        t.sampler.set_epoch(self.epoch)
        t.sampler.skip = start_batch * cfg.batch_size
        self.batch = start_batch
        log_every = cfg.log_every or (1 if self.device.type == "cpu" else 20)
        self.acc = torch.zeros(4, dtype=t.sum_dtype, device=self.device)  # loss, main, aux, correct
        self.pending = 0  # steps summed into acc since the last read-back (no host sync in between)
        self.rate = RateMeter()
        self.rate.update(time.perf_counter(), 0)
        epoch_correct = torch.zeros((), dtype=t.sum_dtype, device=self.device)
        epoch_seen = 0
        t.set_training(True)
        for x, y in t.train_loader:
            if self.should_pause() and not self.should_stop():
                yield from self._pause()
            stop_req = self.should_stop()
            if stop_req and not self.ctx.enabled:
                self._stopped()
                break
            x, y = t.to_device(x, y)
            done = self._step(x, y)
            if done is None:
                break
            sums, has_aux = done
            self.acc += sums
            epoch_correct += sums[3]
            epoch_seen += int(y.shape[0])
            self.pending += 1
            check = (self.step + 1) % log_every == 0 or self.step + 1 >= self.total or self.batch + 1 >= self.spe
            means = self._read_back(stop_req) if check else None
            if self.reason != "finished":
                break
            lr = lr_at(cfg, self.step, self.spe)
            t.apply(lr)
            self.step += 1
            self.steps_run += 1
            self.batch += 1
            if means is not None:
                yield from self._logged(means, lr, has_aux)
            if cfg.feature_every and self.step % cfg.feature_every == 0:
                fev = self._features()
                if fev is not None:
                    yield fev
            if self.step >= self.total:
                break
            if self._stop_now():  # before the next batch is loaded
                self._stopped()
                break
        if self.reason == "finished":
            yield from self._epoch_end([float(epoch_correct.item()), float(epoch_seen)])

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, bool] | None:
        """Forward + backward of one batch; None when a stop abandoned it (nothing of it is kept)."""
        if self.interrupter is None:
            return self.t.step(x, y)
        try:
            with self.interrupter.step():
                return self.t.step(x, y)
        except StopRequested:
            self._stopped()
            return None

    def _stop_now(self) -> bool:
        """A stop asked, to act on at once (one process; DDP ranks stop together, between steps)."""
        return self.interrupter is not None and self.should_stop()

    def _read_back(self, stop_req: bool) -> tuple[float, float, float, int] | None:
        """The one host sync per log interval: sum over ranks, then test for NaN/inf *before* the optimizer
        step, so a step with a bad loss is never applied. Sets reason/message when the run must end."""
        t = self.t
        flag = torch.tensor([1.0 if stop_req else 0.0], dtype=t.sum_dtype, device=self.device)
        self.ctx.heartbeat(self.step)
        vals = self.ctx.all_reduce_sum(torch.cat([self.acc, flag])).tolist()
        k = self.pending * self.ctx.world_size
        means = (vals[0] / k, vals[1] / k, vals[2] / k, k)
        self.acc.zero_()
        self.pending = 0
        if not all(math.isfinite(a) for a in means[:3]):
            t.model.load_state_dict(self.good)
            self.reason = "nan"
            self.message = (f"loss became {'nan' if math.isnan(means[0]) else 'infinite'} at step {self.step + 1} "
                            f"(epoch {self.epoch + 1}); kept the weights from step {self.good_step}: try a lower "
                            f"learning rate (it was {t.optimizer.param_groups[0]['lr']:.3g})")
            return None
        if vals[4] > 0:
            self._stopped()
            return None
        if self.step - self.good_step >= 10:
            self.good, self.good_step = t.snapshot(), self.step
        return means

    def _stopped(self, where: str = "") -> None:
        self.reason, self.message = "stopped", f"stopped at step {self.step} (epoch {self.epoch + 1}){where}"

    def _logged(self, means: tuple[float, float, float, int], lr: float, has_aux: bool) -> Iterator[TrainEvent]:
        loss, main, aux, k = means
        self.rate.update(time.perf_counter(), k * self.cfg.batch_size)
        ips = self.rate.rate
        eta = (self.total - self.step) * self.cfg.batch_size * self.ctx.world_size / ips if ips > 0 else math.nan
        ev = StepEvent(self.step, self.epoch + 1, loss, main, aux if has_aux else None, lr, ips, eta, self.total)
        self.log.step(ev)
        yield ev
        yield from self._hint(self.monitor.step(self.step, main, lr))

    def _hint(self, hint: Hint | None) -> Iterator[TrainEvent]:
        if hint is not None and self.ctx.is_main:
            self.log.note(f"hint: {hint.message}")
            yield HintEvent(hint.kind, hint.message)

    def _pause(self) -> Iterator[TrainEvent]:
        """Block (polling) while paused, telling the consumer when it starts and ends."""
        yield PausedEvent(True)
        while self.should_pause() and not self.should_stop():
            time.sleep(0.05)
        yield PausedEvent(False)
        self.rate = RateMeter()
        self.rate.update(time.perf_counter(), 0)

    def _validate(self) -> tuple[float, Any] | None:
        """The epoch's validation; None when a stop ended it early (its partial result is not used)."""
        if self.interrupter is None:
            return self.t.evaluate()
        try:
            with self.interrupter.armed():
                return self.t.evaluate(self.should_stop)
        except StopRequested:
            self._stopped(" during its validation")
            return None

    def _counters(self) -> dict[str, Any]:
        """Where the run stands, as a checkpoint records it: epochs whose batches are all done, batches
        done in the next, steps, best accuracy."""
        done = self.batch >= self.spe
        return {"epoch": self.epoch + 1 if done else self.epoch, "batch": 0 if done else self.batch,
                "step": self.step, "best_acc": self.best_acc}

    def _epoch_end(self, correct: list[float]) -> Iterator[TrainEvent]:
        """Validate, then write the last checkpoint (and the best one when accuracy improved); a stop
        during the validation writes neither here (the stop saves the last one)."""
        got = self._validate()
        if got is None:
            return
        val_loss, self.conf = got
        self.conf_step = self.step
        val_acc = accuracy_from_confusion(self.conf)
        if self.ctx.enabled:
            tt = torch.tensor(correct, dtype=torch.float64)
            self.ctx.all_reduce_sum(tt)
            correct = tt.tolist()
        train_acc = correct[0] / correct[1] if correct[1] > 0 else math.nan
        ev = EpochEvent(self.epoch + 1, val_loss, val_acc, train_acc, self.step, tuple(per_class_accuracy(self.conf)))
        self.log.epoch(ev)
        yield ev
        yield from self._hint(self.monitor.epoch(train_acc, val_acc, self.epoch + 1))
        score = val_acc if math.isfinite(val_acc) else -1.0
        improved = score > self.best_acc or self.best_acc < 0
        self.best_acc = max(self.best_acc, score)
        counters = {**self._counters(), "val_acc": json_number(val_acc)}
        for kind in ("last", "best") if improved else ("last",):
            ck = self._save(kind, self.t.model.state_dict(), self.t.optimizer if kind == "last" else None, counters)
            if ck is not None:
                yield ck
        failed = {**self.t.train_set.failed, **self.t.val_set.failed}
        if len(failed) > self.failed_reported:
            why = list(failed.values())[-1]
            yield NoteEvent(f"{len(failed)} image(s) failed to decode and were replaced by others (latest: {why})")
            self.failed_reported = len(failed)

    def _save(self, kind: str, weights: Mapping[str, torch.Tensor], optimizer: Any, counters: dict[str, Any]):
        return self.ckpt.save(kind, self.spec, weights, optimizer, counters)

    def _finish(self) -> Iterator[TrainEvent]:
        """A stop keeps the current weights, a NaN the last good ones; then the final report. The last
        checkpoint is written before the StoppedEvent: a consumer that goes away at that event (a closed
        generator, a training process whose parent died) still leaves it behind."""
        if self.reason == "stopped":
            ck = self._save("last", self.t.model.state_dict(), self.t.optimizer, self._counters())
            if ck is not None:
                yield ck
        elif self.reason == "nan":
            yield from self._hint(self.monitor.step(self.step + 1, math.nan))
            e, b = divmod(self.good_step, self.spe)
            counters = {"epoch": e, "batch": b, "step": self.good_step, "best_acc": self.best_acc}
            ck = self._save("last", self.good, None, counters)  # the optimizer state may hold the NaNs: not kept
            if ck is not None:
                yield ck
        else:
            self.message = f"finished {self.step} steps ({self.step / self.spe:.3g} epochs)"
        if self.ctx.enabled:
            self.log.doc["world_size"] = self.ctx.world_size
            self.log.doc["rank_steps"] = self.ctx.all_gather_int(self.steps_run)
            self.message += f" on {self.ctx.world_size} processes"
        self.log.doc["result"] = {"reason": self.reason, "message": self.message, "step": self.step}
        yield StoppedEvent(self.reason, self.message)
        if self.interrupter is not None:
            self.interrupter.close()  # the model the DoneEvent hands out carries no hooks of this run
        if self.conf is None or self.conf_step != self.step or self.reason == "nan":
            _, self.conf = self.t.evaluate()
        pca = per_class_accuracy(self.conf)
        val_acc = accuracy_from_confusion(self.conf)
        self.log.doc["result"].update({"val_acc": json_number(val_acc), "confusion": self.conf.tolist(),
                                       "per_class_acc": [json_number(a) for a in pca], "classes": self.data.classes})
        self.log.flush()
        self.t.model.eval()
        yield DoneEvent(self.t.model, list(self.data.classes), self.conf, pca, self.spec, val_acc, str(self.device),
                        self.ckpt.wrote("best"), self.ckpt.wrote("last"))

    # ---- feature maps ----------------------------------------------------------------------------
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
        x = self.t.eval_tf(img).unsqueeze(0).to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.t.channels_last else x

    def _features(self) -> FeatureMapEvent | None:
        if not self.ctx.is_main or self.probe is None:
            return None
        t = self.feature_target
        path = t() if callable(t) else t
        if not path:
            return None
        got = probe_feature_maps(self.t.model, path, self.probe)
        if got is None:
            return None
        maps, channels = got
        return FeatureMapEvent(path, maps, self.step, channels)

