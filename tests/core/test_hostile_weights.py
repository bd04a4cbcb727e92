"""Hostile and careless weights files (issue 12, points 8, 12, 15, 16).

Checkpoint headers of the wrong type, a .pth where a checkpoint belongs, reference weights saved as
.safetensors (sorted keys), a full disk while saving, and the file mode of what we write.
"""
from __future__ import annotations

import json
import os
import resource
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from inception_studio.cli import main as cli_main
from inception_studio.core import edits
from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.core.weights import (
    SaveError,
    import_reference,
    in_reference_order,
    load_checkpoint,
    read_state_dict,
    save_checkpoint,
)
from inception_studio.engine.infer import Predictor
from inception_studio.errors import WeightsError

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "samples" / "sample.bmp"


def _tiny():
    spec = edits.set_aux(edits.set_field(edits.scale_widths(get_spec("googlenet"), 0.125), "num_classes", 3), False)
    return edits.set_field(spec, "input_size", 64)


@pytest.fixture(scope="module")
def good_ckpt(tmp_path_factory) -> Path:
    spec = _tiny()
    path = tmp_path_factory.mktemp("ck") / "good.safetensors"
    save_checkpoint(path, spec, build_model(spec), ["a", "b", "c"], {"config": {"epochs": 1}})
    return path


def _with_header(src: Path, dst: Path, **changes: str) -> Path:
    with safe_open(str(src), "pt") as fh:
        meta = dict(fh.metadata())
        sd = {k: fh.get_tensor(k) for k in fh.keys()}
    meta.update(changes)
    save_file(sd, str(dst), metadata={k: v for k, v in meta.items() if v is not None})
    return dst


# ---- point 12: header fields of the wrong type -------------------------------------------------

