"""Where a run writes: its output files checked before training starts, stale temporary files from a
killed save removed, and checkpoints written atomically (rank 0 only), remembering which this run wrote.

A run's files sit together: ``model.safetensors`` (last), ``model.best.safetensors`` and
``model.state.safetensors`` (resume state). An existing ``out`` is refused unless the run overwrites
on purpose or resumes from it, so a new run (even one that diverges at step 0) never replaces a
trained model by accident; and only files this run wrote are ever reported as its results.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from inception_studio.core.files import SaveError
from inception_studio.core.names import printable
from inception_studio.core.spec import ArchSpec
from inception_studio.core.weights import save_checkpoint
from inception_studio.engine.training.config import TrainConfig
from inception_studio.engine.training.events import CheckpointEvent
from inception_studio.engine.training.state import best_path, save_train_state, state_path
from inception_studio.errors import StudioError

STALE_TEMP_S = 60.0  # a temporary file older than this beside our outputs belongs to a killed save


def run_files(out: str | os.PathLike[str]) -> list[Path]:
    """The files a run with output ``out`` writes: last, best, resume state."""
    p = Path(out)
    return [p, best_path(p), state_path(p)]


def check_outputs(out: str | os.PathLike[str], overwrite: bool = False,
                  resuming: str | os.PathLike[str] | None = None) -> None:
    """Before training: refuse an existing ``out`` (unless overwriting or resuming it) and an unwritable folder."""
    p = Path(out).expanduser()
    name = printable(p.name or str(p), 80)
    if p.is_dir():
        raise StudioError(f"{name}: is a folder; --out names the checkpoint file to write")
    same = resuming is not None and _same_file(p, Path(resuming))
    if p.exists() and not (overwrite or same):
        raise StudioError(f"{name}: already exists (a trained checkpoint?): choose another --out, "
                          "--resume it, or pass --overwrite to replace it")
    folder = p.parent if str(p.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"{printable(str(folder), 80)}: cannot create the output folder "
                          f"({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StudioError(f"{printable(str(folder), 80)}: the output folder is not writable")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def remove_stale_temps(out: str | os.PathLike[str], older_than_s: float = STALE_TEMP_S) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files a killed save left beside this run's outputs; returns what went."""
    gone: list[Path] = []
    now = time.time()
    for f in run_files(out):
        for tmp in f.parent.glob(f".{f.name}.*.tmp"):
            try:
                if tmp.is_file() and not tmp.is_symlink() and now - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
                    gone.append(tmp)
            except OSError:
                continue
    return gone


class Checkpointer:
    """Writes a run's checkpoints (rank 0 with an ``out``) and remembers the files it wrote."""

    def __init__(self, config: TrainConfig, enabled: bool, data_root: str, classes: list[str]) -> None:
        self.cfg = config
        self.enabled = enabled and bool(config.out)
        self.data_root = data_root
        self.classes = classes
        self.written: set[str] = set()

    def save(self, kind: str, spec: ArchSpec, weights: Mapping[str, torch.Tensor],
             optimizer: torch.optim.Optimizer | None, counters: dict[str, Any]) -> CheckpointEvent | None:
        """Write the "last" (with its resume state) or "best" checkpoint; one-line StudioError on failure."""
        if not self.enabled:
            return None
        out = Path(self.cfg.out)
        path = best_path(out) if kind == "best" else out
        counters = {**counters, "optimizer": self.cfg.optimizer}
        meta = {**counters, "kind": kind, "config": self.cfg.to_dict(), "data": self.data_root}
        try:
            if kind == "last":  # state first: a crash between the two leaves a mismatch load_resume detects
                save_train_state(state_path(out), optimizer, counters)
                self.written.add(str(state_path(out)))
            save_checkpoint(path, spec, dict(weights), self.classes, meta)
        except SaveError:
            raise
        except OSError as exc:
            raise StudioError(f"{printable(path.name, 80)}: cannot write checkpoint ({exc.strerror or exc})") from None
        self.written.add(str(path))
        return CheckpointEvent(str(path), kind)

    def wrote(self, kind: str) -> str | None:
        """The path of this run's ``kind`` checkpoint if this run wrote it, else None."""
        if not self.cfg.out:
            return None
        path = str(best_path(self.cfg.out) if kind == "best" else Path(self.cfg.out))
        return path if path in self.written else None
