"""Engine work that shares the GUI's process without holding it up: a model copy that pauses for the GUI
thread, and a time estimate that stops when a run starts."""
from __future__ import annotations

import copy

import torch

from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.engine import train as T
from inception_studio.engine.building import copy_model
from inception_studio.engine.training.setup import prepare_spec


def _small():
    return prepare_spec(get_spec("googlenet"), 4, 0.125, 48)[0]


def test_copy_model_is_a_deep_copy():
    model = build_model(_small()).eval()
    twin = copy_model(model, every_s=0.0)  # pause after every piece: the copy is still whole
    x = torch.randn(2, 3, 48, 48)
    assert type(twin) is type(model) and twin.spec == model.spec
    assert list(dict(twin.named_modules())) == list(dict(model.named_modules()))
    assert torch.equal(twin(x), model(x)) and torch.equal(twin(x), copy.deepcopy(model)(x))
    for a, b in zip(twin.parameters(), model.parameters(), strict=True):
        assert a.data_ptr() != b.data_ptr()
    with torch.no_grad():
        next(twin.parameters()).add_(1.0)
    assert not torch.equal(next(twin.parameters()), next(model.parameters()))
    shared = torch.nn.Linear(3, 3)
    tied = copy_model(torch.nn.Sequential(shared, torch.nn.ReLU(), shared))
    assert tied[0] is tied[2] and tied[0] is not shared  # shared parameters stay shared, as with deepcopy


def test_the_time_estimate_stops_when_asked():
    spec, cfg = get_spec("googlenet"), T.TrainConfig(batch_size=4, width_mult=0.125, image_size=48)
    calls = []

    def stop_after_first_step() -> bool:
        calls.append(1)
        return len(calls) > 1
    assert T.estimate_epoch(spec, cfg, 40, 4, should_stop=stop_after_first_step) is None
    assert len(calls) == 2  # checked before each step: one step ran
    per_epoch, steps, per_step = T.estimate_epoch(spec, cfg, 40, 4)
    assert steps == 10 and per_step > 0 and per_epoch == per_step * steps


def test_a_trained_model_is_exported_in_the_training_process_and_only_opened_by_the_window(tmp_path, monkeypatch):
    """The child exports what the GUI's Predictor will look for: the GUI opens that file and traces nothing."""
    import numpy as np

    from inception_studio.engine import export as E
    from inception_studio.engine.building import BuiltModel
    from inception_studio.engine.infer import Predictor
    from inception_studio.engine.training import remote

    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    spec = _small()
    model = build_model(spec)
    with torch.no_grad():  # trained-looking batch norms: folding them changes the weights
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    done = T.DoneEvent(model, ["a", "b", "c", "d"], np.zeros((4, 4), dtype=np.int64), [0.0] * 4, spec=spec)
    remote.prepare_for_inference(done)  # in the child
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # its weights are sent unchanged
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 1

    back = remote.load_done(remote.RemoteDone(T.DoneEvent(None, done.class_names, done.confusion, done.per_class_acc,
                                                          spec=spec), remote.save_weights(model)))
    exports = []
    monkeypatch.setattr(E, "export_onnx", lambda *a, **k: exports.append(a))
    p = Predictor(BuiltModel(back.model, spec, done.class_names, "cpu", "trained: m.safetensors"))
    assert p.backend == "onnxruntime" and not exports
    x = torch.randn(3, 3, 48, 48)
    assert torch.allclose(p.forward(x), model(x), atol=1e-4)