@pytest.mark.parametrize("field,value,message", [
    ("class_names", "null", "class_names must be a list of names"),
    ("class_names", "5", "class_names must be a list of names"),
    ("class_names", '["a", 7, "c"]', "class_names must be a list of names"),
    ("class_names", "[[[[", "class_names: not valid JSON"),
    ("metadata", "[1]", "metadata must be a JSON object"),
    ("metadata", '{"config": [1]}', "metadata.config must be a JSON object"),
    ("metadata", '{"x": NaN}', "NaN is not a number JSON allows"),
    ("version", "1\x1b[2J", r"checkpoint version '1\\x1b\[2J' is not supported"),
    ("spec", '{"schema_version": 1, "name": 5}', "its spec is unusable"),
])
def test_header_of_the_wrong_type_is_one_line(good_ckpt, tmp_path, capsys, field, value, message):
    bad = _with_header(good_ckpt, tmp_path / "bad.safetensors", **{field: value})
    with pytest.raises(WeightsError, match=message) as info:
        load_checkpoint(bad)
    assert str(info.value).startswith("bad.safetensors: ") and "\n" not in str(info.value)
    with pytest.raises(WeightsError, match=message):  # what predict and the GUI's Load checkpoint do
        Predictor(bad, backend="torch")
    assert cli_main(["predict", str(bad), str(SAMPLE)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_pth_where_a_checkpoint_belongs_says_what_to_do(tmp_path):
    pth = tmp_path / "resnet.pth"
    torch.save({"conv.weight": torch.zeros(2, 2)}, pth)
    with pytest.raises(WeightsError, match=r"^resnet\.pth: a PyTorch pickle .*import-weights SOURCE resnet\.pth"):
        load_checkpoint(pth)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_checkpoint_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.safetensors")
    with pytest.raises(WeightsError, match=r"pipe\.safetensors: is a named pipe \(FIFO\), not a file"):
        load_checkpoint(tmp_path / "pipe.safetensors")


# ---- point 15: reference weights mapped by the reference's own key order ---------------------------

def _reference(source: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    kind, arch = source.split(":")
    if kind == "torchvision":
        import torchvision
        model = getattr(torchvision.models, arch)(weights=None, aux_logits=True, init_weights=False)
    else:
        timm = pytest.importorskip("timm")
        model = timm.create_model(arch, pretrained=False)
    for m in model.modules():  # non-trivial statistics, so a swapped BN buffer would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 1.5)
            m.running_mean.uniform_(-0.1, 0.1)
    return model.state_dict()


def test_safetensors_and_sorted_pth_reference_weights_import_exactly(tmp_path):
    source = "torchvision:googlenet"
    ref = _reference(source)
    want = import_reference(source, ref).state_dict()  # the reference's own order: proven by logits elsewhere
    st = tmp_path / "ref.safetensors"
    save_file({k: v.contiguous() for k, v in ref.items()}, str(st))  # safetensors sorts the keys
    sd = read_state_dict(st)
    assert list(sd) != list(ref)  # really re-ordered on disk
    got = import_reference(source, sd, st.name).state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)
    pth = tmp_path / "sorted.pth"  # a .pth goes through the same reordering
    torch.save(dict(sorted(ref.items())), pth)
    assert list(in_reference_order(source, read_state_dict(pth))) == list(ref)


@pytest.mark.parametrize("source", ["torchvision:googlenet", "torchvision:inception_v3", "timm:inception_v4",
                                    "timm:inception_resnet_v2"])
def test_sorted_keys_go_back_to_the_reference_order(source):
    kind, arch = source.split(":")
    with torch.device("meta"):  # keys only
        if kind == "torchvision":
            import torchvision
            ref = getattr(torchvision.models, arch)(weights=None, aux_logits=True, init_weights=False).state_dict()
        else:
            ref = pytest.importorskip("timm").create_model(arch, pretrained=False).state_dict()
    assert list(in_reference_order(source, dict(sorted(ref.items())))) == list(ref)


def test_reference_order_names_a_foreign_key():
    ref = _reference("torchvision:googlenet")
    old_style = {k: v for k, v in ref.items() if not k.endswith("num_batches_tracked")}  # pre-0.4.1 files
    assert list(in_reference_order("torchvision:googlenet", old_style)) == list(ref)
    ref["module.extra"] = torch.zeros(1)
    with pytest.raises(WeightsError, match=r"not a torchvision:googlenet state dict \(unexpected key 'module.extra'"):
        in_reference_order("torchvision:googlenet", ref, "x.pth")


def test_predict_weights_reads_a_safetensors_reference(tmp_path, capsys):
    st = tmp_path / "googlenet.safetensors"
    save_file({k: v.contiguous() for k, v in _reference("torchvision:googlenet").items()}, str(st))
    assert cli_main(["predict", "googlenet", "--weights", str(st), str(SAMPLE), "--backend", "torch", "--topk", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].strip().endswith(tuple("abcdefghijklmnopqrstuvwxyz)")) and "%" in out[1]


# ---- point 8: a full disk while saving --------------------------------------------------------------

@contextmanager
def _file_size_limit(nbytes: int):
    """Writes past ``nbytes`` fail with EFBIG, as on a full disk (the signal is ignored, as a shell does)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def test_full_disk_while_saving_is_one_line_and_keeps_the_previous_file(tmp_path, capsys):
    spec = _tiny()
    model = build_model(spec)
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, spec, model, ["a", "b", "c"])
    before = path.read_bytes()
    with _file_size_limit(64 * 1024):
        with pytest.raises(SaveError, match=r"^run\.safetensors: cannot write it \(File too large\); "
                                            r"the previous file is unchanged$"):
            save_checkpoint(path, spec, model, ["x", "y", "z"])
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["run.safetensors"]
    assert isinstance(SaveError("x"), OSError)  # callers that stop on OSError stop on this too


def test_import_weights_on_a_full_disk_exits_2_with_one_line(tmp_path, capsys):
    ref = tmp_path / "ref.pth"
    torch.save(_reference("torchvision:googlenet"), ref)
    out = tmp_path / "out" / "ours.safetensors"
    with _file_size_limit(1 << 20):
        code = cli_main(["import-weights", "torchvision:googlenet", str(ref), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err == "error: ours.safetensors: cannot write it (File too large); nothing was written\n"
    assert list(out.parent.iterdir()) == []  # no temporary file left behind


# ---- point 16: the user's normal file mode -----------------------------------------------------------

def test_checkpoints_get_the_umask_mode(tmp_path):
    """safetensors writes its files as 0600; ours get 0666 less the umask (ONNX exports: test_hostile_inputs)."""
    spec = _tiny()
    model = build_model(spec)
    old = os.umask(0o027)  # neither 0600 nor the common 0644: only the umask gives 0640
    try:
        save_checkpoint(tmp_path / "m.safetensors", spec, model)
    finally:
        os.umask(old)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o640


def test_class_names_round_trip_unchanged_but_print_escaped(good_ckpt, tmp_path, capsys):
    spec = _tiny()
    path = tmp_path / "evil.safetensors"
    names = ["a\x1b[31mRED", "b\nforged 100.00% line", "c\r\u202eexe"]
    save_checkpoint(path, spec, build_model(spec), names)
    assert load_checkpoint(path).class_names == names  # the data is kept; only its printing is made safe
    assert cli_main(["predict", str(path), str(SAMPLE), "--backend", "torch"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0].endswith("sample.bmp")  # the file, then one line per class
    assert any(line.endswith("b\\nforged 100.00% line") for line in lines)
    json_out = tmp_path / "o.json"
    assert cli_main(["predict", str(path), str(SAMPLE), "--backend", "torch", "--json"]) == 0
    json_out.write_text(capsys.readouterr().out)
    got = {t["class"] for t in json.loads(json_out.read_text())["results"][0]["top"]}
    assert got == set(names)  # JSON carries them exactly (escaped by JSON itself)
