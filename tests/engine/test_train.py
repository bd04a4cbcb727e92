"""engine.train: a tiny model learns the demo data; pause, stop, resume; the NaN guard; checkpoints; CLI."""
from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from inception_studio import cli
from inception_studio.core.build import build_model
from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec
from inception_studio.core.weights import load_checkpoint
from inception_studio.engine import train as T
from inception_studio.engine.data import make_demo_folder
from inception_studio.errors import SpecError, StudioError

TINY = dict(width_mult=0.125, image_size=48, batch_size=8)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """16 images per demo class at 40 px: 52 train / 12 validation images."""
    return make_demo_folder(tmp_path_factory.mktemp("demo16"), per_class=16, size=40)


def run_all(*args, **kw) -> list:
    """Every event of one training run."""
    return list(T.train(*args, **kw))


def of(events: list, cls) -> list:
    return [e for e in events if isinstance(e, cls)]


def finite_weights(sd: dict[str, torch.Tensor]) -> bool:
    return all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point())


# ---------------------------------------------------------------------------------------- learning
def test_tiny_model_learns_the_demo_data(tmp_path):
    root = make_demo_folder(tmp_path / "demo", per_class=100, size=48)
    cfg = T.recipe_defaults("adamw", epochs=12, batch_size=32, width_mult=0.25, image_size=48, lr=3e-3,
                            crop_scale=(0.5, 1.0))
    events = run_all(cfg, get_spec("googlenet"), root)
    start = of(events, T.StartEvent)[0]
    assert start.class_names == ["circle", "square", "stripes", "triangle"]
    assert (start.train_count, start.val_count) == (320, 80)
    epochs = of(events, T.EpochEvent)
    assert [e.epoch for e in epochs] == list(range(1, 13))
    chance = 1 / 4
    assert epochs[-1].val_acc >= chance + 0.15, [round(e.val_acc, 2) for e in epochs]
    assert epochs[-1].val_loss < math.log(4)  # below the loss of guessing uniformly
    steps = of(events, T.StepEvent)
    assert np.mean([s.main_loss for s in steps[-10:]]) < np.mean([s.main_loss for s in steps[:10]])
    done = of(events, T.DoneEvent)[0]
    assert done.confusion.shape == (4, 4) and done.confusion.sum() == 80
    assert done.val_acc == pytest.approx(np.trace(done.confusion) / 80)
    assert len(done.per_class_acc) == 4 and not done.model.training


