"""Tests for engine.infer / engine.loading and the ``predict`` CLI: the engine the GUI and CLI share.

Tiny models throughout (GoogLeNet at width 1/8, 64 px, aux off); results are cross-checked against
an independent computation (the plain unfolded module, torchvision's own model, the analytic graph),
never against hard-coded numbers.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inception_studio.cli import main as cli_main
from inception_studio.core import edits
from inception_studio.core import weights as W
from inception_studio.core.build import build_model
from inception_studio.core.graph import build_graph
from inception_studio.core.presets import get_spec
from inception_studio.engine import device as D
from inception_studio.engine import infer, jobs
from inception_studio.engine.data import Preprocess, load_image
from inception_studio.engine.infer import (
    BuildEvent,
    BuiltModel,
    Predictor,
    build_on_device,
    class_names_for,
)
from inception_studio.engine.loading import WeightsChoice, block_ids
from inception_studio.errors import ResourceError, StudioError, WeightsError

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
GOOD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("sample"))
BAD = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("bad_"))
NAMES = ["apple", "bus", "cat", "dog", "eel", "fox", "gnu"]


def tiny(name: str = "googlenet", size: int = 64, classes: int = 1000):
    """A small, fast spec of a preset."""
    spec = edits.set_aux(edits.scale_widths(get_spec(name), 0.125), False)
    return replace(edits.set_field(spec, "input_size", size), num_classes=classes)


def scramble_bn(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every BatchNorm non-trivial statistics, as training would (so BN folding is really tested)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
    return model.eval()


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    """Exported ONNX files (the onnxruntime backend's cache) go to a throw-away folder, not the user's cache."""
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    """A 7-class checkpoint of the tiny spec, with class names and trained-looking BN statistics."""
    spec = tiny(classes=len(NAMES))
    torch.manual_seed(0)
    model = scramble_bn(build_model(spec))
    path = tmp_path_factory.mktemp("ck") / "tiny.safetensors"
    W.save_checkpoint(path, spec, model, NAMES, {"epochs": 1})
    return path


@pytest.fixture(scope="module")
def plain(ckpt):
    """The checkpoint's model as built, unoptimised: the reference our Predictor must agree with."""
    return W.model_from_checkpoint(W.load_checkpoint(ckpt)).eval()


@pytest.fixture(scope="module")
def pred(ckpt) -> Predictor:
    return Predictor(ckpt, device="cpu", backend="torch")


def reference_probs(model, spec, source) -> torch.Tensor:
    """Softmax of the plain model on an image preprocessed independently of the Predictor."""
    pre = Preprocess(spec.input_size, spec.crop_pct, spec.mean, spec.std, spec.interpolation, spec.in_channels)
    x = pre.eval_transform()(load_image(source))[None]
    with torch.no_grad():
        return torch.softmax(model(x), 1)[0]


# ---- classification ---------------------------------------------------------------------------

def test_predict_agrees_with_the_plain_model(pred, plain):
    for path in GOOD[:4]:
        ref = reference_probs(plain, pred.spec, path)
        top = pred.predict(path)
        values, idx = torch.topk(ref, 5)
        assert [n for n, _ in top] == [NAMES[i] for i in idx.tolist()]
        assert np.allclose([p for _, p in top], values.numpy(), atol=1e-4)


def test_topk_sorted_and_sized(pred):
    top = pred.predict(GOOD[0], topk=3)
    assert len(top) == 3
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    probs = pred.probabilities([GOOD[0]])[0]
    assert probs.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert len(pred.predict(GOOD[0], topk=50)) == len(NAMES)  # capped at the class count
    pil = load_image(GOOD[0])
    a, b = pred.predict(pil), pred.predict(GOOD[0])
    assert [n for n, _ in a] == [n for n, _ in b]  # (pytest >= 9.2's approx takes no nested tuples)
    assert np.allclose([q for _, q in a], [q for _, q in b], atol=1e-6)


def test_predict_batch_equals_single(pred):
    batch = pred.predict_batch(GOOD[:3])
    for path, top in zip(GOOD[:3], batch):
        single = pred.predict(path)
        assert [n for n, _ in top] == [n for n, _ in single]
        assert np.allclose([p for _, p in top], [p for _, p in single], atol=1e-5)


@pytest.mark.parametrize("size,mean,std,crop", [(64, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 0.875),
                                                 (75, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 0.8)])
def test_preprocessing_follows_the_spec(size, mean, std, crop):
    spec = replace(tiny(size=size), mean=mean, std=std, crop_pct=crop)
    p = Predictor(spec, device="cpu")
    inner = (200, 120, 40)
    img = Image.new("RGB", (120, 90), inner)
    pixels = img.load()
    for x in range(120):  # a 2-px frame that the centre crop must cut away
        for y in (0, 1, 88, 89):
            pixels[x, y] = (0, 255, 0)
    x = p.prepare(img)
    assert tuple(x.shape) == (3, size, size)
    want = torch.tensor([(c / 255 - m) / s for c, m, s in zip(inner, mean, std)]).view(3, 1, 1)
    assert torch.allclose(x, want.expand_as(x), atol=2e-2)


def test_big_jpeg_is_decoded_small_but_right(tmp_path):
    """A big photo is decoded at a reduced JPEG scale: same picture, EXIF rotation applied, input close to exact."""
    h, w = 900, 1200
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (220, 30, 30)  # stored: left red, right blue; EXIF 6 = rotate 90 degrees clockwise
    arr[:, w // 2:] = (30, 30, 220)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "big.jpg"
    Image.fromarray(arr).save(path, quality=92, exif=exif.tobytes())
    p = Predictor(tiny(), device="cpu")
    assert p.images.open_draft(path).size[0] < w // 2  # decoded at 1/4 or 1/8 scale
    x = p.prepare(path)
    red, blue = x[0] > x[2], x[2] > x[0]
    assert red[:28].all() and blue[-28:].all()  # displayed upright: red on top
    ref = Preprocess(64, p.spec.crop_pct, p.spec.mean, p.spec.std).eval_transform()(load_image(path))
    assert (x - ref).abs().mean() < 0.03


def test_class_names():
    assert class_names_for(1000)[:2] == ["tench", "goldfish"]
    assert class_names_for(4) == ["class 0", "class 1", "class 2", "class 3"]
    assert class_names_for(2, ["yes", "no"]) == ["yes", "no"]
    assert class_names_for(3, ["yes", "no"])[2] == "class 2"  # names that don't fit are not used


def test_sources_spec_variant_checkpoint_module(ckpt, plain):
    spec = tiny(classes=4)
    assert [n for n, _ in Predictor(spec).predict(GOOD[0], topk=4)] != []
    assert all(n.startswith("class ") for n, _ in Predictor(spec).predict(GOOD[0]))
    assert Predictor(W.load_checkpoint(ckpt), backend="torch").class_names == NAMES
    given = Predictor(plain)
    assert given.class_names == [f"class {i}" for i in range(len(NAMES))]
    assert given.model is not plain and plain.stages.stem.conv1[0].bn.__class__.__name__ == "BatchNorm2d"
    nin = Predictor("nin", device="cpu", topk=3)
    assert nin.spec.name == "nin" and len(nin.predict(GOOD[0])) == 3
    assert nin.class_names[0] == "tench"
    with pytest.raises(StudioError, match="neither a variant"):
        Predictor("not_a_variant")


def test_classify_reports_bad_files_and_keeps_going(pred, tmp_path):
    bomb = tmp_path / "bomb.png"
    write_png_bomb(bomb)
    sources = [*GOOD, *BAD, bomb]
    results = list(pred.classify(sources, batch_size=3, keep_inputs=True))
    assert [r.source for r in results] == sources  # one result per source, in order
    for r in results:
        if Path(r.source).name.startswith("sample"):
            assert r.ok and len(r.top) == 5 and r.thumbnail.dtype == np.uint8
            assert tuple(r.input.shape) == (3, 64, 64)
        else:
            assert not r.ok and r.error.startswith(Path(r.source).name + ": ") and "\n" not in r.error
    errors = {Path(r.source).name: r.error for r in results if not r.ok}
    assert "empty" in errors["bad_empty.png"]
    assert "not an image" in errors["bad_not_image.jpg"]
    assert "truncated" in errors["bad_truncated.jpg"]
    assert "decompression bomb" in errors["bomb.png"]


def write_png_bomb(path: Path, side: int = 30000) -> None:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (side + 1) * 4))
                     + chunk(b"IEND", b""))


