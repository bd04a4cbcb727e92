"""The core and engine never import Qt (the GUI layer owns every Qt import)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "inception_studio"
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_qt_import_in_core_or_engine_sources():
    offenders = []
    for sub in ("core", "engine", "commands"):
        for path in (PKG / sub).rglob("*.py"):
            bad = _imports(path) & set(QT)
            if bad:
                offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    for path in (PKG / "cli.py", PKG / "errors.py", PKG / "__init__.py"):
        if _imports(path) & set(QT):
            offenders.append(str(path))
    assert offenders == []


def test_importing_core_and_engine_loads_no_qt():
    mods = [f"inception_studio.{sub}.{p.stem}" for sub in ("core", "engine") for p in (PKG / sub).glob("*.py")
            if p.stem != "__init__"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods) +
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