def test_cpu_runs_train_channels_last_and_hand_out_plain_weights(tiny_data, tmp_path):
    """On the CPU the engine keeps activations channels-last (faster in oneDNN); the run learns the same as in
    NCHW order, and its checkpoint is ordinary weights: a model built afresh gives the trained model's logits."""
    base = T.recipe_defaults("googlenet", epochs=1, max_steps=3, augment=False, device="cpu", **TINY)
    runs = {}
    for nhwc in (True, False):
        out = tmp_path / f"nhwc-{nhwc}.safetensors"
        runs[nhwc] = (run_all(replace(base, channels_last=nhwc, out=str(out)), get_spec("googlenet"), tiny_data), out)
    events, out = runs[True]
    done = of(events, T.DoneEvent)[0]
    conv = next(m for m in done.model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    plain = of(runs[False][0], T.DoneEvent)[0]
    assert not next(m for m in plain.model.modules() if isinstance(m, torch.nn.Conv2d)
                    and m.kernel_size != (1, 1)).weight.is_contiguous(memory_format=torch.channels_last)
    losses = [[s.loss for s in of(runs[k][0], T.StepEvent)] for k in (True, False)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-3)  # the same steps, up to the kernels' rounding
    ck = load_checkpoint(out)
    fresh = build_model(ck.spec)
    fresh.load_state_dict(ck.state_dict)
    fresh.eval()
    x = torch.rand(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(fresh(x), done.model(x.contiguous(memory_format=torch.channels_last)), atol=1e-5)


def test_step_events_report_losses_rate_and_eta(tiny_data):
    events = run_all(T.recipe_defaults("googlenet", epochs=2, **TINY), get_spec("googlenet"), tiny_data)
    steps = of(events, T.StepEvent)
    start = of(events, T.StartEvent)[0]
    assert start.spec.aux_enabled and start.spec.num_classes == 4 and start.spec.input_size == 48
    assert [s.step for s in steps] == list(range(1, start.total_steps + 1))  # every step on CPU
    for s in steps:
        assert s.aux_loss is not None and s.loss == pytest.approx(s.main_loss + s.aux_loss, rel=1e-5)
        assert s.lr == pytest.approx(0.01) and s.total_steps == start.total_steps
    assert steps[-1].images_per_s > 0 and steps[-1].eta_s == pytest.approx(0, abs=1e-6)
    assert of(events, T.StoppedEvent)[0].reason == "finished"


# ------------------------------------------------------------------------------- recipes and spec
def test_recipe_defaults_follow_the_papers():
    v3 = T.recipe_defaults("inception_v3")
    assert (v3.optimizer, v3.rmsprop_decay, v3.rmsprop_eps, v3.lr) == ("rmsprop", 0.9, 1.0, 0.045)
    assert (v3.label_smoothing, v3.grad_clip, v3.step_gamma, v3.step_epochs) == (0.1, 2.0, 0.94, 2)
    assert T.lr_at(v3, 0, 10) == pytest.approx(0.045)
    assert T.lr_at(v3, 19, 10) == pytest.approx(0.045)  # still epoch 1
    assert T.lr_at(v3, 20, 10) == pytest.approx(0.045 * 0.94)  # x0.94 every 2 epochs
    g = T.recipe_defaults("googlenet")
    assert (g.optimizer, g.momentum, g.step_gamma, g.step_epochs) == ("sgd", 0.9, 0.96, 8)
    a = T.recipe_defaults("adamw", epochs=4)
    assert T.lr_at(a, 40, 10) == pytest.approx(0.0, abs=1e-12) and T.lr_at(a, 20, 10) == pytest.approx(a.lr / 2)
    opt = T.make_optimizer(v3, build_model(T.prepare_spec(get_spec("nin"), 3, 0.125, 64)[0]))
    assert isinstance(opt, torch.optim.RMSprop)
    assert opt.defaults["alpha"] == 0.9 and opt.defaults["eps"] == 1.0
    with pytest.raises(StudioError, match="recipe"):
        T.recipe_defaults("resnet")


@pytest.mark.parametrize("field,value", [("lr", -1.0), ("epochs", 0), ("optimizer", "lbfgs"),
                                         ("label_smoothing", 1.5), ("crop_scale", (0.9, 0.1))])
def test_bad_settings_are_refused_naming_the_field(field, value, tiny_data):
    cfg = T.recipe_defaults("googlenet", **{field: value})
    with pytest.raises(StudioError, match=field):
        next(T.train(cfg, get_spec("googlenet"), tiny_data))


def test_prepare_spec_sets_classes_width_size_and_drops_aux_when_too_small():
    spec, notes = T.prepare_spec(get_spec("inception_v3"), 5, width_mult=0.25, image_size=96)
    assert (spec.num_classes, spec.input_size, spec.width_mult, spec.aux_enabled) == (5, 96, 0.25, False)
    assert notes and "aux heads off" in notes[0] and "299" in notes[0]
    g, notes = T.prepare_spec(get_spec("googlenet"), 4, image_size=64)
    assert g.aux_enabled and not notes  # GoogLeNet's aux heads fit at 64 px
    with pytest.raises(SpecError, match="at least 75 px"):
        T.prepare_spec(get_spec("inception_v3"), 5, image_size=40)
    assert T.small_image_size(get_spec("inception_v3")) == 96


# ------------------------------------------------------------------------------------------- data
def test_unreadable_files_are_skipped_counted_and_listed(tmp_path):
    root = make_demo_folder(tmp_path / "d", per_class=6, size=32)
    (root / "circle" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "square" / "notes.txt").write_text("not an image")
    data = T.prepare_data(root, val_fraction=0.25)
    assert len(data.skipped) == 2
    assert {Path(p).name for p, _ in data.skipped} == {"broken.png", "notes.txt"}
    assert all(reason for _, reason in data.skipped)
    assert data.counts == {"circle": 6, "square": 6, "stripes": 6, "triangle": 6}
    events = run_all(T.recipe_defaults("googlenet", epochs=1, **TINY), get_spec("googlenet"), data)
    assert any("2 file(s) skipped" in n.message for n in of(events, T.NoteEvent))
    assert of(events, T.StoppedEvent)[0].reason == "finished"


def test_a_folder_without_classes_is_a_one_line_data_error(tmp_path):
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "a.txt").write_text("x")
    with pytest.raises(StudioError) as info:
        T.prepare_data(tmp_path)
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


# ---------------------------------------------------------------------- pause, stop, resume, NaN
def _drive(gen, q: queue.Queue) -> None:
    for ev in gen:
        q.put(ev)
    q.put(None)


def _next_of(q: queue.Queue, cls, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        ev = q.get(timeout=max(0.01, deadline - time.monotonic()))
        if ev is None:
            raise AssertionError(f"run ended before a {cls.__name__}")
        if isinstance(ev, cls):
            return ev


def test_pause_holds_training_and_resume_continues(tiny_data):
    paused, stop = threading.Event(), threading.Event()
    cfg = T.recipe_defaults("googlenet", epochs=3, **TINY)
    gen = T.train(cfg, get_spec("googlenet"), tiny_data, should_stop=stop.is_set, should_pause=paused.is_set)
    q: queue.Queue = queue.Queue()
    thread = threading.Thread(target=_drive, args=(gen, q), daemon=True)
    thread.start()
    first = _next_of(q, T.StepEvent)
    paused.set()
    assert _next_of(q, T.PausedEvent).paused is True
    time.sleep(0.4)
    held = []
    while not q.empty():
        held.append(q.get())
    assert not of(held, T.StepEvent), "no step may run while paused"
    paused.clear()
    assert _next_of(q, T.PausedEvent).paused is False
    later = _next_of(q, T.StepEvent)
    assert later.step > first.step
    stop.set()
    assert _next_of(q, T.StoppedEvent).reason == "stopped"
    thread.join(30)


def test_stop_keeps_weights_and_resume_continues_from_the_same_step(tiny_data, tmp_path):
    out = tmp_path / "run" / "model.safetensors"
    cfg = T.recipe_defaults("inception_v3", epochs=3, out=str(out), **TINY)
    stop = {"now": False}
    events = []
    for ev in T.train(cfg, get_spec("googlenet"), tiny_data, should_stop=lambda: stop["now"]):
        events.append(ev)
        if isinstance(ev, T.StepEvent) and ev.step == 8:  # epoch 2, mid-way (6 steps per epoch)
            stop["now"] = True
    stopped = of(events, T.StoppedEvent)[0]
    assert stopped.reason == "stopped" and "step 8" in stopped.message
    done = of(events, T.DoneEvent)[0]
    ck = load_checkpoint(out)  # atomically written, loadable, with classes and the trained spec
    assert ck.class_names == ["circle", "square", "stripes", "triangle"] and ck.spec.num_classes == 4
    for k, v in done.model.state_dict().items():
        assert torch.equal(v.cpu(), ck.state_dict[k]), k
    assert T.best_path(out).is_file() and T.state_path(out).is_file()

    state = T.load_resume(out)
    assert (state.step, state.epoch, state.batch) == (8, 1, 2) and not state.note
    n_params = sum(1 for _ in build_model(ck.spec).parameters())
    assert len(state.optimizer["state"]) == n_params
    assert all("square_avg" in s for s in state.optimizer["state"].values())  # RMSProp's state came back
    resumed = run_all(cfg, state.spec, tiny_data, init_state=state)
    start = of(resumed, T.StartEvent)[0]
    assert (start.init, start.start_step, start.start_epoch) == ("resume", 8, 1)
    steps = of(resumed, T.StepEvent)
    assert [s.step for s in steps] == list(range(9, 19))
    assert steps[0].lr == pytest.approx(T.lr_at(cfg, 8, 6))
    assert [e.epoch for e in of(resumed, T.EpochEvent)] == [2, 3]
    assert of(resumed, T.StoppedEvent)[0].reason == "finished"


def test_resume_needs_the_same_classes(tiny_data, tmp_path):
    out = tmp_path / "m.safetensors"
    run_all(T.recipe_defaults("googlenet", epochs=1, out=str(out), **TINY), get_spec("googlenet"), tiny_data)
    other = make_demo_folder(tmp_path / "other", per_class=4, size=32)
    (other / "triangle").rename(other / "hexagon")
    state = T.load_resume(out)
    with pytest.raises(StudioError, match="classes"):
        run_all(T.recipe_defaults("googlenet", epochs=2, **TINY), state.spec, other, init_state=state)


def test_a_non_finite_loss_stops_and_keeps_the_last_good_weights(tiny_data, tmp_path):
    out = tmp_path / "nan" / "m.safetensors"
    cfg = T.recipe_defaults("googlenet", epochs=3, lr=1e8, out=str(out), **TINY)
    events = run_all(cfg, get_spec("googlenet"), tiny_data)
    stopped = of(events, T.StoppedEvent)[0]
    assert stopped.reason == "nan"
    assert "learning rate" in stopped.message and "\n" not in stopped.message
    assert len(of(events, T.StepEvent)) < 18  # it did not run to the end
    done = of(events, T.DoneEvent)[0]
    assert finite_weights(done.model.state_dict())
    assert finite_weights(load_checkpoint(out).state_dict)
    assert T.load_resume(out).optimizer is None  # a poisoned optimizer state is not kept


def test_fine_tuning_carries_over_blocks_and_reinitialises_the_classifier(tiny_data):
    spec = T.prepare_spec(replace(get_spec("googlenet"), aux_enabled=False), 10, 0.125, 48)[0]
    source = build_model(spec)
    cfg = T.recipe_defaults("googlenet", epochs=1, **TINY)
    events = run_all(cfg, spec, tiny_data, init_state=source.state_dict())
    start = of(events, T.StartEvent)[0]
    assert start.init == "fine-tune" and start.reinitialised == ["head"]
    scratch = of(run_all(cfg, spec, tiny_data), T.StartEvent)[0]
    assert scratch.init == "scratch" and scratch.reinitialised == []


def test_feature_maps_of_the_selected_node_arrive_every_n_steps(tiny_data):
    spec = T.prepare_spec(get_spec("googlenet"), 4, 0.125, 48)[0]
    graph = build_graph(spec)
    node = graph.nodes["b:" + spec.stages[0].blocks[0].name]
    cfg = T.recipe_defaults("googlenet", epochs=1, feature_every=2, **TINY)
    events = run_all(cfg, spec, tiny_data, feature_target=lambda: node.module)
    maps = of(events, T.FeatureMapEvent)
    assert [m.step for m in maps] == [0, 2, 4, 6]
    c, h, w = node.shape
    assert maps[0].node_module == node.module and maps[0].channels == c
    assert maps[0].maps.shape == (min(c, 16), h, w) and maps[0].maps.dtype == np.float32
    assert not np.allclose(maps[0].maps, maps[-1].maps)  # the filters changed while training
    none = run_all(cfg, spec, tiny_data, feature_target=lambda: "no.such.module")
    assert not of(none, T.FeatureMapEvent)


# ------------------------------------------------------------------------------------------- CLI
def test_cli_train_writes_checkpoints_and_a_json_log(tiny_data, tmp_path, capsys):
    out, log = tmp_path / "cli" / "m.safetensors", tmp_path / "cli" / "log.json"
    rc = cli.main(["train", "--data", str(tiny_data), "--variant", "googlenet", "--width-mult", "0.125",
                   "--image-size", "48", "--epochs", "2", "--batch-size", "8", "--optimizer", "adamw",
                   "--out", str(out), "--log-json", str(log), "--tensorboard", str(tmp_path / "tb")])
    text = capsys.readouterr()
    assert rc == 0, text.err
    assert "epoch 2/2" in text.out and "val acc" in text.out
    import json
    doc = json.loads(log.read_text())
    assert doc["config"]["optimizer"] == "adamw" and len(doc["epochs"]) == 2
    assert doc["result"]["reason"] == "finished" and len(doc["result"]["confusion"]) == 4
    assert load_checkpoint(out).metadata["step"] == 12
    rc = cli.main(["train", "--data", str(tiny_data), "--resume", str(out), "--epochs", "3", "--batch-size", "8",
                   "--out", str(out)])
    assert rc == 0 and "epoch 3/3" in capsys.readouterr().out
    assert load_checkpoint(out).metadata["step"] == 18


def test_cli_train_errors_are_one_line(tmp_path, tiny_data, capsys):
    rc = cli.main(["train", "--data", str(tmp_path / "missing"), "--variant", "googlenet", "--out", "x.safetensors"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0 and "missing" in err
    rc = cli.main(["train", "--data", str(tiny_data), "--variant", "googlenet", "--width-mult", "0.125",
                   "--image-size", "48", "--batch-size", "8", "--lr", "1e8", "--out", str(tmp_path / "n.safetensors")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "loss became" in err[-1]


def test_demo_source_is_recognised_and_its_preset_is_quick(tmp_path, monkeypatch):
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    assert T.is_demo_source("demo") and T.is_demo_source(" Demo ")
    assert not T.is_demo_source(tmp_path)
    assert not (tmp_path / "cache").exists()  # asking does not create the demo set
    assert T.is_demo_source(T.resolve_data_root("demo"))
    cfg, why = T.default_config(T.prepare_data("demo"), get_spec("googlenet"), device="cpu")
    assert cfg.recipe == "auto" and cfg.optimizer == "adamw" and cfg.schedule == "onecycle"
    assert cfg.crop_scale == (0.5, 1.0) and "240 images" not in why and "4 classes" in why
    cfg.validate()


def test_an_image_that_breaks_during_training_is_replaced_and_reported(tiny_data, tmp_path):
    data = T.prepare_data(tiny_data)
    bad = tmp_path / "gone_bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # passed the scan once, unreadable now
    data.train.append((str(bad), 0))
    events = run_all(T.recipe_defaults("googlenet", epochs=1, **TINY), get_spec("googlenet"), data)
    notes = [n.message for n in of(events, T.NoteEvent)]
    assert any("failed to decode" in n and "gone_bad.png" in n for n in notes), notes
    assert of(events, T.StoppedEvent)[0].reason == "finished"
