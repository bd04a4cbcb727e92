"""Shared test set-up: Qt runs headless, torch stays on few threads."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INCEPTION_STUDIO_CONFIG_DIR", os.path.join(os.path.dirname(__file__), ".." , ".pytest_config"))
# Demo data and onnxruntime exports go here, never into the user's cache.
os.environ.setdefault("INCEPTION_STUDIO_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", ".pytest_config", "cache"))
