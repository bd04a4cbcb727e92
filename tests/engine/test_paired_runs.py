"""engine.paired_runs: the same tiny model trained twice, differing only in the idea compared."""
from __future__ import annotations

import pytest

from inception_studio.core.presets import get_spec
from inception_studio.engine.data import make_demo_folder
from inception_studio.engine.paired_runs import PairEvent, pair_config, pair_image_size, pair_specs, paired_runs
from inception_studio.engine.train import StepEvent
from inception_studio.errors import StudioError


def drain(gen):
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        return events, stop.value


def test_pair_specs_differ_only_in_the_idea():
    (la, a), (lb, b) = pair_specs(get_spec("inception_resnet_v1"), "residual_scale")
    assert (la, lb) == ("residual scale 0.2", "residual scale 1.0")
    scales = lambda s: {blk.scale for _st, _i, blk in s.iter_blocks() if blk.kind == "residual"}  # noqa: E731
    assert scales(a) == {0.2} and scales(b) == {1.0}
    (_, with_aux), (_, without) = pair_specs(get_spec("inception_v3"), "aux")
    assert with_aux.aux_enabled and not without.aux_enabled
    assert pair_image_size(get_spec("inception_v3"), "aux") >= 299  # its aux head needs a 17x17 grid
    with pytest.raises(StudioError, match="no auxiliary classifiers"):
        pair_specs(get_spec("inception_v4"), "aux")
    with pytest.raises(StudioError, match="no residual blocks"):
        pair_specs(get_spec("googlenet"), "residual_scale")


def test_aux_pair_trains_both_and_returns_main_and_aux_curves(tmp_path):
    root = make_demo_folder(tmp_path / "demo", per_class=6, size=32)
    spec = get_spec("googlenet")
    cfg = pair_config(spec, "aux", epochs=1, max_steps=2, batch_size=6, image_size=32, width_mult=0.125)
    events, result = drain(paired_runs(spec, "aux", root, cfg))
    assert all(isinstance(e, PairEvent) for e in events)
    assert {e.run for e in events} == {0, 1}
    with_aux, without = result.curves
    assert (with_aux.label, without.label) == ("with aux heads", "without aux heads")
    assert with_aux.steps == without.steps == [1, 2]
    assert all(a is not None and a > 0 for a in with_aux.aux_loss)
    assert all(a is None for a in without.aux_loss)
    # the total is the main loss plus the weighted aux losses
    assert with_aux.loss[0] == pytest.approx(with_aux.main_loss[0] + with_aux.aux_loss[0], rel=1e-4)
    assert with_aux.stopped == without.stopped == "finished"
    assert not list(tmp_path.glob("**/*.safetensors"))  # a comparison writes no checkpoints


def test_stopping_during_the_first_run_skips_the_second(tmp_path):
    root = make_demo_folder(tmp_path / "demo", per_class=6, size=32)
    spec = get_spec("googlenet")
    cfg = pair_config(spec, "aux", epochs=1, max_steps=4, batch_size=6, image_size=32, width_mult=0.125)
    stop: list[bool] = []
    gen = paired_runs(spec, "aux", root, cfg, should_stop=lambda: bool(stop))
    events = []
    try:
        while True:
            events.append(next(gen))
            if isinstance(events[-1].event, StepEvent):
                stop.append(True)  # asked to stop after the first step
    except StopIteration as done:
        result = done.value
    assert {e.run for e in events} == {0}
    assert result.curves[0].stopped == "stopped" and len(result.curves[0].steps) == 1
    assert result.curves[1].stopped == "stopped" and result.curves[1].steps == []
