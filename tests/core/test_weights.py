"""Reference state dicts load into our presets with identical outputs; checkpoints load safely."""
from __future__ import annotations

import pytest
import torch

from inception_studio import build_model, get_spec
from inception_studio.core import edits
from inception_studio.core.weights import (carry_over, import_reference, load_checkpoint, map_state_dict,
                                           read_state_dict, save_checkpoint, write_tensors)
from inception_studio.errors import WeightsError


def _randomise_bn(model: torch.nn.Module) -> None:
    """Give BN layers non-trivial statistics so a wrong mapping cannot hide."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)


def _reference(source: str):
    torch.manual_seed(0)
    if source == "torchvision:googlenet":
        import torchvision
        return torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True)
    if source == "torchvision:inception_v3":
        import torchvision
        return torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)
    timm = pytest.importorskip("timm")
    return timm.create_model(source.split(":")[1], pretrained=False)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["torchvision:googlenet", "torchvision:inception_v3", "timm:inception_v4",
                                    "timm:inception_resnet_v2"])
def test_reference_weights_give_the_same_logits(source):
    ref = _reference(source)
    _randomise_bn(ref)
    ref.eval()
    ours = import_reference(source, ref.state_dict()).eval()
    size = ours.spec.input_size
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert (ref(x) - ours(x)).abs().max().item() <= 1e-4
        if source.startswith("torchvision"):
            # aux heads too: train mode with BN and dropout frozen, so both are deterministic
            for m in (ref, ours):
                m.train()
                for mod in m.modules():
                    if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.Dropout)):
                        mod.eval()
            r, o = ref(x), ours(x)
            ref_aux = [r.aux_logits1, r.aux_logits2] if source.endswith("googlenet") else [r.aux_logits]
            assert len(o.aux) == len(ref_aux)
            for a, b in zip(ref_aux, o.aux):
                assert (a - b).abs().max().item() <= 1e-4


def test_wrong_state_dict_is_a_one_line_error():
    small = build_model(edits.scale_widths(get_spec("googlenet"), 0.25))
    with pytest.raises(WeightsError, match=r"x.pt: has \d+ main tensors but the spec builds \d+"):
        map_state_dict(small, {"w": torch.zeros(3)}, "torchvision:googlenet", "x.pt")
    full = build_model(get_spec("googlenet"))
    sd = dict(_reference("torchvision:googlenet").state_dict())
    sd["conv1.conv.weight"] = torch.zeros(1, 2, 3)
    with pytest.raises(WeightsError, match="has shape"):
        map_state_dict(full, sd, "torchvision:googlenet", "x.pt")
    with pytest.raises(WeightsError, match="unknown weights source"):
        map_state_dict(full, sd, "keras:googlenet")


def _tiny():
    spec = edits.set_aux(edits.set_field(edits.scale_widths(get_spec("googlenet"), 0.125), "num_classes", 3), False)
    return spec, build_model(spec)


def test_checkpoint_round_trip(tmp_path):
    spec, model = _tiny()
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, spec, model, ["cat", "dog", "owl"], {"epochs": 2})
    ck = load_checkpoint(path)
    assert ck.spec == spec and ck.class_names == ["cat", "dog", "owl"] and ck.metadata == {"epochs": 2}
    for k, v in model.state_dict().items():
        assert torch.equal(ck.state_dict[k], v)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file


def test_tensor_files_are_what_safetensors_writes_for_every_dtype(tmp_path):
    # Our writer takes safetensors' NumPy path (faster for many small tensors): the file must be the same
    # bytes as its torch writer's, and a dtype NumPy lacks (bfloat16) must still round-trip.
    from safetensors.torch import load_file, save_file

    tensors = {"w": torch.randn(3, 4), "t": torch.randn(4, 3).t(), "steps": torch.tensor(7),
               "mask": torch.tensor([True, False]), "half": torch.randn(2).half(), "idx": torch.arange(5)}
    write_tensors(tmp_path / "ours", tensors, {"note": "x"})
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp_path / "theirs"), metadata={"note": "x"})
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "theirs").read_bytes()
    tensors["brain"] = torch.randn(3).bfloat16()
    write_tensors(tmp_path / "bf16", tensors)
    back = load_file(str(tmp_path / "bf16"))
    assert back.keys() == tensors.keys() and all(torch.equal(back[k], tensors[k]) for k in tensors)


def test_foreign_corrupt_and_mismatched_checkpoints(tmp_path):
    spec, model = _tiny()
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.torch import save_file
    save_file({"a": torch.zeros(2)}, str(foreign))
    with pytest.raises(WeightsError, match="^foreign.safetensors: not an Inception Studio checkpoint"):
        load_checkpoint(foreign)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(WeightsError, match="^corrupt.safetensors: not a readable checkpoint"):
        load_checkpoint(corrupt)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match="^empty.safetensors: empty file"):
        load_checkpoint(empty)
    other = edits.set_width(spec, "inception_3", 0, 0, 0, 5)
    bad = tmp_path / "bad.safetensors"
    save_checkpoint(bad, other, model)  # weights of one spec under another spec
    with pytest.raises(WeightsError, match="^bad.safetensors: '.*' has shape .* the spec needs"):
        load_checkpoint(bad)


def test_torch_files_are_read_without_unpickling_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(WeightsError, match="^evil.pt: not a readable weights file"):
        read_state_dict(path)
    ok = tmp_path / "ok.pt"
    torch.save({"w": torch.ones(2)}, ok)
    assert torch.equal(read_state_dict(ok)["w"], torch.ones(2))


def test_carry_over_keeps_untouched_blocks():
    spec, model = _tiny()
    edited = edits.set_width(spec, "inception_4", 1, 0, 0, 9)
    new = build_model(edited)
    loaded, fresh = carry_over(new, model.state_dict())
    # 4b changed, and 4c's input width with it; everything else keeps its weights
    assert fresh == ["stages.inception_4.inception4b", "stages.inception_4.inception4c"]
    assert "stages.inception_3.inception3a" in loaded
    assert torch.equal(new.state_dict()["stages.inception_3.inception3a.branch0.0.conv.weight"],
                       model.state_dict()["stages.inception_3.inception3a.branch0.0.conv.weight"])


@pytest.mark.slow
def test_torchvision_pretrained_path_uses_the_hub_cache(tmp_path, monkeypatch):
    """The real weight-enum code path, offline: a file placed in torch's hub cache is what it loads."""
    import os

    import torchvision
    from inception_studio.core.weights import download_reference
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    url = torchvision.models.GoogLeNet_Weights.DEFAULT.url
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    ref = _reference("torchvision:googlenet").eval()
    torch.save(ref.state_dict(), cache / os.path.basename(url))
    sd = download_reference("torchvision:googlenet", progress=False)
    model = import_reference("torchvision:googlenet", sd, pretrained_transform=True).eval()
    assert model.spec.mean == (0.5, 0.5, 0.5)  # torchvision's transform_input, folded into our preprocessing
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert (model(x) - ref(x)).abs().max() <= 1e-4


@pytest.mark.slow
def test_timm_pretrained_path_with_a_local_file(tmp_path):
    from safetensors.torch import save_file

    from inception_studio.core.weights import download_reference
    ref = _reference("timm:inception_v4").eval()
    path = tmp_path / "inception_v4.safetensors"
    save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    sd = download_reference("timm:inception_v4", local_file=path)
    ours = import_reference("timm:inception_v4", sd).eval()
    x = torch.randn(1, 3, 299, 299)
    with torch.no_grad():
        assert (ours(x) - ref(x)).abs().max() <= 1e-4
