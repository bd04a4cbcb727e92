"""Fuzz the loaders (issue 12, Checks): mutated spec JSON and checkpoint headers.

Every example must end in success or a ``StudioError`` whose message is one line — never another
exception, never a hang (each example runs under an alarm). Specs that load are also analysed and
given their preprocessing, as every command and the GUI do next. Hypothesis picks the mutations; its example database replays a
failure first on the next run.
"""
from __future__ import annotations

import json
import os
import signal
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from inception_studio.core import edits
from inception_studio.core.analysis import analyze
from inception_studio.core.build import build_model
from inception_studio.core.presets import get_spec
from inception_studio.core.spec import ArchSpec
from inception_studio.core.weights import load_checkpoint, save_checkpoint
from inception_studio.engine.data import Preprocess
from inception_studio.errors import StudioError
from tests.deadline import deadline

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM for the hang guard")

EXAMPLE_SECONDS = 10  # far above any example's real time (~10 ms): only a hang reaches it
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))  # FUZZ_SCALE=20 for a long hunt; the suite runs 1
BASES = {name: json.loads(get_spec(name).to_json()) for name in ("nin", "googlenet", "inception_resnet_v2")}

HOSTILE_TEXT = st.sampled_from(["", ".", "..", "../../etc", "a.b", "/abs/x", "forward", "x" * 300, "1e400",
                                "\x1b[31m", "a\nb", "\u202e", "10", "NaN", "{}", "[]", "same", "valid", "conv"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.sampled_from([0, 1, 2, 3, -1, 4097, 16385]),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.5, 1e-300, 1e300, -0.0]),
                    HOSTILE_TEXT, st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _paths(node, prefix=()):
    """Every path into a JSON tree (to pick one to change)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = {name: [p for p in _paths(d) if p] for name, d in BASES.items()}
# The network-wide fields are few among thousands of op fields: pick from them half of the time.
TOP = {name: [p for p in paths if len(p) <= 3 and p[0] != "stages"] for name, paths in PATHS.items()}


def _like(draw, old):
    """A value of ``old``'s JSON type: a boundary number, a hostile name, a list with items dropped or repeated."""
    if isinstance(old, bool):
        return draw(st.booleans())
    if isinstance(old, int):
        return draw(st.sampled_from([0, 1, 2, 3, -1, 2 * old, old + 1, 64, 65, 4096, 4097, 16384, 16385])
                    | st.integers(-5, 5000))
    if isinstance(old, float):
        return draw(st.sampled_from([0.0, 1.0, -1.0, 1e-12, 0.999, 10.0, 10.5, 100.5]) | st.floats(-20, 20))
    if isinstance(old, str):
        return draw(HOSTILE_TEXT | st.text(max_size=12))
    if isinstance(old, list) and old:
        how = draw(st.sampled_from(["drop", "repeat", "reverse", "empty"]))
        i = draw(st.integers(0, len(old) - 1))
        return {"drop": old[:i] + old[i + 1:], "repeat": old[: i + 1] + old[i:], "reverse": old[::-1], "empty": []}[how]
    return old


