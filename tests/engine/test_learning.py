"""Training that learns the user's small data: the small-data recipe, the lr finder, health hints,
classifier-only and last-stage training (frozen weights untouched), the one-cycle schedule."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from benchmarks.datasets import digits_folder
from inception_studio.core.presets import get_spec
from inception_studio.engine import train as T
from inception_studio.engine.training.auto import DataProfile
from inception_studio.engine.training.health import LearningMonitor
from inception_studio.errors import StudioError


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> T.TrainData:
    """A real small data set: 30 handwritten scans per digit (UCI digits), 32 px grayscale."""
    return T.prepare_data(digits_folder(tmp_path_factory.mktemp("digits"), size=32, per_class=30))


def of(events: list, cls) -> list:
    return [e for e in events if isinstance(e, cls)]


def _tiny(digits, **kw) -> T.TrainConfig:
    """The default recipe for the digits on a tiny GoogLeNet (x0.125 at 32 px), ``kw`` on top."""
    kw = {"width_mult": 0.125, "image_size": 32, "batch_size": 16, **kw}
    cfg, _ = T.default_config(digits, get_spec("googlenet"), device="cpu", **kw)
    return cfg


@pytest.fixture(scope="module")
def fitted(digits) -> T.FitResult:
    """The default recipe's run on the digits, 10 epochs (120 steps; about 10 s on 2 idle cores)."""
    return T.fit(get_spec("googlenet"), digits, _tiny(digits, epochs=10))


# ---------------------------------------------------------------------------------- the recipe
def test_default_recipe_learns_handwritten_digits_well_above_chance(digits, fitted):
    _, why = T.default_config(digits, get_spec("googlenet"), device="cpu", width_mult=0.125, image_size=32)
    assert "240 images at 32 px, 10 classes, grayscale" in why and fitted.recipe == "auto"
    assert fitted.reason == "finished"
    assert fitted.val_acc >= 0.6, fitted.val_acc  # chance is 0.1; the papers' SGD recipe stays near it here
    assert fitted.spec.num_classes == 10 and fitted.class_names == [str(i) for i in range(10)]
    epochs = of(fitted.history, T.EpochEvent)
    assert len(epochs) == 10 and epochs[-1].val_loss < math.log(10)


def test_recipe_follows_the_data_and_the_model():
    gray_small = DataProfile(images=1437, classes=10, size=32, grayscale=True)
    photos = DataProfile(images=900, classes=5, size=400, grayscale=False)
    bn, no_bn = get_spec("googlenet"), get_spec("googlenet_paper")
    a = T.auto_recipe(gray_small, bn, "cpu")
    assert a.config.optimizer == "adamw" and a.config.schedule == "onecycle"
    assert a.config.crop_scale[0] >= 0.5 and not a.config.flip and a.config.color_jitter == 0
    assert a.config.image_size == 64 and "trained at 64 px" in a.reason  # twice the 32 px images
    assert a.reason.startswith("1,437 images at 32 px, 10 classes, grayscale: AdamW one-cycle")
    b = T.auto_recipe(photos, bn, "cpu")
    assert b.config.flip and b.config.color_jitter > 0 and b.config.image_size is None
    c = T.auto_recipe(gray_small, no_bn, "cpu")
    assert c.config.lr < a.config.lr and c.config.grad_clip is not None and "no batch norm" in c.reason
    assert T.auto_recipe(gray_small, bn, "cpu", image_size=48).config.image_size == 48  # the user's size stays
    for r in (a, b, c):
        r.config.validate()


def test_every_choice_stays_editable(digits):
    cfg, _ = T.default_config(digits, get_spec("googlenet"), device="cpu", lr=0.02, flip=True, epochs=3)
    assert (cfg.lr, cfg.flip, cfg.epochs) == (0.02, True, 3)


def test_paper_recipes_stay_available_by_name():
    assert T.recipe_defaults("googlenet").optimizer == "sgd"
    assert T.recipe_defaults("inception_v3").optimizer == "rmsprop"
    with pytest.raises(StudioError, match="auto"):
        T.recipe_defaults("auto")


