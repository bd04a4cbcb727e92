"""Hostile and careless inputs to the engine (issue 12, points 1, 4, 6).

A checkpoint whose spec name is a path, a FIFO named like an image, and data sets with symlink loops
and links to the same file. Calls that used to hang run under an alarm, so a regression fails fast.
"""
from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from inception_studio.cli import main as cli_main
from inception_studio.core import edits
from inception_studio.core.build import build_model
from inception_studio.core.names import safe_filename
from inception_studio.core.presets import get_spec
from inception_studio.core.weights import save_checkpoint
from inception_studio.engine import export, infer
from inception_studio.engine.data import load_image, scan_image_folder, stratified_split
from inception_studio.engine.infer import Predictor
from inception_studio.errors import ImageError
from tests.deadline import deadline

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(signal, "SIGALRM"), reason="needs FIFOs")


def _tiny_spec(name: str):
    spec = edits.set_aux(edits.set_field(edits.scale_widths(get_spec("googlenet"), 0.125), "num_classes", 3), False)
    return replace(edits.set_field(spec, "input_size", 64), name=name)


# ---- point 1: a spec name is never a path ------------------------------------------------------------

def test_spec_name_that_is_a_path_stays_in_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(cache))
    victim = tmp_path / "victim"
    victim.mkdir()
    for i in range(10):  # the user's own exports, more than the cache keeps
        (victim / f"user{i}.onnx").write_bytes(b"mine")
    torch.manual_seed(0)
    spec = _tiny_spec(f"{victim}/x")
    ck = tmp_path / "evil.safetensors"
    model = build_model(spec)
    save_checkpoint(ck, spec, model, ["a", "b", "c"])
    old_umask = os.umask(0o027)
    try:
        assert Predictor(ck, device="cpu", backend="onnxruntime").backend == "onnxruntime"  # exports, then prunes
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in victim.iterdir()) == sorted(f"user{i}.onnx" for i in range(10))
    written = list((cache / "onnx").iterdir())
    assert len(written) == 1 and written[0].name.startswith(safe_filename(f"{victim}/x") + "-")
    assert written[0].stat().st_mode & 0o777 == 0o640  # the umask's mode (point 16), not mkstemp's 0600
    climbing = export.onnx_cache_path(replace(spec, name="../../a/b/x"), model)
    assert climbing.parent == cache / "onnx" and climbing.name.startswith("a_b_x-")


def test_pruning_touches_only_what_the_cache_wrote(tmp_path):
    for i in range(12):
        f = tmp_path / f"net-{i:020x}.onnx"
        f.write_bytes(b"cache")
        os.utime(f, ns=(i * 10**9, i * 10**9))
    for name in ("model.onnx", "net-notahash.onnx", "final-model-v2.onnx"):
        (tmp_path / name).write_bytes(b"user")
        os.utime(tmp_path / name, ns=(0, 0))  # older than every cache file
    gone = infer.prune_onnx_cache(tmp_path, limit=8)
    assert len(gone) == 4 and all(g.name.startswith("net-00") for g in gone)
    assert {"model.onnx", "net-notahash.onnx", "final-model-v2.onnx"} <= {p.name for p in tmp_path.iterdir()}


# ---- point 4: a FIFO named .jpg never blocks ---------------------------------------------------------

