"""The README's notebook path: the whole job (spec, edit, build, fit, predict, export) in ten lines from
``import inception_studio``, run exactly as the README prints them (a tiny model, the demo data, a few steps)."""
from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_snippet() -> str:
    """The first Python block of the README's "## Python" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_notebook_lines_do_the_whole_job(tmp_path, monkeypatch):
    code = readme_snippet()
    lines = [ln for ln in code.splitlines() if ln.strip()]
    assert lines[0] == "import inception_studio as s" and len(lines) <= 10
    for step in ("get_spec", "apply_edits", "build_model", "fit", "Predictor", "predict", "export_onnx"):
        assert f"s.{step}(" in code or f".{step}(" in code, step
    (tmp_path / "assets").mkdir()
    shutil.copytree(REPO / "assets" / "samples", tmp_path / "assets" / "samples")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    scope: dict = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own lines, run as a user would
    printed = out.getvalue().splitlines()
    assert printed[0] == "611488"  # the README's comment says 611,488
    run, p = scope["run"], scope["p"]
    assert run.spec.num_classes == 4 and run.class_names == ["circle", "square", "stripes", "triangle"]
    assert 0.0 <= run.val_acc <= 1.0 and run.reason == "finished"
    top = eval(printed[1])  # noqa: S307 - the printed top-k list
    assert [n for n, _ in top] and {n for n, _ in top} <= set(run.class_names)
    assert abs(sum(prob for _, prob in top) - 1.0) < 1e-4  # all four classes: the whole distribution
    assert p.spec == run.spec
    assert (tmp_path / "demo.onnx").stat().st_size > 100_000