def test_one_cycle_warms_up_then_anneals():
    cfg = T.TrainConfig(schedule="onecycle", lr=1e-2, epochs=10, onecycle_pct=0.25)
    lrs = [T.lr_at(cfg, s, 10) for s in range(100)]
    peak = int(np.argmax(lrs))
    assert peak == 25 and math.isclose(lrs[peak], 1e-2)
    assert lrs[0] == pytest.approx(1e-2 / 25) and lrs[-1] < 1e-4
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


# ---------------------------------------------------------------------------------- lr finder
def test_lr_finder_suggests_a_finite_rate_inside_its_range(digits):
    cfg = _tiny(digits)
    items = list(T.iter_lr_find(cfg, get_spec("googlenet"), digits, start=1e-5, end=10.0, steps=30))
    result = items[-1]
    seen = [p for p in items[:-1] if isinstance(p, T.LRPoint)]
    assert isinstance(result, T.LRFindResult) and len(seen) == len(result.lrs) >= 10
    assert math.isfinite(result.suggestion) and 1e-5 <= result.suggestion <= 10.0
    assert result.lrs[0] == pytest.approx(1e-5) and all(a < b for a, b in zip(result.lrs, result.lrs[1:]))
    assert result.stopped == "diverged"  # lr 10 with AdamW blows up: the finder stops by itself
    assert result.suggestion < result.lrs[-1]
    assert "suggested lr" in result.describe()


def test_suggestion_is_a_tenth_of_the_lowest_losss_rate_and_ignores_flat_noise():
    lrs = [10 ** (-6 + k * 0.1) for k in range(61)]
    noise = [0.01 * ((-1) ** k) for k in range(61)]
    losses = [2.3] * 15 + [2.3 - 0.1 * k for k in range(20)] + [0.4 + 0.3 * k for k in range(26)]
    noisy = [a + b for a, b in zip(losses, noise)]
    lowest = noisy.index(min(noisy))
    s = T.suggest_lr(lrs, noisy)
    assert lowest in (34, 35) and s == pytest.approx(lrs[lowest] / 10)
    assert lrs[15] < s < lrs[34]  # on the descent, an order of magnitude below the lowest loss
    assert T.suggest_lr([1e-5, 1e-3, 1e-1], [3.0, 2.0, 1.0]) == pytest.approx(1e-2)
    assert T.suggest_lr(lrs[:3], [1.0, 2.0, 3.0]) == lrs[0]  # never below the range searched


# ---------------------------------------------------------------------------------- a sane start
def test_a_diverging_run_gets_a_hint(digits):
    cfg = _tiny(digits, lr=50.0, schedule="constant", max_steps=8)
    events = list(T.train(cfg, get_spec("googlenet"), digits))
    hints = of(events, T.HintEvent)
    assert hints and hints[0].kind in ("nan", "rising") and "learning rate" in hints[0].message, hints


def test_monitor_hints_rising_plateau_and_nan_once_each():
    m = LearningMonitor(num_classes=10, total_steps=200, lr=0.1)
    hints = [m.step(i, 2.0 - 0.01 * i) for i in range(30)] + [m.step(30 + i, 1.7 + 0.2 * i) for i in range(20)]
    got = [h for h in hints if h is not None]
    assert [h.kind for h in got] == ["rising"] and "lower the learning rate" in got[0].message
    p = LearningMonitor(num_classes=10, total_steps=200, lr=0.1)
    got = [h for h in (p.step(i, math.log(10) + 0.01 * (-1) ** i) for i in range(80)) if h is not None]
    assert [h.kind for h in got] == ["plateau"] and "ln(10)" in got[0].message
    assert p.step(81, math.nan).kind == "nan" and p.step(82, math.nan) is None
    assert p.epoch(0.99, 0.5, 3).kind == "overfit"
    quiet = LearningMonitor(num_classes=10, total_steps=200, lr=0.1)
    assert all(quiet.step(i, 2.3 * math.exp(-i / 30)) is None for i in range(150))


# ---------------------------------------------------------------------------------- fine-tuning
@pytest.fixture(scope="module")
def trained(fitted) -> dict[str, torch.Tensor]:
    """The fitted weights (the "current weights" a user starts from)."""
    return {k: v.clone() for k, v in fitted.model.state_dict().items()}


