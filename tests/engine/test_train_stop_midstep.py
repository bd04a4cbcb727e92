"""A stop acts inside a step: the step in progress (forward or backward) or the validation is abandoned,
nothing of it is kept, the last checkpoint resumes from the right step, and a run without a stop is
unchanged by the interrupt points (engine.training.interrupt)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from inception_studio.core.presets import get_spec
from inception_studio.core.weights import load_checkpoint
from inception_studio.engine import train as T
from inception_studio.engine.data import make_demo_folder
from inception_studio.engine.training import loop, setup

TINY = dict(width_mult=0.125, image_size=48, batch_size=8)  # 52 train images: 6 steps per epoch
STOP_AFTER = 7  # completed steps before the stop: the 8th is abandoned (epoch 2, batch 2)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """16 images per demo class at 40 px: 52 train / 12 validation images."""
    return make_demo_folder(tmp_path_factory.mktemp("demo_stop"), per_class=16, size=40)


@pytest.fixture
def built(monkeypatch) -> list[torch.nn.Module]:
    """The models the runs build, in order (to place the test's own hooks on them)."""
    models: list[torch.nn.Module] = []
    real = setup.build_model

    def keep(spec, *args, **kw):
        models.append(real(spec, *args, **kw))
        return models[-1]

    monkeypatch.setattr(setup, "build_model", keep)
    return models


def of(events: list, cls) -> list:
    return [e for e in events if isinstance(e, cls)]


def blocks(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [b for stage in model.stages.values() for b in stage]


def state(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in sd.items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def stopped_run(cfg, data, models, arm) -> list:
    """A run whose stop is set by ``arm(model, flag)`` once step STOP_AFTER has completed."""
    flag = {"on": False}
    events = []
    for ev in T.train(cfg, get_spec("googlenet"), data, should_stop=lambda: flag["on"]):
        events.append(ev)
        if isinstance(ev, T.StepEvent) and ev.step == STOP_AFTER:
            arm(models[-1], flag)
    return events


def stop_before_next_step(_model, flag) -> None:
    flag["on"] = True


def stop_in_forward(seen: dict):
    """Set the stop from a forward hook of a middle block during the next training step."""
    def arm(model, flag) -> None:
        def hook(module, _inputs, _out) -> None:
            if module.training and not flag["on"]:
                seen["during"] = state(model.state_dict())
                flag["on"] = True
        blocks(model)[len(blocks(model)) // 2].register_forward_hook(hook)
    return arm


def stop_in_backward(seen: dict):
    """Set the stop when the gradient of a middle block's output arrives during the next backward pass."""
    def arm(model, flag) -> None:
        def hook(module, _inputs, out) -> None:
            if module.training and not flag["on"] and "during" not in seen:
                seen["during"] = state(model.state_dict())
                out.register_hook(lambda _g: flag.update(on=True))
        blocks(model)[len(blocks(model)) // 2].register_forward_hook(hook)
    return arm


@pytest.mark.parametrize("where", [stop_in_forward, stop_in_backward])
def test_a_stop_inside_a_step_drops_that_step_and_resumes_from_it(where, tiny_data, tmp_path, built):
    cfg = T.recipe_defaults("inception_v3", epochs=2, **TINY)  # RMSProp: its state must not move either
    ref_out, out = tmp_path / "ref" / "m.safetensors", tmp_path / "mid" / "m.safetensors"
    ref = stopped_run(replace(cfg, out=str(ref_out)), tiny_data, built, stop_before_next_step)
    seen: dict = {}
    mid = stopped_run(replace(cfg, out=str(out)), tiny_data, built, where(seen))
    assert "during" in seen, "the stop was set inside the step"
    for events in (ref, mid):
        assert [s.step for s in of(events, T.StepEvent)][-1] == STOP_AFTER
        stopped = of(events, T.StoppedEvent)[0]
        assert stopped.reason == "stopped" and stopped.message == f"stopped at step {STOP_AFTER} (epoch 2)"
    want = state(of(ref, T.DoneEvent)[0].model.state_dict())
    assert_same(state(of(mid, T.DoneEvent)[0].model.state_dict()), want)
    assert_same(load_checkpoint(out).state_dict, want)
    moved = [k for k in want if k.endswith("running_mean") and not torch.equal(seen["during"][k], want[k])]
    assert moved, "the abandoned forward pass had moved batch-norm statistics: they were put back"

    state_mid, state_ref = T.load_resume(out), T.load_resume(ref_out)
    assert (state_mid.step, state_mid.epoch, state_mid.batch) == (STOP_AFTER, 1, 1) and not state_mid.note
    resumed = list(T.train(cfg, state_mid.spec, tiny_data, init_state=state_mid))
    start = of(resumed, T.StartEvent)[0]
    assert (start.init, start.start_step, start.start_epoch) == ("resume", STOP_AFTER, 1)
    steps = of(resumed, T.StepEvent)
    assert [s.step for s in steps] == list(range(STOP_AFTER + 1, 13))
    assert steps[0].lr == pytest.approx(T.lr_at(cfg, STOP_AFTER, 6))
    again = list(T.train(cfg, state_ref.spec, tiny_data, init_state=state_ref))
    assert_same(state(of(resumed, T.DoneEvent)[0].model.state_dict()),  # as if the dropped step never began
                state(of(again, T.DoneEvent)[0].model.state_dict()))


def test_a_run_without_a_stop_is_unchanged_by_the_interrupt_points(tiny_data, built, monkeypatch):
    cfg = T.recipe_defaults("adamw", epochs=1, **TINY)
    hooked: list[int] = []
    events = []
    for ev in T.train(cfg, get_spec("googlenet"), tiny_data):
        events.append(ev)
        if isinstance(ev, T.StepEvent):
            hooked.append(min(len(b._forward_hooks) for b in blocks(built[-1])))
    assert hooked and min(hooked) == 1  # every block checked for a stop during the run...
    assert all(not b._forward_hooks for b in blocks(built[-1]))  # ...and nothing left behind
    monkeypatch.setattr(loop, "StepInterrupter", lambda *_a, **_k: None)  # the loop as without them
    plain = list(T.train(cfg, get_spec("googlenet"), tiny_data))
    assert [s.loss for s in of(events, T.StepEvent)] == [s.loss for s in of(plain, T.StepEvent)]
    assert_same(state(of(events, T.DoneEvent)[0].model.state_dict()),
                state(of(plain, T.DoneEvent)[0].model.state_dict()))


@pytest.mark.parametrize("at", ["block", "between batches"])
def test_a_stop_during_validation_ends_it_early_as_a_stop(at, tiny_data, tmp_path, built):
    out = tmp_path / "m.safetensors"
    cfg = T.recipe_defaults("googlenet", epochs=3, out=str(out), **TINY)
    flag = {"on": False}
    head_runs: list[int] = []

    def armed(model) -> None:
        trip = blocks(model)[len(blocks(model)) // 2] if at == "block" else model.head

        def hook(module, _inputs, _out) -> None:
            if not module.training:
                flag["on"] = True
        trip.register_forward_hook(hook)
        model.head.register_forward_hook(lambda m, _i, _o: head_runs.append(int(not m.training)))

    events, head_before_stop = [], None
    for ev in T.train(cfg, get_spec("googlenet"), tiny_data, should_stop=lambda: flag["on"]):
        events.append(ev)
        if isinstance(ev, T.StepEvent) and ev.step == 1:
            armed(built[-1])
        if isinstance(ev, T.StoppedEvent):
            head_before_stop = sum(head_runs)
    stopped = of(events, T.StoppedEvent)[0]
    assert stopped.reason == "stopped" and stopped.message == "stopped at step 6 (epoch 1) during its validation"
    assert not of(events, T.EpochEvent) and of(events, T.StepEvent)[-1].step == 6
    assert head_before_stop == (0 if at == "block" else 1)  # 2 validation batches: it ended after 0 or 1
    assert [c.kind for c in of(events, T.CheckpointEvent)] == ["last"]  # no best from a partial validation
    assert not T.best_path(out).exists()
    assert of(events, T.DoneEvent)[0].confusion.sum() == 12  # the final report validates in full

    resume = T.load_resume(out)
    assert (resume.step, resume.epoch, resume.batch) == (6, 1, 0)
    resumed = list(T.train(replace(cfg, epochs=2, out=None), resume.spec, tiny_data, init_state=resume))
    assert [s.step for s in of(resumed, T.StepEvent)] == list(range(7, 13))
    assert [e.epoch for e in of(resumed, T.EpochEvent)] == [2]


def test_a_classifier_only_run_stops_inside_the_feature_pass_and_without_the_speed_note(tiny_data, built):
    cfg = T.recipe_defaults("adamw", epochs=3, train_part="classifier", **TINY)
    T.clear_feature_cache()
    flag = {"on": False}
    last_block: list[int] = []

    def trip(_module, _inputs, _out) -> None:
        flag["on"] = True
    runs = T.train(cfg, get_spec("googlenet"), tiny_data, should_stop=lambda: flag["on"])
    events = []
    for ev in runs:
        events.append(ev)
        if isinstance(ev, T.StartEvent):
            bs = blocks(built[-1])
            bs[len(bs) // 2].register_forward_hook(trip)
            bs[-1].register_forward_hook(lambda *_a: last_block.append(1))
    assert of(events, T.StoppedEvent)[0].message == "stopped while computing the features"
    assert not last_block  # the first batch ended at the block after the stop
    assert sum(len(b._forward_hooks) for b in blocks(built[-1])) == 2  # the test's own: the run's are gone

    T.clear_feature_cache()
    flag["on"] = False
    events = []
    for ev in T.train(cfg, get_spec("googlenet"), tiny_data, should_stop=lambda: flag["on"]):
        events.append(ev)
        if isinstance(ev, T.StepEvent) and ev.step == 2:
            flag["on"] = True
    assert of(events, T.StoppedEvent)[0].message == "stopped at step 2 (epoch 1)"
    assert not any("faster" in n.message for n in of(events, T.NoteEvent))  # no whole-network timing after a stop
