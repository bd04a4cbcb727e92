"""Training, the public face: what the CLI, the GUI, notebooks and tests import.

The work is done in ``engine.training`` (one module per concern, see its docstring); this module
re-exports it and adds ``fit``, which runs a training to completion and returns the trained model.
No Qt.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inception_studio.core.spec import ArchSpec
from inception_studio.engine.training.auto import AutoRecipe, DataProfile, auto_recipe, profile_images
from inception_studio.engine.training.checkpoints import check_outputs, remove_stale_temps, run_files
from inception_studio.engine.training.config import (
    MAX_FEATURE_MAPS,
    OPTIMIZERS,
    PAPER_RECIPES,
    RECIPES,
    SCHEDULES,
    SMALL_SIZE,
    SMALL_WIDTH,
    TRAIN_PARTS,
    TrainConfig,
    lr_at,
    max_workers,
    recipe_defaults,
    total_steps,
)
from inception_studio.engine.training.data import (
    TrainData,
    augmented_samples,
    describe_data,
    is_demo_source,
    prepare_data,
    resolve_data_root,
    transforms_for,
)
from inception_studio.engine.training.events import (
    CheckpointEvent,
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
from inception_studio.engine.training.head_only import clear_feature_cache
from inception_studio.engine.training.health import Hint, LearningMonitor
from inception_studio.engine.training.loop import train
from inception_studio.engine.training.lr_find import DEFAULT_STEPS as LR_FIND_STEPS
from inception_studio.engine.training.lr_find import LRFindResult, LRPoint, find_lr, iter_lr_find, suggest_lr
from inception_studio.engine.training.probe import estimate_epoch, measure_step_seconds, probe_feature_maps
from inception_studio.engine.training.setup import make_optimizer, prepare_spec, small_image_size, start_weights
from inception_studio.engine.training.state import ResumeState, best_path, load_resume, save_train_state, state_path


def default_config(data: TrainData, spec: ArchSpec, device: str = "auto", **overrides: Any) -> tuple[TrainConfig, str]:
    """The small-data recipe for ``data`` on ``spec`` (see training.auto) with ``overrides``, and its reason."""
    from dataclasses import replace

    from inception_studio.engine.device import resolve_device

    dev = resolve_device(overrides.get("device", device))
    profile = profile_images([p for p, _ in data.train], len(data.classes))
    chosen = auto_recipe(profile, spec, dev.type, overrides.get("image_size"))
    cfg = replace(chosen.config, device=device, **overrides)
    cfg.validate()
    return cfg, chosen.reason


@dataclass
class FitResult:
    """What ``fit`` returns: the trained model (eval mode), its spec and classes, accuracy and the run's events."""

    model: Any
    spec: ArchSpec
    class_names: list[str]
    val_acc: float
    reason: str  # how the run ended ("finished" | "stopped" | "nan")
    recipe: str  # the auto recipe's reason, or the recipe's name
    history: list[TrainEvent]


def fit(spec: ArchSpec | Any, data: TrainData | str | os.PathLike[str], config: TrainConfig | None = None,
        on_event: Callable[[TrainEvent], None] | None = None, init_state: Any = None, **overrides: Any) -> FitResult:
    """Train ``spec`` on ``data`` (a folder, "demo", or TrainData) to completion and return the model.

    ``spec`` may also be a built model (``build_model(spec)``): its spec trains, starting from its weights.
    Without ``config`` the small-data recipe is chosen from the data; ``overrides`` (any TrainConfig
    field, e.g. ``epochs=4, width_mult=0.25, image_size=64``) apply on top either way. ``init_state``:
    weights to start from (a state dict, e.g. an earlier FitResult's ``model.state_dict()``).
    """
    from dataclasses import replace

    if not isinstance(spec, ArchSpec):  # a model: its spec, from its weights
        init_state = spec.state_dict() if init_state is None else init_state
        spec = spec.spec

    if config is None:
        split = data if isinstance(data, TrainData) else prepare_data(data, overrides.get("val_fraction", 0.2),
                                                                      overrides.get("seed", 0))
        config, why = default_config(split, spec, **overrides)
        data = split
    else:
        config, why = (replace(config, **overrides) if overrides else config), config.recipe
    history: list[TrainEvent] = []
    done, stopped = None, None
    for ev in train(config, spec, data, init_state=init_state):
        if not isinstance(ev, (FeatureMapEvent, DoneEvent)):
            history.append(ev)
        if on_event is not None:
            on_event(ev)
        if isinstance(ev, StoppedEvent):
            stopped = ev
        elif isinstance(ev, DoneEvent):
            done = ev
    assert done is not None
    return FitResult(done.model, done.spec or spec, done.class_names, done.val_acc,
                     stopped.reason if stopped else "finished", why, history)


__all__ = [
    "TrainConfig", "recipe_defaults", "default_config", "auto_recipe", "AutoRecipe", "DataProfile",
    "profile_images", "is_demo_source", "lr_at", "total_steps", "TrainData", "prepare_data", "resolve_data_root",
    "transforms_for", "augmented_samples", "prepare_spec", "small_image_size", "start_weights", "train", "fit", "FitResult",
    "find_lr", "iter_lr_find", "LR_FIND_STEPS", "suggest_lr", "LRFindResult", "LRPoint", "StartEvent", "StepEvent", "EpochEvent",
    "FeatureMapEvent", "CheckpointEvent", "NoteEvent", "HintEvent", "PausedEvent", "StoppedEvent", "DoneEvent",
    "TrainEvent", "Hint", "LearningMonitor", "ResumeState", "load_resume", "save_train_state", "state_path",
    "best_path", "measure_step_seconds", "estimate_epoch", "probe_feature_maps", "make_optimizer", "describe_data",
    "check_outputs", "remove_stale_temps", "run_files", "clear_feature_cache", "max_workers", "SMALL_WIDTH",
    "SMALL_SIZE", "RECIPES", "PAPER_RECIPES", "OPTIMIZERS", "SCHEDULES", "TRAIN_PARTS", "MAX_FEATURE_MAPS",
]