def test_expand_sources(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.jpg", "sub/c.webp", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    out = infer.expand_sources([tmp_path, tmp_path / "notes.txt"])
    assert [Path(p).relative_to(tmp_path).as_posix() for p in out] == ["a.jpg", "b.png", "sub/c.webp", "notes.txt"]


# ---- looking inside ---------------------------------------------------------------------------

def test_feature_maps_match_the_graph(pred):
    g = build_graph(pred.spec)
    ids = ["b:conv1/br0/0", "b:inception3a", "b:inception3a/br1", "b:inception4e", "s:inception_4"]
    paths = [g.nodes[i].module for i in ids]
    maps = pred.feature_maps(GOOD[1], paths)
    for i, p in zip(ids, paths):
        shape = g.nodes[i].shape or g.nodes[g.nodes[i].children[-1]].shape  # a stage outputs its last block's
        assert tuple(maps[p].shape) == tuple(shape), i
    assert torch.equal(maps["stages.inception_4"], maps[g.nodes["b:inception4e"].module])
    # a block's output is the concatenation of its branches' outputs
    block = g.nodes["b:inception3a"]
    branch_paths = [g.nodes[c].module for c in block.children if g.nodes[c].kind == "branch"]
    parts = pred.feature_maps(GOOD[1], branch_paths)
    assert torch.allclose(torch.cat([parts[p] for p in branch_paths]), maps[block.module], atol=1e-5)


def test_branch_maps(pred):
    block = "stages.inception_3.inception3a"
    out = pred.branch_maps(GOOD[2], block)
    roles = [b.role for b in pred.spec.stage("inception_3").blocks[0].branches]
    assert len(out) == len(roles)
    maps = pred.feature_maps(GOOD[2], [f"{block}.branch{j}" for j in range(len(roles))])
    for j, (label, m) in enumerate(out):
        assert f"({roles[j]})" in label
        assert np.allclose(m, maps[f"{block}.branch{j}"].mean(0).numpy(), atol=1e-6)
    with pytest.raises(StudioError, match="not an Inception block"):
        pred.branch_maps(GOOD[2], "stages.stem.conv1")


def manual_gradcam(model, x, module, cls):
    acts = {}
    handle = module.register_forward_hook(lambda _m, _i, o: acts.__setitem__("a", o))
    logits = model(x)
    handle.remove()
    grad, = torch.autograd.grad(logits[0, cls], acts["a"])
    cam = torch.relu((grad.mean((2, 3), keepdim=True) * acts["a"]).sum(1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    top = cam.max()
    return (cam / top if top > 0 else cam).detach().numpy()  # an all-negative map is all zero


def test_gradcam_matches_a_manual_computation(pred, plain):
    # Same memory format as the predictor: max-pool ties among zeros route gradients differently in NCHW and
    # NHWC (both valid subgradients), which moves a Grad-CAM by a few percent.
    x = pred.prepare(GOOD[0])[None].contiguous(memory_format=torch.channels_last)
    path = pred.last_block_path()
    top = int(pred.probabilities([GOOD[0]])[0].argmax())
    cam = pred.gradcam(GOOD[0])
    assert cam.shape == (64, 64) and cam.min() >= 0 and cam.max() == pytest.approx(1.0)
    assert np.allclose(cam, manual_gradcam(plain, x, plain.get_submodule(path), top), atol=1e-3)
    other = (top + 1) % len(NAMES)
    mid = "stages.inception_4.inception4b"
    cam2 = pred.gradcam(GOOD[0], mid, class_index=other)
    assert np.allclose(cam2, manual_gradcam(plain, x, plain.get_submodule(mid), other), atol=1e-3)
    with pytest.raises(StudioError, match="7 classes"):
        pred.gradcam(GOOD[0], class_index=99)
    with pytest.raises(StudioError, match="not a feature map"):
        pred.gradcam(GOOD[0], "head")
    with pytest.raises(StudioError, match="not in this model"):
        pred.feature_maps(GOOD[0], ["stages.nowhere"])


def test_node_target_and_inspect(pred):
    t = jobs.node_target(pred.spec, "b:inception3a/br2/1")
    assert t.module.endswith("inception3a.branch2.1") and not t.branches
    assert t.cam_module == "stages.inception_3.inception3a"
    port = jobs.node_target(pred.spec, "b:inception3a/in")  # a port has no module: the last block instead
    assert port.module == pred.last_block_path() and "showing the last block" in port.title
    view = jobs.inspect_node(pred, GOOD[0], "stages.inception_3.inception3a", branches=True, cam_module="")
    assert view.maps.shape[0] == sum(m.shape[0] for m in [pred.feature_maps(GOOD[0], [
        f"stages.inception_3.inception3a.branch{j}"])[f"stages.inception_3.inception3a.branch{j}"] for j in range(4)])
    assert len(view.branches) == 4 and view.cam.shape == (64, 64) and view.cam_module == pred.last_block_path()


# ---- building and weights -----------------------------------------------------------------------

def test_build_on_device_yields_progress_then_the_model():
    events = list(build_on_device(tiny(), "cpu"))
    steps, built = events[:-1], events[-1]
    assert all(isinstance(e, BuildEvent) for e in steps) and isinstance(built, BuiltModel)
    fractions = [e.fraction for e in steps if e.fraction is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert steps[0].stage == "memory"
    assert not built.model.training and next(built.model.parameters()).device.type == "cpu"
    assert built.source == "random init" and built.reinitialised == [] and len(built.class_names) == 1000


def test_build_refused_when_memory_is_short(monkeypatch):
    monkeypatch.setattr(D, "available_memory", lambda _d: 10 * 2**20)
    with pytest.raises(ResourceError, match=r"needs about .* but cpu has 10.0 MiB free"):
        list(build_on_device(get_spec("inception_v4"), "cpu"))


def test_out_of_memory_becomes_a_message(monkeypatch):
    from inception_studio.core.build import InceptionNet

    real_to = InceptionNet.to

    def to(self, *a, **kw):
        if a and str(a[0]) == "cpu":
            return real_to(self, *a, **kw)
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    monkeypatch.setattr(InceptionNet, "to", to)
    monkeypatch.setattr(D, "resolve_device", lambda _d: torch.device("meta"))
    monkeypatch.setattr(D, "check_memory", lambda *a, **k: None)
    with pytest.raises(ResourceError, match="out of memory on meta"):
        list(build_on_device(tiny(), "meta"))


def test_out_of_memory_while_predicting_is_a_message(pred, monkeypatch):
    def boom(_x):
        raise RuntimeError("CUDA out of memory. Tried to allocate 9.00 GiB")
    monkeypatch.setattr(pred, "model", boom)
    with pytest.raises(ResourceError, match=r"out of memory on cpu at batch 2; use fewer images"):
        pred.predict_batch(GOOD[:2])


def test_weights_carry_over_to_an_edited_spec(ckpt):
    ck = W.load_checkpoint(ckpt)
    edited = edits.set_width(ck.spec, "inception_4", 1, 0, 0, 40)  # 4b's 1x1 branch: 4b and 4c change shape
    built = infer.run_build(edited, "cpu", WeightsChoice.checkpoint(ckpt))
    fresh_model = build_model(edited).state_dict()
    changed = {k for k, v in fresh_model.items() if k not in ck.state_dict or ck.state_dict[k].shape != v.shape}
    expected = set(block_ids(sorted({".".join(k.split(".")[:3]) for k in changed})))
    assert set(built.reinitialised) == expected and "b:inception4b" in expected
    sd = built.model.state_dict()
    kept = [k for k in sd if k.startswith("stages.inception_3.")]
    assert kept and all(torch.equal(sd[k], ck.state_dict[k]) for k in kept)
    assert built.class_names == NAMES and built.source == "checkpoint: tiny.safetensors"


def test_weights_of_another_network_refused(ckpt):
    with pytest.raises(WeightsError, match="none of its weights fit"):
        infer.run_build(tiny("inception_v3", size=75), "cpu", WeightsChoice.checkpoint(ckpt))


def test_pretrained_from_a_local_file_matches_torchvision(tmp_path):
    import torchvision

    from inception_studio.engine.data import IMAGENET_MEAN, IMAGENET_STD

    torch.manual_seed(0)
    tv = scramble_bn(torchvision.models.googlenet(weights=None, aux_logits=True, transform_input=True,
                                                  init_weights=True), seed=1)
    path = tmp_path / "googlenet-ref.pth"
    torch.save(tv.state_dict(), path)
    p = Predictor.from_pretrained("torchvision:googlenet", path=path, device="cpu", backend="torch")
    assert p.source_label == "pretrained: torchvision:googlenet (googlenet-ref.pth)"
    x = Preprocess(224, 0.875, IMAGENET_MEAN, IMAGENET_STD).eval_transform()(load_image(GOOD[0]))[None]
    with torch.no_grad():
        ref = torch.softmax(tv(x), 1)[0]  # torchvision: ImageNet normalisation + transform_input
    values, idx = torch.topk(ref, 5)
    top = p.predict(GOOD[0])
    assert [n for n, _ in top] == [p.class_names[i] for i in idx.tolist()]
    assert np.allclose([q for _, q in top], values.numpy(), atol=2e-3)


def test_pretrained_offline_is_a_weights_error(monkeypatch):
    def offline(source, progress=True):
        raise WeightsError(f"{source}: could not download pretrained weights (no network)")
    monkeypatch.setattr(W, "download_reference", offline)
    with pytest.raises(WeightsError, match="could not download"):
        Predictor.from_pretrained("timm:inception_v4")
    with pytest.raises(WeightsError, match="unknown weights source"):
        Predictor.from_pretrained("timm:resnet50")


def test_onnxruntime_backend_agrees_and_caches(ckpt, pred, tmp_path, monkeypatch):
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    ort = Predictor(ckpt, device="cpu", backend="onnxruntime")
    assert ort.backend == "onnxruntime" and pred.backend == "torch"
    for path in GOOD[:3]:
        a, b = ort.predict(path), pred.predict(path)
        assert [n for n, _ in a] == [n for n, _ in b]
        assert np.allclose([q for _, q in a], [q for _, q in b], atol=1e-4)
    cached = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    auto = Predictor(ckpt, device="cpu")  # auto: trained weights on the CPU -> onnxruntime, from the cache
    assert auto.backend == "onnxruntime" and cached[0].stat().st_mtime_ns == stamp
    assert Predictor(tiny(), device="cpu").backend == "torch"  # random weights are never exported


def test_onnx_cache_keeps_the_newest_exports(tmp_path):
    for i in range(11):
        f = tmp_path / f"m{i}-{i:020x}.onnx"  # named as the cache names its exports
        f.write_bytes(b"x")
        os.utime(f, ns=(i * 10**9, i * 10**9))
    (tmp_path / "notes.txt").write_text("not ours")
    gone = infer.prune_onnx_cache(tmp_path, limit=4, keep=tmp_path / f"m2-{2:020x}.onnx")
    assert sorted(f.name.split("-")[0] for f in tmp_path.glob("*.onnx")) == ["m10", "m2", "m7", "m8", "m9"]
    assert len(gone) == 6 and (tmp_path / "notes.txt").exists()


def test_prefetched_drop_gives_the_cold_answer_without_decoding(ckpt, tmp_path, monkeypatch):
    """What the GUI does on drag-enter: prefetch; the drop then only runs the forward, with the same result."""
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    for backend in ("torch", "onnxruntime"):
        p = Predictor(ckpt, device="cpu", backend=backend)
        cold = list(p.classify(GOOD[:3], use_cache=False))
        assert p.prefetch([SAMPLES]) == len(GOOD)  # a dropped folder: its images, bad files skipped
        decoded = []
        with monkeypatch.context() as m:
            m.setattr(p.images, "load", lambda image, name=None: decoded.append(image))
            warm = list(p.classify(GOOD[:3]))
        assert decoded == []
        for a, b in zip(cold, warm):
            assert [n for n, _ in a.top] == [n for n, _ in b.top]
            assert np.allclose([q for _, q in a.top], [q for _, q in b.top], atol=1e-6)
            assert b.preview.shape == (64, 64, 3) and b.thumbnail is not None
        x = p._batch(GOOD[:1])
        # PyTorch runs channels-last on the CPU; onnxruntime takes NCHW as is (no copy in forward)
        assert x.is_contiguous(memory_format=torch.channels_last) if backend == "torch" else x.is_contiguous()


def test_classified_ahead_answers_without_a_forward_and_keeps_order(ckpt, tmp_path, monkeypatch):
    """What the GUI does while a drag hovers: prefetch(classify=True); classify then runs only the rest."""
    monkeypatch.setenv("INCEPTION_STUDIO_CACHE_DIR", str(tmp_path))
    for backend in ("torch", "onnxruntime"):
        p = Predictor(ckpt, device="cpu", backend=backend)
        cold = list(p.classify(GOOD[:4], use_cache=False, topk=3))
        assert p.prefetch([GOOD[1], BAD[0], GOOD[3]], classify=True) == 2  # the bad file is skipped
        assert p.answered(GOOD[1]) and p.answered(GOOD[3]) and not p.answered(GOOD[0])
        batches = []
        with monkeypatch.context() as m:
            forward = p.forward
            m.setattr(p, "forward", lambda x: (batches.append(len(x)), forward(x))[1])
            warm = list(p.classify(GOOD[:4], topk=3, batch_size=4))
            again = list(p.classify(GOOD[1:2], use_cache=False))
        assert [r.name for r in warm] == [f.name for f in GOOD[:4]]
        assert sorted(batches) == [1, 1, 1]  # GOOD[0] and GOOD[2] around the answered ones; use_cache=False runs
        for a, b in zip(cold, warm):
            assert [n for n, _ in a.top] == [n for n, _ in b.top]
            assert np.allclose([q for _, q in a.top], [q for _, q in b.top], atol=1e-5)
        assert [n for n, _ in again[0].top][:3] == [n for n, _ in cold[1].top]
        p.images.clear()  # forgotten with the prepared image
        assert not p.answered(GOOD[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_path_channels_last_autocast(ckpt, pred):
    gpu = Predictor(ckpt, device="cuda")
    assert gpu.device.type == "cuda" and gpu.backend == "torch"
    conv = gpu.model.stages.stem.conv1[0].conv.weight
    assert conv.is_cuda and conv.is_contiguous(memory_format=torch.channels_last)
    a, b = gpu.probabilities(GOOD[:3]), pred.probabilities(GOOD[:3])
    assert torch.allclose(a, b, atol=0.05)  # bf16/fp16 autocast against fp32
    assert gpu.gradcam(GOOD[0]).shape == (64, 64)
    built = infer.run_build(tiny(), "cuda")
    assert next(built.model.parameters()).is_cuda


# ---- CLI ----------------------------------------------------------------------------------------

def test_cli_predict_text_and_bad_files(ckpt, capsys):
    code = cli_main(["predict", str(ckpt), str(GOOD[0]), str(BAD[0]), str(GOOD[1]), "--topk", "3", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.count("%") == 6 and str(GOOD[0]) in out and str(GOOD[1]) in out
    assert err.strip().splitlines() == [f"error: {BAD[0].name}: empty file"]


def test_cli_predict_json_and_exit_status(ckpt, capsys):
    assert cli_main(["predict", str(ckpt), *map(str, GOOD[:2]), str(BAD[1]), "--json", "--backend", "torch"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    ok = [r for r in data["results"] if "top" in r]
    assert len(ok) == 2 and len(ok[0]["top"]) == 5 and ok[0]["top"][0]["class"] in NAMES
    assert [r["error"] for r in data["results"] if "error" in r] == [f"{BAD[1].name}: not an image (unrecognised format)"]
    assert cli_main(["predict", str(ckpt), *map(str, BAD)]) == 2
    _, err = capsys.readouterr()
    assert len([ln for ln in err.splitlines() if ln.startswith("error: bad_")]) == len(BAD)
    assert cli_main(["predict", "no_such_model", str(GOOD[0])]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "no_such_model" in err
