#!/usr/bin/env bash
# Two commands on a fresh machine:
#   bash run.sh app    -> opens Inception Studio on its built-in demo (extra arguments go to the app)
#   bash run.sh test   -> runs the test suite, python -m pytest -q (extra arguments go to pytest)
# The first run makes the project's own virtual environment, .venv in this checkout, from a Python >= 3.10
# (PYTHON=/path/to/python3 chooses it; else the first python3 on PATH), and installs the project into it.
# Later runs reuse it after a quick check. pip only ever runs as .venv/bin/python -m pip. System packages
# (python3.X-venv, Qt's libraries) are installed with apt-get when run as root; otherwise run.sh prints the
# one-line command to run and exits 2.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
VPY=$VENV/bin/python
STAMP=$VENV/.run-sh-installed
# What `pip install -e ".[test]"` provides, as import names; checked without importing anything.
MODULES="inception_studio torch torchvision PySide6 pyqtgraph onnx onnxruntime safetensors numpy PIL pytest pytestqt timm hypothesis sklearn"
PY=""

say() { printf 'run.sh: %s\n' "$*" >&2; }
die() { printf 'run.sh: %b\n' "$*" >&2; exit 2; }
root_with_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# apt_install WHAT PACKAGE...: install Debian/Ubuntu packages (as root); apt's output only if it fails.
apt_install() {
  local what=$1 log; shift
  log=$(mktemp)
  say "installing $what with apt-get: $* (a few MB) ..."
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 15 "$log" >&2; rm -f "$log"
    die "apt-get could not install $* (see above)"
  fi
  rm -f "$log"
}

# The one-line command for someone who is not root, or the packages' names where there is no apt.
hint_install() {
  if command -v apt-get >/dev/null 2>&1; then
    printf '  sudo apt-get install -y %s' "$*"
  else
    printf '  (install the packages that provide these with your system package manager): %s' "$*"
  fi
}

# ---- the interpreter and the virtual environment ------------------------------------------------

py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; }

