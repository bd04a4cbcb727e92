"""Inception Studio: explore, edit, train and run the Inception family of CNNs.

The names below are imported lazily so that ``import inception_studio`` (and the GUI's start-up)
does not pay for importing torch until a model is actually built.
"""
from __future__ import annotations

import logging
from importlib import import_module

__version__ = "0.1.0"

# A library logs nowhere until told to: the CLI and the app send the log to a file (inception_studio.logs).
logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "ArchSpec": "inception_studio.core.spec",
    "analyze": "inception_studio.core.analysis",
    "build_model": "inception_studio.core.build",
    "get_spec": "inception_studio.core.presets",
    "list_variants": "inception_studio.core.presets",
    "StudioError": "inception_studio.errors",
    "Predictor": "inception_studio.engine.infer",
    "TrainConfig": "inception_studio.engine.train",
    "train": "inception_studio.engine.train",
    "fit": "inception_studio.engine.train",
    "find_lr": "inception_studio.engine.train",
    "prepare_data": "inception_studio.engine.train",
    "explain": "inception_studio.core.explain",
    "apply_edits": "inception_studio.core.edits",
    "export_onnx": "inception_studio.engine.export",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'inception_studio' has no attribute {name!r}")
