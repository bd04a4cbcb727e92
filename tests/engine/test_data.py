"""Tests for inception_studio.engine.data: decoding, preprocessing, folder scans, splits, demo data."""
from __future__ import annotations

import hashlib
import io
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inception_studio.engine import data
from inception_studio.engine.data import demo
from inception_studio.engine.classes import imagenet_classes
from inception_studio.engine.data import (
    DEMO_CLASSES,
    FolderScan,
    ImageDataset,
    Preprocess,
    is_image_path,
    load_image,
    make_demo_folder,
    scan_image_folder,
    stratified_split,
    tensor_to_display,
)
from inception_studio.errors import DataError, ImageError

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


# ------------------------------------------------------------------------------------- decoding
@pytest.mark.parametrize(
    ("name", "size", "pixel", "rgb"),
    [
        ("sample_rgb.jpg", (48, 64), (24, 2), (220, 30, 30)),        # EXIF 6: 64x48 stored, red on top
        ("sample_rgba.png", (40, 30), (0, 0), (255, 255, 255)),      # transparent -> white
        ("sample_palette.png", (32, 32), (0, 0), (255, 255, 255)),   # transparent index -> white
        ("sample_gray16.png", (32, 24), (0, 0), (128, 128, 128)),    # 32768 -> 128, not clipped 255
        ("sample_cmyk.jpg", (40, 40), (5, 20), (0, 255, 255)),       # pure cyan
        ("sample.gif", (24, 16), (3, 3), (255, 0, 0)),               # first frame is red
        ("sample.bmp", (30, 20), None, (200, 120, 40)),
        ("sample.tiff", (36, 26), None, (40, 120, 200)),
        ("sample.webp", (44, 28), None, (120, 200, 40)),
    ],
)
def test_samples_decode_to_rgb(name: str, size: tuple[int, int], pixel, rgb) -> None:
    img = load_image(SAMPLES / name)
    assert img.mode == "RGB"
    assert img.size == size
    arr = np.asarray(img).astype(int)
    got = arr[pixel[1], pixel[0]] if pixel else arr.reshape(-1, 3).mean(axis=0)
    assert np.abs(np.asarray(got) - rgb).max() <= 12, (name, got)


def test_exif_rotation_moves_content() -> None:
    arr = np.asarray(load_image(SAMPLES / "sample_rgb.jpg")).astype(int)
    top, bottom = arr[:8].reshape(-1, 3).mean(0), arr[-8:].reshape(-1, 3).mean(0)
    assert top[0] > 180 and top[2] < 70       # red ended up on top
    assert bottom[2] > 180 and bottom[0] < 70  # blue at the bottom


def test_gray16_scaling_and_grayscale_channel() -> None:
    img = load_image(SAMPLES / "sample_gray16.png", channels=1)
    assert img.mode == "L" and img.size == (32, 24)
    arr = np.asarray(img)
    assert arr[0, 0] == 128 and arr[0, 15] == 255 and arr[0, 25] == 0


def test_rgba_partial_alpha_composites_on_white() -> None:
    img = Image.new("RGBA", (4, 4), (0, 0, 0, 128))
    out = np.asarray(load_image(img)).astype(int)
    assert np.all(np.abs(out - 127) <= 1)


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [("L", 77, 77), ("1", 1, 255), ("LA", (0, 0), 255), ("I", 32768, 128), ("F", 0.5, 128),
     ("I;16", 65535, 255)],
)
def test_modes_in_memory(mode: str, value, expected: int) -> None:
    img = Image.new(mode, (6, 5), value)
    out = load_image(img)
    assert out.mode == "RGB" and out.size == (6, 5)
    assert np.all(np.abs(np.asarray(out).astype(int) - expected) <= 1)