pick_python() {
  if [ -n "${PYTHON:-}" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON: no such program"
    py_ok "$PYTHON" || die "PYTHON=$PYTHON is $("$PYTHON" -V 2>&1); Inception Studio needs Python >= 3.10"
    PY=$PYTHON
    return
  fi
  local c
  for c in python3 python3.14 python3.13 python3.12 python3.11 python3.10 python; do
    if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then PY=$c; return; fi
  done
  die "no Python >= 3.10 on PATH. Install one (Debian/Ubuntu: sudo apt-get install -y python3 python3-venv)," \
      "or point PYTHON= at one: PYTHON=/path/to/python3 bash run.sh ${CMD:-app}"
}

# Debian and Ubuntu ship venv's ensurepip in a separate package (python3.X-venv).
ensure_venv_module() {
  "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 && return
  local pkg
  pkg=$("$PY" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')
  if root_with_apt; then
    apt_install "Python's venv module" "$pkg"
    "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 && return
    die "$PY still has no venv/ensurepip module after installing $pkg"
  fi
  die "$PY ($("$PY" -V 2>&1)) cannot make a virtual environment: its venv module is not installed. Run:\n$(hint_install "$pkg")\nthen bash run.sh ${CMD:-app} again (or set PYTHON= to another Python >= 3.10)."
}

base_of() { "$1" -c 'import os, sys; print(os.path.realpath(sys.base_prefix), sys.version.split()[0])'; }

ensure_venv() {
  if [ -e "$VENV" ] && ! "$VPY" -c '' >/dev/null 2>&1; then
    [ -f "$VENV/pyvenv.cfg" ] || die "$VENV is in the way but is not a virtual environment; move it aside and run this again"
    say "$VENV does not run (was its Python removed or upgraded?); making it again"
    rm -rf "$VENV"
  fi
  if [ -x "$VPY" ]; then
    if [ -n "${PYTHON:-}" ]; then
      pick_python
      local have want
      have=$(base_of "$VPY"); want=$(base_of "$PY")
      [ "$have" = "$want" ] || die "$VENV was made from the Python in ${have% *} (${have##* }), not PYTHON=$PYTHON (${want% *}, ${want##* }). To remake it from PYTHON:\n  rm -rf $VENV && PYTHON=$PYTHON bash run.sh ${CMD:-app}"
    fi
    return
  fi
  pick_python
  ensure_venv_module
  say "making the project's virtual environment $VENV from $PY ($("$PY" -V 2>&1))"
  if ! "$PY" -m venv "$VENV" >&2; then
    rm -rf "$VENV"
    die "could not make $VENV with $PY (see above)"
  fi
}

# ---- the project inside it ----------------------------------------------------------------------

stamp_text() { printf '%s %s\n' "$(cksum < pyproject.toml)" "$PWD"; }

# Every module importable (found, not imported) and inception_studio coming from this checkout.
modules_found() {
  # shellcheck disable=SC2086  # one module per word
  "$VPY" -I - "$PWD" $MODULES >/dev/null 2>&1 <<'PY'
import importlib.util, os, sys
here, names = os.path.realpath(sys.argv[1]), sys.argv[2:]
missing = [n for n in names if importlib.util.find_spec(n) is None]
origin = os.path.realpath(importlib.util.find_spec("inception_studio").origin) if not missing else ""
sys.exit(1 if missing or not origin.startswith(here + os.sep) else 0)
PY
}

ensure_installed() {
  ensure_venv
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_text)" ] && modules_found; then
    return
  fi
  if [ -f "$STAMP" ]; then
    say "pyproject.toml changed since $VENV was set up: updating it (pip install -e \".[test]\")"
  else
    say "installing inception-studio and its dependencies into $VENV with its own pip:"
    say "  torch and torchvision with torch's CUDA libraries (~3 GB to download, ~5 GB on disk), PySide6-Essentials,"
    say "  onnx, onnxruntime, pyqtgraph, safetensors, and for the tests pytest, pytest-qt, timm, hypothesis, scikit-learn."
    say "  First run only: about 6 GB of disk and a few minutes (mostly downloading torch); later runs start at once."
  fi
  local t0=$SECONDS
  "$VPY" -m pip install --disable-pip-version-check -e ".[test]" \
    || die "pip could not install the project into $VENV (see above). Fix that, then run bash run.sh ${CMD:-app} again."
  modules_found || die "pip finished but some modules are still missing from $VENV: $MODULES"
  stamp_text > "$STAMP"
  say "installed in $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s; $VENV takes $(du -sh "$VENV" | cut -f1)"
}

# ---- Qt's system libraries for the platform that will be used -----------------------------------

qt_dir() {
  "$VPY" -I -c 'import importlib.util as u, os; print(os.path.join(u.find_spec("PySide6").submodule_search_locations[0], "Qt"))'
}

# missing_sonames PLATFORM...: the shared libraries Qt's widgets and these platform plugins cannot find.
missing_sonames() {
  local qt p f
  qt=$(qt_dir) || return 0
  local files=("$qt/lib/libQt6Core.so.6" "$qt/lib/libQt6Gui.so.6" "$qt/lib/libQt6Widgets.so.6")
  for p in "$@"; do
    case $p in
      xcb) files+=("$qt/lib/libQt6XcbQpa.so.6" "$qt/plugins/platforms/libqxcb.so") ;;
      wayland*) files+=("$qt/lib/libQt6WaylandClient.so.6" "$qt"/plugins/platforms/libqwayland*.so) ;;
      *) files+=("$qt/plugins/platforms/libq$p.so") ;;
    esac
  done
  for f in "${files[@]}"; do
    if [ -e "$f" ]; then ldd "$f" 2>/dev/null || true; fi
  done | awk '$2 == "=>" && $3 == "not" {print $1}' | LC_ALL=C sort -u
}

# The Debian/Ubuntu package of a library: libxcb-cursor.so.0 -> libxcb-cursor0, libX11-xcb.so.1 -> libx11-xcb1.
deb_package() {
  local name=${1%%.so.*} ver=${1##*.so.}
  case $name in
    libglib-2.0|libgobject-2.0|libgthread-2.0|libgio-2.0) echo libglib2.0-0; return ;;
  esac
  name=$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')
  case $name in *[0-9]) echo "$name-$ver" ;; *) echo "$name$ver" ;; esac
}

# Start a QApplication as the app will (same environment); prints Qt's platform name, or fails.
PROBE='import sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
print(app.platformName())'

probe_qt() {  # probe_qt ERRFILE; the subshell waits for Python, so a Qt abort is reported into ERRFILE too
  (ulimit -c 0; "$VPY" -c "$PROBE"; exit $?) >/dev/null 2>"$1"
}