@needs_fifo
def test_fifo_image_is_refused_at_once(tmp_path, capsys):
    for name in ("pipe.jpg", "pipe.png"):  # JPEGs take the draft-decoding path
        os.mkfifo(tmp_path / name)
    fifos = [tmp_path / "pipe.jpg", tmp_path / "pipe.png"]
    spec = _tiny_spec("tiny")
    ck = tmp_path / "tiny.safetensors"
    save_checkpoint(ck, spec, build_model(spec), ["a", "b", "c"])
    with deadline(30):
        for fifo in fifos:
            with pytest.raises(ImageError, match=rf"^{fifo.name}: is a named pipe \(FIFO\), not a file$"):
                load_image(fifo)
        p = Predictor(spec, device="cpu", backend="torch")
        results = list(p.classify([*fifos, SAMPLES / "sample.bmp"]))
        assert [r.ok for r in results] == [False, False, True] and "FIFO" in results[0].error
        assert p.prefetch([tmp_path]) == 0  # a dropped folder holding only FIFOs: skipped, not waited on
        assert cli_main(["predict", str(ck), *map(str, fifos), str(SAMPLES / "sample.bmp"), "--backend", "torch"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {f.name}: is a named pipe (FIFO), not a file" for f in fifos]


@needs_fifo
def test_fifo_in_a_data_set_is_skipped_with_a_reason(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            (tmp_path / cls / f"{i}.bmp").write_bytes((SAMPLES / "sample.bmp").read_bytes())
    os.mkfifo(tmp_path / "a" / "stuck.jpg")
    with deadline(20):
        scan = scan_image_folder(tmp_path, workers=1)
    assert len(scan.samples) == 4
    assert [(Path(f).name, r) for f, r in scan.skipped] == [("stuck.jpg", "is a named pipe (FIFO), not a file")]


# ---- point 6: symlink loops and links to one file ----------------------------------------------------

def _image(path: Path, sample: str = "sample.bmp") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((SAMPLES / sample).read_bytes())


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
def test_symlink_loops_end_and_each_real_file_counts_once(tmp_path):
    _image(tmp_path / "cats" / "1.bmp")
    _image(tmp_path / "dogs" / "2.bmp", "sample.gif")
    _image(tmp_path / "dogs" / "3.bmp", "sample.webp")
    (tmp_path / "cats" / "self1").symlink_to(".")  # two self-links: 2^depth paths before the fix
    (tmp_path / "cats" / "self2").symlink_to(".")
    (tmp_path / "dogs" / "up").symlink_to("..")  # back to the root, and so into the other class
    (tmp_path / "dogs" / "again.bmp").symlink_to(tmp_path / "dogs" / "2.bmp")
    os.link(tmp_path / "dogs" / "3.bmp", tmp_path / "dogs" / "3_hardlink.bmp")
    with deadline(20):
        scan = scan_image_folder(tmp_path, workers=1)
    assert sorted(Path(p).relative_to(tmp_path).as_posix() for p, _ in scan.samples) == [
        "cats/1.bmp", "dogs/2.bmp", "dogs/3.bmp"]
    assert scan.counts == {"cats": 1, "dogs": 2}
    assert {Path(p).name for p, _ in scan.skipped} == {"again.bmp", "3_hardlink.bmp"}
    assert all("the same file as" in reason for _, reason in scan.skipped)


def test_the_same_file_is_never_on_both_sides_of_the_split():
    samples = [(f"c/{i}.png", 0) for i in range(5)] + [("c/0.png", 0), ("c/1.png", 0), ("d/x.png", 1), ("d/y.png", 1)]
    for seed in range(20):
        train, val = stratified_split(samples, 0.4, seed)
        assert not {p for p, _ in train} & {p for p, _ in val}
        assert len(train) + len(val) == len(samples)


def test_a_link_to_a_file_in_another_class_is_not_in_both(tmp_path):
    _image(tmp_path / "a" / "1.bmp")
    _image(tmp_path / "a" / "2.bmp", "sample.gif")
    _image(tmp_path / "b" / "3.bmp", "sample.webp")
    (tmp_path / "b" / "stolen.bmp").symlink_to(tmp_path / "a" / "1.bmp")
    scan = scan_image_folder(tmp_path, workers=1)
    real = [os.path.realpath(p) for p, _ in scan.samples]
    assert len(real) == len(set(real)) == 3
    train, val = stratified_split(scan.samples, 0.5, 0)
    assert not {os.path.realpath(p) for p, _ in train} & {os.path.realpath(p) for p, _ in val}