def test_classifier_only_changes_nothing_but_the_head_and_reuses_its_features(digits, trained, fitted):
    T.clear_feature_cache()
    cfg = _tiny(digits, epochs=15, train_part="classifier")
    backbone = {k: v for k, v in trained.items() if not k.startswith("head.")}  # a new, untrained classifier
    events = list(T.train(cfg, get_spec("googlenet"), digits, init_state=backbone))
    start, done = of(events, T.StartEvent)[0], of(events, T.DoneEvent)[0]
    assert start.train_part == "classifier" and "head" not in start.frozen and "stages.stem" in start.frozen
    after = done.model.state_dict()
    changed = {k for k in after if not torch.equal(after[k], trained[k])}
    assert changed == {"head.fc.weight", "head.fc.bias"}  # bit-identical elsewhere, BN statistics included
    notes = [n.message for n in of(events, T.NoteEvent)]
    assert any("computed once" in n for n in notes) and any("faster" in n for n in notes), notes
    assert done.val_acc >= fitted.val_acc - 0.15  # the frozen features carry what the whole run learned
    again = list(T.train(replace(cfg, lr=cfg.lr / 2), get_spec("googlenet"), digits, init_state=backbone))
    assert any("reused" in n.message for n in of(again, T.NoteEvent))


def test_last_stage_training_keeps_the_earlier_stages_bit_identical(digits, trained):
    cfg = _tiny(digits, epochs=1, max_steps=4, train_part="last", train_stages=1)
    events = list(T.train(cfg, get_spec("googlenet"), digits, init_state=trained))
    done, start = of(events, T.DoneEvent)[0], of(events, T.StartEvent)[0]
    last = [s.name for s in done.spec.stages if s.blocks][-1]
    after = done.model.state_dict()
    for k, v in after.items():
        same = torch.equal(v, trained[k])
        if k.startswith(("head.", f"stages.{last}.")):
            continue
        assert same, k
    assert any(not torch.equal(after[k], trained[k]) for k in after if k.startswith(f"stages.{last}."))
    assert f"stages.{last}" not in start.frozen


def test_initial_weights_from_another_network_are_refused(digits, tmp_path):
    nin = T.fit(get_spec("nin"), digits, _tiny(digits, epochs=1, image_size=56, max_steps=1))
    other = dict(nin.model.state_dict())
    with pytest.raises(StudioError, match="fit none"):
        list(T.train(_tiny(digits, epochs=1), get_spec("googlenet"), digits, init_state=other))


# ---------------------------------------------------------------------------------- augmentation preview
def test_augmented_samples_show_the_users_images_as_fed(digits):
    cfg = _tiny(digits)
    spec, _ = T.prepare_spec(get_spec("googlenet"), 10, cfg.width_mult, cfg.image_size)
    shots = T.augmented_samples(digits, cfg, spec, n=6)
    assert len(shots) == 6 and len({name for _, name in shots}) == 6  # spread over the classes
    img, _ = shots[0]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    assert np.array_equal(img[..., 0], img[..., 1])  # grayscale data stays gray
    again = T.augmented_samples(digits, cfg, spec, n=6)
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(shots, again))  # same seed, same crops
    wider = T.augmented_samples(digits, replace(cfg, crop_scale=(0.1, 0.1)), spec, n=6)
    assert not np.array_equal(wider[0][0], img)  # a setting change shows


def test_cli_prints_the_recipe_with_the_users_settings_and_runs_the_lr_finder(digits, tmp_path, capsys):
    from inception_studio import cli

    rc = cli.main(["train", "--data", digits.root, "--variant", "googlenet", "--width-mult", "0.125",
                   "--image-size", "32", "--epochs", "1", "--max-steps", "2", "--lr", "find",
                   "--out", str(tmp_path / "m.safetensors")])
    out = capsys.readouterr().out
    assert rc == 0
    recipe = next(line for line in out.splitlines() if line.startswith("recipe: "))
    assert "240 images at 32 px, 10 classes, grayscale: AdamW one-cycle" in recipe
    assert "your settings: epochs 1" in recipe and "max_steps 2" in recipe
    finder = next(line for line in out.splitlines() if line.startswith("lr finder: "))
    assert "suggested lr" in finder
