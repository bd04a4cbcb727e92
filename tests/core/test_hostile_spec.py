"""Hostile and careless spec files: every wrong field is a one-line SpecError naming it (issue 12, points 1, 5, 11).

Each case is a preset's JSON with one field broken the way a person (or an attacker) would break it;
before the fix these raised TypeError, AttributeError, KeyError, ZeroDivisionError or RecursionError.
"""
from __future__ import annotations

import copy
import json
import os

import pytest
from torch import nn

from inception_studio.cli import main as cli_main
from inception_studio.core import edits
from inception_studio.core.analysis import analyze
from inception_studio.core.build import build_model
from inception_studio.core.names import printable, safe_filename
from inception_studio.core.presets import get_spec, list_variants
from inception_studio.core.spec import RESERVED_NAMES, ArchSpec
from inception_studio.core.spec import read_spec_file
from inception_studio.core.spec_json import MAX_SPEC_BYTES
from inception_studio.errors import SpecError

OP0 = ["stages", 0, "blocks", 0, "branches", 0, "ops", 0]


def _mutated(path: list, value, variant: str = "googlenet", **top) -> dict:
    d = copy.deepcopy(json.loads(get_spec(variant).to_json()))
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    d.update(top)
    return d


CASES = [
    (["num_classes"], "10", {}, r"num_classes: must be a whole number, got text '10'"),
    (["input_size"], "big", {}, r"input_size: must be a whole number, got text 'big'"),
    (OP0 + ["k"], "77", {}, r"ops\[0\]\.k: must be a list"),
    (OP0 + ["k"], [7, "7"], {}, r"ops\[0\]\.k\[1\]: must be a whole number"),
    (OP0 + ["stride"], "2", {}, r"ops\[0\]\.stride: must be a whole number, got text '2'"),
    (["aux", 0, "index"], "x", {"aux_enabled": True}, r"aux\[0\]\.index: must be a whole number"),
    (["stages"], "notalist", {}, r"spec\.stages: must be a list, got text 'notalist'"),
    (["num_classes"], 10.5, {}, r"num_classes: must be a whole number, got 10\.5"),
    (["num_classes"], True, {}, r"num_classes: must be a whole number, got true"),
    (["stages", 0, "blocks", 0, "name"], "a.b", {}, r"name 'a\.b' must be a letter"),
    (["stages", 0, "blocks", 0, "name"], "../../etc", {}, r"name '\.\./\.\./etc' must be a letter"),
    (["stages", 0, "blocks", 0, "name"], ["x"], {}, r"blocks\[0\]\.name: must be text, got a list"),
    (["stages", 0, "blocks", 0, "name"], "forward", {}, r"name 'forward' is reserved"),
    (["stages", 0, "name"], "", {}, r"stage 0: name '' must be a letter"),
    (["aux", 0, "name"], "training", {}, r"name 'training' is reserved"),
    (["width_mult"], 0, {}, r"width_mult must be in \(0, 1000\], got 0"),
    (["width_mult"], "x", {}, r"width_mult: must be a number, got text 'x'"),
    (["bn_eps"], -1, {}, r"bn_eps must be in \(0, 1\]"),
    (["crop_pct"], 0, {}, r"crop_pct must be in \(0, 1\]"),
    (["std"], [0, 1, 1], {}, r"std must be positive"),
    (["interpolation"], "nearest-ish", {}, r"interpolation must be 'bilinear' or 'bicubic'"),
    (["aux", 0, "loss_weight"], 1e300, {}, r"loss_weight must be in \[0, 100\]"),
    (["aux", 0, "pool_s"], 0, {}, r"pool_s must be a positive integer"),
    (OP0 + ["out"], 10**6, {}, r"width must be <= 16384"),
    (OP0 + ["k"], [0, 3], {}, r"kernel size must be a positive integer"),
    (["title"], "evil\x1b[2J\nforged", {}, r"title: holds control characters \(evil\\x1b\[2J\\nforged\)"),
    (["description"], "x" * 20_001, {}, r"description: text of 20,001 characters is too long"),
    (["stages", 0, "blocks", 0, "oops\nline"], 1, {}, r"unknown field\(s\) oops\\nline"),
    (["head"], [], {}, r"spec\.head: must be an object, got a list of 0"),
]