# Qt's own words for a failed start, a display it cannot reach first (its "xcb-cursor0 is needed" line
# follows any xcb failure, so it is dropped here, where the libraries are known to be present).
qt_reason() {
  local lines
  lines=$(grep -E 'could not connect|Failed to create wl_display|cannot open display' "$1" | head -n 2)
  [ -n "$lines" ] || lines=$(grep -E 'qt\.qpa|Could not|error' "$1" | grep -v 'From 6\.5\.0' | head -n 3)
  printf '%s\n' "${lines:-(Qt said nothing)}" | sed 's/^/  /'
}

where() {  # where PLATFORM...: the display each platform would use
  local p out=""
  for p in "$@"; do
    case $p in
      xcb) out+=" DISPLAY=${DISPLAY:-}" ;;
      wayland*) out+=" WAYLAND_DISPLAY=${WAYLAND_DISPLAY:-}" ;;
    esac
  done
  [ -z "$out" ] || printf ' (%s)' "${out# }"
}

# ensure_qt PLATFORM...: Qt starts on the platform it will use, installing what it misses (as root).
ensure_qt() {
  local err pkgs=() so why
  err=$(mktemp)
  if probe_qt "$err"; then rm -f "$err"; return; fi
  for so in $(missing_sonames "$@"); do deb_package "$so"; done | LC_ALL=C sort -u > "$err.pkgs"
  mapfile -t pkgs < "$err.pkgs"
  rm -f "$err.pkgs"
  if [ ${#pkgs[@]} -eq 0 ]; then
    why=$(qt_reason "$err"); rm -f "$err"
    die "Qt could not start on the '$*' platform$(where "$@"):\n$why"
  fi
  rm -f "$err"
  if root_with_apt; then
    apt_install "the system libraries Qt's '$*' platform needs" "${pkgs[@]}"
    err=$(mktemp)
    if probe_qt "$err"; then rm -f "$err"; return; fi
    why=$(qt_reason "$err"); rm -f "$err"
    die "Qt still cannot start on the '$*' platform$(where "$@") after installing ${pkgs[*]}:\n$why"
  fi
  local sonames
  sonames=$(missing_sonames "$@" | tr '\n' ' ')
  die "Qt's '$*' platform needs system libraries that are missing: ${sonames% }. Install them with:\n$(hint_install "${pkgs[@]}")\nthen run bash run.sh ${CMD:-app} again."
}

# The platforms Qt will try for a window: QT_QPA_PLATFORM, else Wayland and/or X11 from the session.
app_platforms() {
  if [ -n "${QT_QPA_PLATFORM:-}" ]; then
    printf '%s\n' "$QT_QPA_PLATFORM" | tr ';' '\n' | cut -d: -f1
  else
    if [ -n "${WAYLAND_DISPLAY:-}" ]; then echo wayland; fi
    if [ -n "${DISPLAY:-}" ]; then echo xcb; fi
  fi
}

# ---- the two commands ---------------------------------------------------------------------------

activate() { export VIRTUAL_ENV=$PWD/$VENV PATH=$PWD/$VENV/bin:$PATH; }

CMD=${1:-app}
shift || true
case "$CMD" in
  app)
    platforms=$(app_platforms)
    [ -n "$platforms" ] || die "no display: DISPLAY and WAYLAND_DISPLAY are both unset. Run this in a desktop" \
      "session (or over ssh -X); for a window-less try, QT_QPA_PLATFORM=offscreen bash run.sh app"
    ensure_installed
    # shellcheck disable=SC2086  # one platform per word
    ensure_qt $platforms
    activate
    exec "$VPY" -m inception_studio "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    ensure_installed
    # shellcheck disable=SC2046
    ensure_qt $(app_platforms)
    activate
    # Triton (imported by torchvision/timm) prints nanobind "leaked" reports at interpreter exit,
    # after pytest's summary; drop them so the summary stays the last line. Exit status is pytest's.
    "$VPY" -m pytest -q "$@" 2>&1 | grep --line-buffered -v -E '^(nanobind: |See https://nanobind| - leaked | - \.\.\. skipped remainder)'
    ;;
  -h|--help|help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    die "usage: bash run.sh [app|test] [arguments for the app or for pytest]"
    ;;
esac
