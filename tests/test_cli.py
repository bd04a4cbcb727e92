"""The CLI as the acceptance checks drive it: JSON output, edits, errors as one line with exit 2."""
from __future__ import annotations

import json

import pytest
import torch

from inception_studio.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_variants_json_lists_every_preset(capsys):
    code, out, _ = run(capsys, "variants", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert len(rows) == 9
    assert rows["googlenet"]["params"] == 6_624_904
    assert rows["inception_v4"]["weights"] == "timm:inception_v4"


def test_summary_with_edits_json(capsys):
    code, out, _ = run(capsys, "summary", "inception_v4", "--set", "stage.inception_a.count=2",
                       "--set", "stage.inception_b.count=4", "--set", "stage.inception_c.count=2", "--json")
    assert code == 0
    data = json.loads(out)
    counts = {s["name"]: s["count"] for s in data["stages"]}
    assert (counts["inception_a"], counts["inception_b"], counts["inception_c"]) == (2, 4, 2)
    assert data["params"] < 42_679_816
    assert data["rows"][-1]["name"] == "head"


def test_summary_table_prints_the_papers_columns(capsys):
    code, out, _ = run(capsys, "summary", "googlenet_paper")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("3a "))
    for value in ("28x28x256", "64", "96", "128", "16", "32"):
        assert value in line
    assert "1.583 G multiply-adds" in out


def test_summary_of_a_saved_spec_file(capsys, tmp_path):
    from inception_studio import get_spec
    path = tmp_path / "mine.json"
    path.write_text(get_spec("nin").to_json())
    code, out, _ = run(capsys, "summary", str(path), "--input-size", "128", "--json")
    assert code == 0 and json.loads(out)["input_size"] == 128


@pytest.mark.parametrize("args, message", [
    (("summary", "inception_v9"), "unknown variant 'inception_v9'"),
    (("summary", "inception_v3", "--set", "aux=false", "--input-size", "64"), "inception_v3 needs at least 75 px"),
    (("summary", "inception_v4", "--set", "stage.inception_b.count=-2"), "count must be >= 0"),
    (("summary", "nope.json"), "nope.json: no such file"),
    (("export-onnx", "missing.safetensors", "-o", "x.onnx"), "missing.safetensors: no such file"),
    (("summary",), "the following arguments are required"),
])
def test_errors_are_one_line_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.slow
def test_import_weights_then_export_onnx(capsys, tmp_path):
    import torchvision
    torch.manual_seed(0)
    ref = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True).eval()
    weights = tmp_path / "googlenet.pth"
    torch.save(ref.state_dict(), weights)
    ckpt = tmp_path / "g.safetensors"
    # in this process (a subprocess per command spent ~8 s importing torch again); `python -m
    # inception_studio` as a program is run by test_desktop.py and engine/test_ddp.py
    code, _, err = run(capsys, "import-weights", "torchvision:googlenet", str(weights), "-o", str(ckpt))
    assert code == 0, err
    from inception_studio.core.weights import load_checkpoint, model_from_checkpoint
    ck = load_checkpoint(ckpt)
    assert len(ck.class_names) == 1000 and ck.metadata["source"] == "torchvision:googlenet"
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert (model_from_checkpoint(ck).eval()(x) - ref(x)).abs().max() <= 1e-4
    onnx_path = tmp_path / "g.onnx"
    code, out, err = run(capsys, "export-onnx", str(ckpt), "-o", str(onnx_path), "--input-size", "160")
    assert code == 0, err
    assert "onnx.checker ok" in out and "max |diff|" in out
    import onnx
    names = [n.name for n in onnx.load(str(onnx_path)).graph.node]
    assert any("inception4a" in n for n in names)  # node names carry the block names


def test_export_an_edited_variant(capsys, tmp_path):
    code, out, err = run(capsys, "export-onnx", "bn_inception", "-o", str(tmp_path / "b.onnx"), "--set", "width_mult=0.25",
                         "--set", "num_classes=10", "--input-size", "96")
    assert code == 0, err
    diff = float(out.split("max |diff| = ")[1].split()[0])
    assert diff < 1e-3