def test_load_from_bytes_and_does_not_mutate_pil_source() -> None:
    raw = (SAMPLES / "sample.bmp").read_bytes()
    assert load_image(raw).size == (30, 20)
    src = Image.new("RGBA", (3, 3), (10, 20, 30, 255))
    out = load_image(src)
    assert out is not src and src.mode == "RGBA"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("bad_truncated.jpg", "truncated image data"),
     ("bad_empty.png", "empty file"),
     ("bad_not_image.jpg", "not an image (unrecognised format)")],
)
def test_bad_samples_raise_one_line_image_error(name: str, reason: str) -> None:
    with pytest.raises(ImageError) as info:
        load_image(SAMPLES / name)
    msg = str(info.value)
    assert msg == f"{name}: {reason}"
    assert "\n" not in msg


def test_truncated_png_and_missing_and_directory(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match=r"^cut\.png: "):
        load_image(cut)
    with pytest.raises(ImageError, match=r"^nope\.png: file not found$"):
        load_image(tmp_path / "nope.png")
    (tmp_path / "dir.jpg").mkdir()
    with pytest.raises(ImageError, match=r"^dir\.jpg: is a folder"):
        load_image(tmp_path / "dir.jpg")
    with pytest.raises(ImageError, match=r"^<bytes>: empty file$"):
        load_image(b"")


def test_decompression_bomb_limit_parameter() -> None:
    with pytest.raises(ImageError) as info:
        load_image(SAMPLES / "sample.bmp", max_pixels=100)
    assert str(info.value) == "sample.bmp: decompression bomb: 600 pixels exceeds the 100 limit"


def test_pillow_bomb_warning_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # 600 px: Pillow warns (not errors) at <2x
    with pytest.raises(ImageError, match=r"^sample\.bmp: decompression bomb: 600 pixels exceeds the 500 limit$"):
        load_image(SAMPLES / "sample.bmp")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200)  # >2x: Pillow raises DecompressionBombError
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(SAMPLES / "sample.bmp")


def test_is_image_path() -> None:
    assert is_image_path("a/b/Cat.JPG") and is_image_path(Path("x.webp"))
    assert not is_image_path("notes.txt") and not is_image_path(".hidden.png")


# -------------------------------------------------------------------------------- preprocessing
def test_preprocess_eval_numbers() -> None:
    pre = Preprocess.for_size(32)
    assert Preprocess.for_size(299).resize_size == 342
    img = Image.new("RGB", (100, 60), (128, 64, 255))
    out = pre.eval_transform()(img)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32
    expected = torch.tensor([(v / 255 - m) / s for v, m, s in zip((128, 64, 255), pre.mean, pre.std)])
    assert torch.allclose(out.mean(dim=(1, 2)), expected, atol=1e-4)
    assert torch.allclose(out[:, 0, 0], expected, atol=1e-4)


def test_preprocess_center_crop_keeps_centre() -> None:
    arr = np.zeros((40, 120, 3), dtype=np.uint8)
    arr[:, 40:80] = 255  # white middle third
    pre = Preprocess.for_size(16, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), crop_pct=1.0)
    out = pre.eval_transform()(Image.fromarray(arr))
    assert out.shape == (3, 16, 16)
    assert out[:, :, 4:12].min() > 0.99  # shorter side 16 -> 48x16, centre 16 columns are all white


def test_preprocess_single_channel_and_bicubic() -> None:
    pre = Preprocess.for_size(20, channels=1, interpolation="bicubic")
    assert pre.channel_mean == pytest.approx((sum(data.IMAGENET_MEAN) / 3,))
    out = pre.eval_transform()(Image.new("RGB", (30, 30), (100, 100, 100)))
    assert out.shape == (1, 20, 20)
    assert out.mean().item() == pytest.approx((100 / 255 - pre.channel_mean[0]) / pre.channel_std[0], abs=1e-3)
    train = pre.train_transform()
    assert not any(type(t).__name__ == "ColorJitter" for t in train.transforms)
    assert train(Image.new("L", (40, 50), 9)).shape == (1, 20, 20)


def test_train_transform_shapes_and_picklable() -> None:
    pre = Preprocess.for_size(24)
    torch.manual_seed(0)
    train = pre.train_transform(scale=(0.5, 1.0))
    names = [type(t).__name__ for t in train.transforms]
    assert names[:3] == ["RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter"]
    out = train(Image.new("RGB", (50, 40), (10, 200, 30)))
    assert out.shape == (3, 24, 24) and torch.isfinite(out).all()
    assert [type(t).__name__ for t in pre.train_transform(flip=False, color_jitter=0).transforms][:2] == [
        "RandomResizedCrop", "_ToNormalizedTensor"]
    again = pickle.loads(pickle.dumps(pre.eval_transform()))
    assert again(Image.new("RGB", (30, 30))).shape == (3, 24, 24)