@pytest.mark.parametrize("path,value,top,message", CASES, ids=[f"{'.'.join(map(str, c[0]))}={c[1]!r}"[:40] for c in CASES])
def test_wrong_field_is_one_line_spec_error_naming_it(path, value, top, message):
    text = json.dumps(_mutated(path, value, **top))
    with pytest.raises(SpecError, match=message) as info:
        ArchSpec.from_json(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text,message", [
    ('{"schema_version": 1, "input_size": NaN}', "NaN is not a number JSON allows"),
    ('{"schema_version": 1, "input_size": Infinity}', "Infinity is not a number JSON allows"),
    ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ('{"schema_version": 1, "num_classes": 1' + "0" * 5000 + "}", "not valid JSON"),
    ('{"schema_version": [1]}', "schema_version a list of 1 is not supported"),
])
def test_json_level_tricks_are_spec_errors(text, message):
    with pytest.raises(SpecError, match=message):
        ArchSpec.from_json(text)


def test_every_preset_still_reads_back_and_builds_its_names():
    for name in list_variants():
        spec = get_spec(name)
        assert ArchSpec.from_json(spec.to_json()) == spec
        assert ArchSpec.from_dict(spec.to_dict()) == spec  # tuples (the Python API) as well as JSON lists


def test_valid_names_really_build_and_reserved_list_is_current():
    """The reserved names are exactly what torch's containers refuse; a plain identifier builds."""
    containers = set(dir(nn.ModuleDict())) | set(dir(nn.Sequential()))
    assert {n for n in containers if not n.startswith("_")} <= RESERVED_NAMES
    d = _mutated(["stages", 0, "blocks", 0, "name"], "my_block_2", variant="nin")
    model = build_model(ArchSpec.from_json(json.dumps(d)), check_memory=False)
    assert "my_block_2" in dict(model.stages[d["stages"][0]["name"]].named_children())


def test_set_width_mult_on_a_read_spec_cannot_divide_by_zero(tmp_path, capsys):
    bad = tmp_path / "zero.json"
    bad.write_text(json.dumps(_mutated(["width_mult"], 0, variant="nin")))
    assert cli_main(["summary", str(bad), "--set", "width_mult=0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: zero.json: width_mult must be in (0, 1000]") and err.count("\n") == 1
    good = get_spec("nin")
    assert edits.apply_edits(good, ["width_mult=0.5"]).width_mult == 0.5
    with pytest.raises(SpecError, match="width_mult: must be a positive number, got 'x'"):
        edits.apply_edits(good, ["width_mult=x"])


def test_num_classes_float_refused_at_export(tmp_path, capsys):
    bad = tmp_path / "float.json"
    bad.write_text(json.dumps(_mutated(["num_classes"], 10.5, variant="nin")))
    assert cli_main(["export-onnx", str(bad), "-o", str(tmp_path / "x.onnx")]) == 2
    assert "num_classes: must be a whole number, got 10.5" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_spec_file_size_is_bounded_before_reading(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_SPEC_BYTES + 1)  # sparse: costs nothing on disk
    with pytest.raises(SpecError, match=r"^big\.json: too large \(4\.0 MiB; at most 4 MiB\)$"):
        read_spec_file(big)
    with pytest.raises(SpecError, match="too large for a spec"):
        ArchSpec.from_json(" " * (MAX_SPEC_BYTES + 1))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_spec_fifo_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match=r"^spec\.json: is a named pipe \(FIFO\), not a file$"):
        read_spec_file(fifo)
    assert cli_main(["summary", str(fifo)]) == 2
    assert "FIFO" in capsys.readouterr().err


def test_long_description_reads_but_stays_bounded():
    spec = ArchSpec.from_json(json.dumps(_mutated(["description"], "y" * 20_000)))
    assert len(spec.description) == 20_000
    assert analyze(spec).params > 0


@pytest.mark.parametrize("name,expected", [
    ("/some/dir/x", "some_dir_x"), ("../../a/b/x", "a_b_x"), ("", "model"), ("..", "model"),
    ("googlenet", "googlenet"), ("CON", "model_CON"), ("a\nb\x1b[31m", "a_b_31m"), ("Ünïcode net", "Unicode_net"),
])
def test_safe_filename_is_one_plain_component(name, expected):
    out = safe_filename(name)
    assert out == expected
    assert os.sep not in out and not out.startswith(".") and len(out) <= 64


def test_printable_escapes_what_would_forge_a_line():
    assert printable("b\nforged 100.00% line") == "b\\nforged 100.00% line"
    assert printable("a\x1b[31mRED\u202e") == "a\\x1b[31mRED\\u202e"
    assert printable("café 猫") == "café 猫"
    assert printable("z" * 500, 10) == "z" * 9 + "…"
