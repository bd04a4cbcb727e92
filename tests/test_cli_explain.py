"""``inception-studio explain``: the worked numbers in text and JSON, the block index, errors as one line."""
from __future__ import annotations

import json

from inception_studio.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_block_prints_the_lecture_example_and_edits(capsys):
    code, out, _ = run(capsys, "explain", "googlenet_paper", "--block", "3a")
    assert code == 0
    assert "3a of googlenet_paper at 224 px: 28x28x192 -> 28x28x256" in out
    line = next(x for x in out.splitlines() if "straight on 192 channels: 5x5 32" in x)
    assert "120,422,400" in line
    assert "12,443,648" in next(x for x in out.splitlines() if "branch 2: 1x1 16 > 5x5 32" in x)
    assert "Going Deeper with Convolutions (Szegedy et al., 2014)" in out
    assert "--set stage.inception_3.block.0.branch.2.kernel=stacked" in out


def test_explain_json_grid_reduction_of_mixed_6a(capsys):
    code, out, _ = run(capsys, "explain", "inception_v3", "--block", "Mixed_6a", "--json")
    assert code == 0
    data = json.loads(out)
    idea = next(i for i in data["ideas"] if i["key"] == "grid_reduction")
    values = {f["label"]: f["exact"] for f in idea["figures"]}
    assert values["conv then pool: 2d²k²"] == 203_212_800
    assert values["pool then conv: 2(d/2)²k²"] == 50_803_200
    assert data["input"] == [288, 35, 35] and data["output"] == [768, 17, 17]


def test_explain_network_lists_each_blocks_ideas(capsys):
    code, out, _ = run(capsys, "explain", "inception_resnet_v2", "--json")
    assert code == 0
    data = json.loads(out)
    assert {i["key"] for i in data["ideas"]} >= {"gap_head", "alexnet", "stages"}
    by_name = {b["name"]: b["ideas"] for b in data["blocks"]}
    assert "residual" in by_name["block35_1"] and "grid_reduction" in by_name["mixed_6a"]
    code, out, _ = run(capsys, "explain", "googlenet", "--set", "aux=false")
    assert code == 0 and "Ideas per block" in out and "4a" in out


def test_explain_unknown_block_is_one_line(capsys):
    code, out, err = run(capsys, "explain", "inception_v3", "--block", "Mixed_9z")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "no block 'Mixed_9z'" in err