def test_preprocess_validation() -> None:
    with pytest.raises(ValueError):
        Preprocess(image_size=0)
    with pytest.raises(ValueError):
        Preprocess(image_size=10, interpolation="nearest")
    with pytest.raises(ValueError):
        Preprocess(image_size=10, mean=(0.5, 0.5))


def test_tensor_to_display_roundtrip() -> None:
    pre = Preprocess.for_size(8, crop_pct=1.0)
    img = Image.new("RGB", (8, 8), (12, 130, 250))
    shown = tensor_to_display(pre.eval_transform()(img), pre.mean, pre.std)
    assert shown.dtype == np.uint8 and shown.shape == (8, 8, 3)
    assert np.abs(shown.astype(int) - (12, 130, 250)).max() <= 1
    gray = tensor_to_display(torch.zeros(1, 4, 5), (0.5,), (0.5,))
    assert gray.shape == (4, 5, 3) and np.all(gray == 128)


# ---------------------------------------------------------------------------------- folder scan
def _write_png(path: Path, colour: tuple[int, int, int] = (10, 20, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)


def test_scan_image_folder_good_bad_hidden(tmp_path: Path) -> None:
    for i in range(3):
        _write_png(tmp_path / "cats" / f"c{i}.png")
    _write_png(tmp_path / "dogs" / "sub" / "d0.png")
    _write_png(tmp_path / "dogs" / "d1.png")
    _write_png(tmp_path / "dogs" / ".hidden.png")
    _write_png(tmp_path / ".cache" / "x.png")          # hidden class folder
    (tmp_path / "cats" / "notes.txt").write_text("hello")
    (tmp_path / "cats" / "empty.jpg").write_bytes(b"")
    (tmp_path / "dogs" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "readme.md").write_text("top-level files are not classes")
    calls: list[tuple[int, int]] = []

    scan = scan_image_folder(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert isinstance(scan, FolderScan)
    assert scan.classes == ["cats", "dogs"]
    assert scan.counts == {"cats": 3, "dogs": 2}
    assert scan.empty_classes == ["empty_class"]
    assert Counter(label for _, label in scan.samples) == {0: 3, 1: 2}
    assert all(".hidden" not in p and ".cache" not in p for p, _ in scan.samples)
    reasons = {Path(p).name: r for p, r in scan.skipped}
    assert reasons["notes.txt"] == "not an image (unrecognised format)"
    assert reasons["empty.jpg"] == "empty file"
    assert "bad.png" in reasons and "\n" not in reasons["bad.png"]
    assert len(scan.skipped) == 3
    assert calls[0] == (0, 8) and calls[-1] == (8, 8)


def test_scan_refuses_unusable_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="folder not found"):
        scan_image_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="no class subfolders"):
        scan_image_folder(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("nope")
    with pytest.raises(DataError) as info:
        scan_image_folder(tmp_path)
    assert str(tmp_path) in str(info.value) and "no readable images" in str(info.value)


def test_scan_applies_pixel_limit(tmp_path: Path) -> None:
    _write_png(tmp_path / "a" / "ok.png")
    Image.new("RGB", (40, 40)).save(tmp_path / "a" / "big.png")
    scan = scan_image_folder(tmp_path, max_pixels=1000)
    assert [Path(p).name for p, _ in scan.samples] == ["ok.png"]
    assert scan.skipped[0][1] == "decompression bomb: 1600 pixels exceeds the 1000 limit"


def test_dataset_loads_and_names_a_file_that_went_bad(tmp_path: Path) -> None:
    _write_png(tmp_path / "a" / "good.png", (255, 0, 0))
    (tmp_path / "a" / "gone.png").write_bytes(b"")
    pre = Preprocess.for_size(8, crop_pct=1.0, mean=(0, 0, 0), std=(1, 1, 1))
    ds = ImageDataset([(str(tmp_path / "a" / "good.png"), 2), (str(tmp_path / "a" / "gone.png"), 0)],
                      pre.eval_transform())
    assert len(ds) == 2 and ds.targets == [2, 0]
    x, y = ds[0]
    assert y == 2 and x.shape == (3, 8, 8) and x[0].min() > 0.99 and x[1].max() < 0.01
    with pytest.raises(ImageError, match=r"^gone\.png: empty file$"):
        ds[1]
    assert ImageDataset(ds.samples[:1], None, channels=1)[0][0].shape == (1, 8, 8)


# ---------------------------------------------------------------------------------------- split
def test_stratified_split_properties() -> None:
    samples = [(f"c{c}_{i}", c) for c in range(4) for i in range((2, 3, 10, 1)[c])]
    train, val = stratified_split(samples, val_fraction=0.2, seed=3)
    assert sorted(train + val) == sorted(samples) and not set(train) & set(val)
    val_counts = Counter(y for _, y in val)
    assert val_counts[0] == 1 and val_counts[1] == 1 and val_counts[2] == 2 and val_counts[3] == 0
    assert Counter(y for _, y in train)[0] == 1  # a 2-image class keeps one for training
    assert stratified_split(samples, 0.2, seed=3) == (train, val)
    other = stratified_split(samples, 0.2, seed=4)[1]
    assert Counter(y for _, y in other) == val_counts
    assert stratified_split(samples, 0.0) == (samples, [])
    with pytest.raises(ValueError):
        stratified_split(samples, 1.0)


# ------------------------------------------------------------------------------------ demo data
def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.png"))}


def test_demo_folder_is_deterministic_and_scannable(tmp_path: Path) -> None:
    a = make_demo_folder(tmp_path / "a", per_class=6, size=32, seed=7)
    b = make_demo_folder(tmp_path / "b", per_class=6, size=32, seed=7)
    c = make_demo_folder(tmp_path / "c", per_class=6, size=32, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    scan = scan_image_folder(a)
    assert scan.classes == sorted(DEMO_CLASSES) and len(DEMO_CLASSES) == 4
    assert scan.counts == {name: 6 for name in DEMO_CLASSES} and not scan.skipped
    img = load_image(scan.samples[0][0])
    assert img.size == (32, 32)
    # Not solvable by one pixel: the centre pixel's colour varies a lot within a class.
    centres = np.array([np.asarray(load_image(p))[16, 16] for p, y in scan.samples if y == 0])
    assert centres.std(axis=0).max() > 20


def test_demo_data_dir_cached_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    calls: list[int] = []
    real = data.make_demo_folder
    monkeypatch.setattr(demo, "make_demo_folder",
                        lambda dest, **kw: (calls.append(1), real(dest, per_class=3, size=32, seed=0))[1])
    first = data.demo_data_dir()
    assert first == tmp_path / "demo-v1"
    assert sorted(p.name for p in first.iterdir() if p.is_dir()) == sorted(DEMO_CLASSES)
    assert [p.name for p in tmp_path.iterdir()] == ["demo-v1"]  # no temp folder left behind
    assert data.demo_data_dir() == first and calls == [1]   # reused, not regenerated
    assert scan_image_folder(first).counts == {name: 3 for name in DEMO_CLASSES}


def test_imagenet_classes() -> None:
    names = imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench" and names[999] == "toilet tissue"
    assert all(n and n == n.strip() for n in names)


def test_demo_data_dir_replaces_unfinished_leftover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    leftover = tmp_path / "demo-v1" / "circle"
    leftover.mkdir(parents=True)
    (leftover / "half_written.png").write_bytes(b"")
    real = data.make_demo_folder
    monkeypatch.setattr(demo, "make_demo_folder", lambda dest, **kw: real(dest, per_class=2, size=16, seed=0))
    folder = data.demo_data_dir()
    assert not (folder / "circle" / "half_written.png").exists()
    assert scan_image_folder(folder).counts == {name: 2 for name in DEMO_CLASSES}
