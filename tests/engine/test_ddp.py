"""DistributedDataParallel: ``torchrun --nproc-per-node 2 -m inception_studio train`` on 2 gloo CPU processes."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inception_studio.core.weights import load_checkpoint
from inception_studio.engine.data import make_demo_folder
from inception_studio.engine.distributed import DistContext
from inception_studio.engine.train import prepare_data
from inception_studio.errors import ResourceError

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR",
                                                             "MASTER_PORT")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"  # two processes on two cores
    env["CUDA_VISIBLE_DEVICES"] = ""  # gloo on CPU even where a GPU exists
    return env


@pytest.mark.slow
def test_torchrun_two_gloo_processes_train_and_only_rank0_writes(tmp_path):
    data = make_demo_folder(tmp_path / "demo", per_class=12, size=40)
    out_dir = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "inception_studio", "train", "--data", str(data), "--variant", "googlenet",
           "--width-mult", "0.125", "--image-size", "48", "--epochs", "1", "--batch-size", "8",
           "--device", "cpu", "--out", str(out_dir / "m.safetensors"), "--log-json", str(out_dir / "log.json")]
    proc = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Both ranks ran to the end ...
    assert "rank 0/2: finished" in proc.stderr and "rank 1/2: finished" in proc.stderr
    # ... but only rank 0 printed progress and wrote files.
    assert proc.stdout.count("epoch 1/1") == 1 and "x2 processes" in proc.stdout
    assert sorted(p.name for p in out_dir.iterdir()) == ["log.json", "m.best.safetensors", "m.safetensors",
                                                          "m.state.safetensors"]
    log = json.loads((out_dir / "log.json").read_text())
    assert log["world_size"] == 2
    split = prepare_data(data)
    per_rank_steps = math.ceil(len(split.train) / 2) // 8  # DistributedSampler shards the training images
    assert log["rank_steps"] == [per_rank_steps, per_rank_steps]
    assert sum(map(sum, log["result"]["confusion"])) == len(split.val)  # every validation image counted once
    ck = load_checkpoint(out_dir / "m.safetensors")
    assert ck.class_names == split.classes and ck.metadata["step"] == per_rank_steps


def test_single_process_without_torchrun_variables(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    ctx = DistContext.from_env()
    assert not ctx.enabled and ctx.is_main and ctx.all_gather_int(5) == [5]
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ResourceError, match="WORLD_SIZE"):
        DistContext.from_env()
