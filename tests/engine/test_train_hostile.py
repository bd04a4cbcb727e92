"""Training, tried carelessly and with hostile settings (issue 12's training points): an existing --out is
not overwritten, only this run's files are reported, bad options are one line before any work, SIGTERM
saves like Ctrl-C, stale temporary files are cleaned, workers are bounded and gone afterwards, a full disk
stops the run cleanly, a stalled DDP rank is named."""
from __future__ import annotations

import datetime
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from inception_studio import cli
from inception_studio.core.files import SaveError
from inception_studio.core.presets import get_spec
from inception_studio.core.weights import load_checkpoint
from inception_studio.engine import train as T
from inception_studio.engine.data import make_demo_folder
from inception_studio.errors import StudioError

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--variant", "googlenet", "--width-mult", "0.125", "--image-size", "40", "--batch-size", "8"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_demo_folder(tmp_path_factory.mktemp("hostile_demo"), per_class=8, size=40)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    rc = cli.main(["train", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


# ---- data loss ---------------------------------------------------------------------------------------
def test_an_existing_out_is_refused_before_any_work_unless_overwritten(tiny, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(out)], capsys)[0] == 0
    before = out.read_bytes()
    rc, _, err = run(["--data", str(tiny), *FAST, "--epochs", "1", "--lr", "1e9", "--out", str(out)], capsys)
    assert rc == 2 and err.count("\n") == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == before  # the trained checkpoint is untouched
    rc, stdout, _ = run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(out), "--overwrite"], capsys)
    assert rc == 0 and "wrote" in stdout


def test_only_files_this_run_wrote_are_reported(tiny, tmp_path, capsys):
    out = tmp_path / "n.safetensors"
    stale_best = T.best_path(out)
    stale_best.write_bytes(b"from an earlier run")
    rc, stdout, err = run(["--data", str(tiny), *FAST, "--epochs", "1", "--lr", "1e9", "--schedule", "constant",
                           "--out", str(out)], capsys)
    assert rc == 2 and "loss became" in err
    assert str(stale_best) not in stdout + err  # a diverged run never claims the earlier run's best file


def test_a_stale_temporary_file_from_a_killed_save_is_removed(tmp_path):
    out = tmp_path / "r.safetensors"
    old = tmp_path / f".{out.name}.deadbeef.tmp"
    old.write_bytes(b"x" * 100)
    fresh = tmp_path / f".{out.name}.cafef00d.tmp"
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / ".someone-else.tmp"
    other.write_bytes(b"z")
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    assert T.remove_stale_temps(out) == [old]
    assert fresh.exists() and other.exists() and not old.exists()


def test_a_full_disk_while_saving_stops_cleanly_with_the_previous_checkpoint_intact(tiny, tmp_path, monkeypatch):
    from inception_studio.engine.training import checkpoints

    out = tmp_path / "d.safetensors"
    cfg = T.recipe_defaults("adamw", epochs=3, batch_size=8, width_mult=0.125, image_size=40, out=str(out))
    real = checkpoints.save_checkpoint
    calls = {"n": 0}

    def full_disk(path, *a, **kw):
        calls["n"] += 1
        if calls["n"] > 2:  # epoch 1's last + best went through; then the disk is full
            raise SaveError(f"{Path(path).name}: cannot write it (No space left on device); the previous file is "
                            "unchanged")
        return real(path, *a, **kw)

    monkeypatch.setattr(checkpoints, "save_checkpoint", full_disk)
    with pytest.raises(SaveError, match="No space left"):
        list(T.train(cfg, get_spec("googlenet"), tiny))
    assert load_checkpoint(out).metadata["epoch"] == 1  # the epoch-1 checkpoint is intact
    assert not list(tmp_path.glob(".*.tmp"))