@st.composite
def mutated_spec_json(draw) -> str:
    """A preset's JSON with one to three fields changed, removed or added, or its text cut or corrupted."""
    name = draw(st.sampled_from(sorted(BASES)))
    d = json.loads(json.dumps(BASES[name]))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(TOP[name] if draw(st.booleans()) else PATHS[name]))
        node = d
        try:
            for key in path[:-1]:
                node = node[key]
            action = draw(st.sampled_from(["like", "like", "like", "set", "set", "delete", "add"]))
            if action == "like":  # same JSON type, hostile value: reaches the range checks and the analysis
                node[path[-1]] = _like(draw, node[path[-1]])
            elif action == "set":
                node[path[-1]] = draw(VALUES)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[draw(st.text(max_size=10))] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    text = json.dumps(d)
    cut = draw(st.sampled_from(["none", "none", "none", "truncate", "byte"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "byte":
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(["\x00", "{", "]", '"', "\\", "9", "-", "\ud800"])) + text[i + 1:]
    return text


def _outcome(fn) -> str:
    """Run ``fn``: "ok", or "error" for a one-line StudioError; anything else fails the test."""
    try:
        with deadline(EXAMPLE_SECONDS, "a loader"):
            fn()
    except StudioError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc), repr(str(exc))
        assert str(exc).strip(), "an empty message"
        return "error"
    return "ok"


def _open_spec(text: str) -> None:
    """What opening a spec does: read it, analyse it, and (for images) set up its preprocessing."""
    spec = ArchSpec.from_json(text)
    analyze(spec)
    if spec.in_channels in (1, 3):  # the Run panel and predict refuse other channel counts first
        Preprocess(spec.input_size, spec.crop_pct, spec.mean, spec.std, spec.interpolation, spec.in_channels)


@settings(max_examples=int(300 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_spec_json())
def test_mutated_spec_json_loads_or_says_why_in_one_line(text):
    _outcome(lambda: _open_spec(text))


# ---- checkpoint headers -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> tuple[dict[str, str], dict, Path]:
    spec = edits.set_field(edits.scale_widths(get_spec("nin"), 0.0625), "num_classes", 3)
    path = tmp_path_factory.mktemp("fuzz") / "base.safetensors"
    save_checkpoint(path, spec, build_model(spec), ["a", "b", "c"], {"config": {"epochs": 1}, "step": 3})
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return header.pop("__metadata__"), {"raw": raw, "n": n}, path.parent


HEADER_KEYS = ["format", "version", "spec", "class_names", "metadata", "extra"]


@st.composite
def mutated_header(draw, meta: dict[str, str]) -> dict[str, str]:
    """The checkpoint's header metadata with fields replaced by (mutated) JSON or text, or removed."""
    out = dict(meta)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(HEADER_KEYS))
        kind = draw(st.sampled_from(["json", "json", "spec", "text", "delete"]))
        if kind == "delete":
            out.pop(key, None)
        elif kind == "spec":
            out[key] = draw(mutated_spec_json())
        elif kind == "json":
            out[key] = json.dumps(draw(VALUES))
        else:
            out[key] = draw(HOSTILE_TEXT | st.text(max_size=30))
    return out


@settings(max_examples=int(60 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_checkpoint_header_loads_or_says_why_in_one_line(tiny_checkpoint, data):
    meta, base, folder = tiny_checkpoint
    from safetensors import safe_open

    with safe_open(str(folder / "base.safetensors"), "pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    header = data.draw(mutated_header(meta))
    path = folder / "mutated.safetensors"
    try:
        save_file(tensors, str(path), metadata={k: v for k, v in header.items() if "\x00" not in k})
    except Exception:  # noqa: BLE001 - a header safetensors itself will not write (e.g. lone surrogates)
        return
    _outcome(lambda: load_checkpoint(path))


@settings(max_examples=int(60 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_checkpoint_bytes_load_or_say_why_in_one_line(tiny_checkpoint, data):
    """The raw header: its length prefix, its JSON bytes, or the file cut short."""
    _, base, folder = tiny_checkpoint
    raw = bytearray(base["raw"])
    how = data.draw(st.sampled_from(["length", "bytes", "truncate"]))
    if how == "length":
        raw[:8] = struct.pack("<Q", data.draw(st.sampled_from([0, 1, 2, base["n"] - 1, base["n"] + 1, 2**40, 2**64 - 1])
                                             | st.integers(0, 2**64 - 1)))
    elif how == "bytes":
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(8, 8 + base["n"] - 1))] = data.draw(st.integers(0, 255))
    else:
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    path = folder / "corrupt.safetensors"
    path.write_bytes(bytes(raw))
    _outcome(lambda: load_checkpoint(path))
