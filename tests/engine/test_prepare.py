"""Tests for engine.prepare: images made ready for a model once, kept while unchanged, prefetched ahead.

What a user relies on: an image prepared ahead of a drop (prefetch) is the same input a cold decode
gives; a file that changed on disk is decoded again; bad files never stop a prefetch; the preview the
GUI shows is the model's input as pixels; and onnxruntime gets NCHW input, PyTorch channels-last.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inception_studio.engine import prepare
from inception_studio.engine.data import Preprocess, load_image, tensor_to_display
from inception_studio.engine.prepare import ImagePrep, single_threaded
from inception_studio.errors import ImageError

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
GOOD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("sample"))
BAD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("bad_"))


@pytest.fixture
def prep() -> ImagePrep:
    return ImagePrep(Preprocess(64))


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Names of the files ImagePrep actually decodes (cache hits do not show up here)."""
    seen: list[str] = []
    real = ImagePrep.load

    def counting(self, image, name=None):
        seen.append(Path(image).name if isinstance(image, (str, os.PathLike)) else "<object>")
        return real(self, image, name)
    monkeypatch.setattr(ImagePrep, "load", counting)
    return seen


def test_prepared_matches_the_eval_transform(prep):
    for path in GOOD:
        ready = prep.prepare(path)
        ref = prep.preprocess.eval_transform()(load_image(path))
        assert ready.input.shape == ref.shape == (3, 64, 64)
        assert (ready.input - ref).abs().mean() < 0.02  # torch's uint8 resize against Pillow's
        assert ready.thumbnail.dtype == np.uint8 and max(ready.thumbnail.shape[:2]) == prepare.THUMB_SIZE
        # the preview is what the model sees, as pixels: normalising it gives the input back
        shown = tensor_to_display(ready.input, prep.preprocess.mean, prep.preprocess.std)
        assert ready.preview.shape == (64, 64, 3)
        assert np.abs(shown.astype(int) - ready.preview.astype(int)).max() <= 1


def test_a_file_is_decoded_once_until_it_changes(prep, decodes, tmp_path):
    path = tmp_path / "photo.png"
    shutil.copy(GOOD[0], path)
    first = prep.prepare(path)
    again = prep.prepare(str(path))  # str or Path, same file
    assert decodes == ["photo.png"] and again is first and prep.cached(path)
    Image.new("RGB", (80, 60), (250, 10, 10)).save(path)  # the user saved a new picture under the same name
    changed = prep.prepare(path)
    assert decodes == ["photo.png", "photo.png"] and not torch.equal(changed.input, first.input)
    assert changed.input[0].mean() > changed.input[2].mean()  # red now
    prep.prepare(path, use_cache=False)
    assert len(decodes) == 3  # a cold decode when asked for one


def test_prefetch_skips_bad_files_and_stops_when_told(prep, decodes):
    assert prep.prefetch([*BAD, *GOOD[:3]]) == 3
    assert all(prep.cached(p) for p in GOOD[:3]) and not any(prep.cached(p) for p in BAD)
    before = len(decodes)
    prep.prepare(GOOD[1])
    assert len(decodes) == before  # the drop after a hover decodes nothing
    with pytest.raises(ImageError, match=BAD[0].name):  # a bad file still gets its one-line error on use
        prep.prepare(BAD[0])
    prep.clear()
    assert prep.prefetch(GOOD, limit=2) == 2
    calls = iter([False, True])
    prep.clear()
    assert prep.prefetch(GOOD, cancel=lambda: next(calls)) == 1


def test_the_cache_is_bounded(tmp_path):
    prep = ImagePrep(Preprocess(32), cache_items=3)
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", (40, 40), (i * 40, 0, 0)).save(paths[-1])
        prep.prepare(paths[-1])
    assert [prep.cached(p) for p in paths] == [False, False, True, True, True]


def test_memory_order_follows_the_backend():
    torch_prep, ort_prep = ImagePrep(Preprocess(64)), ImagePrep(Preprocess(64), channels_last=False)
    a, b = torch_prep.prepare(GOOD[0]).input, ort_prep.prepare(GOOD[0]).input
    assert torch.equal(a, b)
    assert a[None].is_contiguous(memory_format=torch.channels_last)
    assert b.is_contiguous()  # onnxruntime takes it without a copy


def test_grayscale_model_and_tensor_sources():
    prep = ImagePrep(Preprocess(48, channels=1))
    ready = prep.prepare(GOOD[0])
    assert ready.input.shape == (1, 48, 48) and ready.preview.shape == (48, 48, 3)
    assert (ready.preview[..., 0] == ready.preview[..., 2]).all()
    passed = prep.prepare(ready.input)
    assert passed.input is ready.input and passed.thumbnail is None
    assert np.abs(passed.preview.astype(int) - ready.preview.astype(int)).max() <= 1


def test_single_threaded_restores_the_thread_count():
    n = torch.get_num_threads()
    with single_threaded():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == n
    with pytest.raises(RuntimeError), single_threaded():
        raise RuntimeError("boom")
    assert torch.get_num_threads() == n


def test_what_is_attached_lives_as_long_as_the_cached_file(tmp_path):
    small = ImagePrep(Preprocess(32, 1.0), cache_items=2)
    files = []
    for i in range(3):
        files.append(tmp_path / f"{i}.png")
        shutil.copy(GOOD[i], files[-1])
    a = small.prepare(files[0])
    small.attach(a, "answer a")
    assert small.attached(small.prepare(files[0])) == "answer a"
    loose = small.prepare(GOOD[0], use_cache=False)  # not cached: nothing can be attached to it
    small.attach(loose, "x")
    assert small.attached(loose) is None
    # the file changes: its new Prepared has nothing attached
    shutil.copy(GOOD[1], files[0])
    os.utime(files[0], ns=(10**18, 10**18))
    assert small.attached(small.prepare(files[0])) is None
    b = small.prepare(files[1])
    small.attach(b, "answer b")
    small.prepare(files[2])  # the cache holds two: files[0] goes, files[1] stays
    assert small.attached(small.prepare(files[1])) == "answer b"
    small.prepare(files[0]), small.prepare(files[2])  # now files[1] is the oldest and goes
    assert small.attached(b) is None and len(small._attached) == 0
    small.attach(small.prepare(files[2]), "c")
    small.clear()
    assert small._attached == {}
