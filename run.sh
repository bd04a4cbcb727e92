#!/usr/bin/env bash
# One entry point for a fresh machine: installs what is missing, then
#   bash run.sh app    -> opens Inception Studio on its built-in demo
#   bash run.sh test   -> runs the test suite (python -m pytest)
# Extra arguments are passed on (to the app, or to pytest).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

ensure_installed() {
  if ! "$PY" - <<'PY' 2>/dev/null
import importlib.metadata as md, sys
import inception_studio, torch, torchvision, PySide6, pyqtgraph, onnx, onnxruntime, safetensors  # noqa
import pytest, pytestqt, timm, hypothesis  # noqa
md.distribution("inception-studio")
PY
  then
    echo "run.sh: installing inception-studio and its dependencies (first run only; torch is large)..." >&2
    "$PY" -m pip install --quiet --disable-pip-version-check -e ".[test]"
  fi
  # Qt needs a few system libraries even offscreen; install them if this is a bare Debian/Ubuntu.
  if ! QT_QPA_PLATFORM=offscreen "$PY" -c "from PySide6.QtWidgets import QApplication; QApplication([])" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      echo "run.sh: installing Qt's system libraries..." >&2
      apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 >/dev/null
    fi
  fi
}

cmd=${1:-app}
shift || true
case "$cmd" in
  app)
    ensure_installed
    exec "$PY" -m inception_studio "$@"
    ;;
  test)
    ensure_installed
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    # Triton (imported by torchvision/timm) prints nanobind "leaked" reports at interpreter exit,
    # after pytest's summary; drop them so the summary stays the last line. Exit status is pytest's.
    set -o pipefail
    "$PY" -m pytest -q "$@" 2>&1 | grep --line-buffered -v -E '^(nanobind: |See https://nanobind| - leaked | - \.\.\. skipped remainder)'
    ;;
  *)
    echo "usage: bash run.sh [app|test] [args...]" >&2
    exit 2
    ;;
esac
