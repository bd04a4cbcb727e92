"""What the Run panels ask of the engine, imported on first use (the window must open without waiting for
torch), and small helpers of the controller that hold no state."""
from __future__ import annotations

from PySide6.QtWidgets import QScrollArea


def engine_infer():
    """engine.infer, imported now."""
    from ...engine import infer
    return infer


def engine_jobs():
    """engine.jobs, imported now."""
    from ...engine import jobs
    return jobs


def weights_choice():
    """engine.loading.WeightsChoice, imported now."""
    from ...engine.loading import WeightsChoice
    return WeightsChoice


def resolve_weights(choice):
    """The weights ``choice`` names, read or downloaded (engine lane)."""
    from ...engine.loading import resolve_weights
    return resolve_weights(choice)


def weights_of(built, label: str):
    """The weights of a model someone else built (training), reusable by a rebuild after an edit (engine lane)."""
    from ...engine.loading import Weights
    return Weights.of_model(built, label)


def list_devices():
    """The devices the engine can run on."""
    from ...engine.device import list_devices
    return list_devices()


def scroll_into_view(widget) -> None:
    """Scroll the nearest scroll area around ``widget`` so that it shows."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget, 0, 0)