# ---- options -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, words", [
    (["--aux-weight", "nan"], "finite"),
    (["--weight-decay", "inf"], "finite"),
    (["--label-smoothing", "nan"], "finite"),
    (["--seed", str(10**23)], "seed"),
    (["--workers", "1000"], "workers"),
    (["--set", "aux=maybe"], "aux: must be true or false"),
    (["--lr", "fast"], "lr"),
])
def test_bad_options_are_one_line_before_any_work(tiny, tmp_path, capsys, extra, words):
    out = tmp_path / "o.safetensors"
    t0 = time.perf_counter()
    rc, _, err = run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(out), *extra], capsys)
    assert rc == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists() and time.perf_counter() - t0 < 20


def test_resume_refuses_a_different_variant_instead_of_ignoring_it(tiny, tmp_path, capsys):
    out = tmp_path / "v.safetensors"
    assert run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(out)], capsys)[0] == 0
    rc, _, err = run(["--data", str(tiny), "--resume", str(out), "--variant", "inception_v3", "--out", str(out)],
                     capsys)
    assert rc == 2 and "--variant" in err and "drop" in err


def test_initial_weights_of_another_network_are_named_not_called_fine_tuning(tiny, tmp_path, capsys):
    nin = tmp_path / "nin.safetensors"
    assert run(["--data", str(tiny), "--variant", "nin", "--width-mult", "0.125", "--image-size", "56",
                "--batch-size", "8", "--max-steps", "1", "--out", str(nin)], capsys)[0] == 0
    rc, stdout, err = run(["--data", str(tiny), *FAST, "--init", str(nin), "--variant", "googlenet", "--epochs", "1",
                           "--out", str(tmp_path / "g.safetensors")], capsys)
    assert rc == 2 and "fit none" in err and "fine-tune" not in stdout


def test_an_unwritable_out_is_reported_before_training(tiny, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        rc, stdout, err = run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(locked / "m.safetensors")],
                              capsys)
        assert rc == 2 and "not writable" in err and "epoch" not in stdout
    finally:
        locked.chmod(0o700)


def test_an_out_inside_a_file_is_reported_before_training(tiny, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc, stdout, err = run(["--data", str(tiny), *FAST, "--epochs", "1", "--out", str(blocker / "m.safetensors")],
                          capsys)
    assert rc == 2 and "output folder" in err and "epoch" not in stdout


# ---- processes ------------------------------------------------------------------------------------------
def test_workers_are_bounded_by_the_machine_and_gone_after_the_run(tiny):
    with pytest.raises(StudioError, match="workers"):
        T.TrainConfig(num_workers=T.max_workers() + 1).validate()
    cfg = T.recipe_defaults("adamw", epochs=1, batch_size=8, width_mult=0.125, image_size=40,
                            num_workers=min(2, T.max_workers()))
    list(T.train(cfg, get_spec("googlenet"), tiny))
    deadline = time.time() + 10
    while multiprocessing.active_children() and time.time() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []


def test_sigterm_stops_like_ctrl_c_and_saves(tiny, tmp_path):
    out = tmp_path / "t.safetensors"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "inception_studio", "train", "--data", str(tiny), *FAST,
                             "--epochs", "500", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    for line in proc.stdout:
        if line.startswith("epoch 1/"):
            break
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "stopped at step" in stdout and "saving the last checkpoint" in stderr
    state = T.load_resume(out)
    assert state.step >= 1 and state.optimizer is not None


def _stall_rank(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    from inception_studio.engine.distributed import DistContext, is_stall_error

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank))
    dist.init_process_group("gloo", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=4))
    ctx = DistContext(rank, 2, rank, "gloo", True)
    ctx.heartbeat(7 if rank == 0 else 3)
    if rank == 1:
        time.sleep(8)  # the stalled rank
        return
    try:
        ctx.all_reduce_sum(torch.ones(1))
        Path(out).write_text("no stall seen")
    except Exception as exc:  # noqa: BLE001 - what the training loop would catch
        Path(out).write_text(ctx.describe_stall(4) if is_stall_error(exc) else f"other: {exc}")


@pytest.mark.slow
def test_a_stalled_rank_is_named_after_the_timeout(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "msg.txt"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_stall_rank, args=(r, port, str(out))) for r in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    text = out.read_text()
    assert "rank 1 (last seen at step 3)" in text and "waited 4 s" in text, text
