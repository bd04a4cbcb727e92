"""run.sh in a scratch copy of the project, with stand-in programs that record what they are asked to do:
a system ``python3``, the ``.venv/bin/python`` it makes, ``apt-get``, ``ldd``, ``id``, ``pip``, ``sudo``.

Checked: pip only ever runs as the project's ``.venv/bin/python -m pip``; a second run reuses the
environment without pip; a missing venv module or Qt library is installed with apt-get as root, or named
in a one-line command with exit status 2 (never a trace) otherwise.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("bash") is None,
                                reason="run.sh is for Linux with bash")

LOG = 'printf "%s %s\\n" "$0" "$(printf "%s " "$@" | tr "\\n" " ")" >> "$FAKE_DIR/log"\n'

# The system Python: makes a stand-in venv; a pip call is recorded and does nothing; the rest runs for real.
BASE_PYTHON = "#!/bin/bash\n" + LOG + r"""
if [ "$1" = -m ]; then
  if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$FAKE_DIR/venv-python" "$3/bin/python" && touch "$3/pyvenv.cfg"; fi
  exit 0
fi
if [ "$1" = -c ]; then
  case "$2" in
    *ensurepip*) [ -z "${FAKE_NO_ENSUREPIP:-}" ] || [ -e "$FAKE_DIR/apt-installed" ]; exit ;;
    *base_prefix*) if [ "${0##*/}" = python3.12 ]; then echo "/opt/other-python 3.12.0"; exit 0; fi ;;
  esac
fi
exec "$FAKE_REAL" "$@"
"""

# The environment's Python: pip "installs" (a marker), pytest and the app "run", Qt starts or aborts.
VENV_PYTHON = "#!/bin/bash\n" + LOG + r"""
case "$1 ${2:-}" in
  "-m pip") touch "$FAKE_DIR/pip-installed"; exit 0 ;;
  "-m pytest") echo "1 passed in 0.01s"; exit 0 ;;
  "-m inception_studio") exit 0 ;;
  "-I -") cat > /dev/null; [ -e "$FAKE_DIR/pip-installed" ]; exit ;;
esac
if [ "$1" = -c ] && [[ "$2" == *QApplication* ]]; then
  if [ -n "${FAKE_QT_BROKEN:-}" ] && [ ! -e "$FAKE_DIR/apt-installed" ]; then
    echo "${FAKE_QT_MESSAGE:-qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\" in \"\"}" >&2
    kill -ABRT $$
  fi
  echo "${QT_QPA_PLATFORM:-xcb}"; exit 0
fi
exec "$FAKE_REAL" "$@"
"""

TOOLS = {
    "apt-get": "#!/bin/bash\n" + LOG + '[ "$1" != install ] || touch "$FAKE_DIR/apt-installed"\n',
    "ldd": "#!/bin/bash\n" + '[ -e "$FAKE_DIR/apt-installed" ] && exit 0\n'
           'for so in ${FAKE_MISSING:-}; do printf "\\t%s => not found\\n" "$so"; done\n',
    "id": '#!/bin/bash\necho "${FAKE_UID:-1000}"\n',
    "pip": "#!/bin/bash\n" + LOG + "exit 1\n",
    "pip3": "#!/bin/bash\n" + LOG + "exit 1\n",
    "sudo": "#!/bin/bash\n" + LOG + "exit 1\n",
    "python3": BASE_PYTHON,
    "python3.12": BASE_PYTHON,
}


class Sandbox:
    """A copy of run.sh and pyproject.toml with the stand-ins first on PATH."""

    def __init__(self, root: Path):
        self.repo, self.fake = root / "repo", root / "fake"
        self.repo.mkdir()
        self.fake.mkdir()
        for name in ("run.sh", "pyproject.toml"):
            shutil.copy(REPO / name, self.repo / name)
        for name, text in {**TOOLS, "venv-python": VENV_PYTHON}.items():
            path = self.fake / name
            path.write_text(text)
            path.chmod(0o755)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """bash run.sh ARGS with a bare environment plus ``env``; clears the call log first."""
        (self.fake / "log").write_text("")
        base = {"PATH": f"{self.fake}:/usr/bin:/bin", "HOME": str(self.repo.parent), "LANG": "C.UTF-8",
                "FAKE_DIR": str(self.fake), "FAKE_REAL": sys.executable}
        return subprocess.run(["bash", "run.sh", *args], cwd=self.repo, env={**base, **env},
                              capture_output=True, text=True, timeout=60)

    def calls(self) -> list[str]:
        """The recorded calls of the last run, one line each: program path, then its arguments."""
        return (self.fake / "log").read_text().splitlines()


@pytest.fixture
def box(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def pip_calls(box: Sandbox) -> list[str]:
    return [c for c in box.calls() if " -m pip " in c or c.split()[0].endswith(("/pip", "/pip3", "/sudo"))]


def by_venv_python(box: Sandbox, call: str) -> bool:
    """Whether the call was made by the project's .venv/bin/python (named relative or absolute)."""
    return (box.repo / call.split()[0]).resolve() == (box.repo / ".venv" / "bin" / "python").resolve()


def test_first_run_makes_the_venv_and_pip_runs_only_inside_it(box):
    out = box.run("test", "-k", "quick")
    assert out.returncode == 0, out.stderr
    calls = box.calls()
    assert any(c.startswith(f"{box.fake}/python3 -m venv .venv") for c in calls), calls
    pips = pip_calls(box)
    assert pips and all(by_venv_python(box, c) and " -m pip install " in c for c in pips), pips
    assert "-e .[test]" in pips[0]
    assert any(by_venv_python(box, c) and c.split(maxsplit=1)[1].startswith("-m pytest -q -k quick")
               for c in calls), calls
    assert "1 passed" in out.stdout
    assert "installing inception-studio" in out.stderr and "6 GB" in out.stderr  # what, and how big


def test_second_run_reuses_the_venv_without_pip_until_pyproject_changes(box):
    assert box.run("test").returncode == 0
    second = box.run("test")
    assert second.returncode == 0, second.stderr
    assert pip_calls(box) == [] and not any("-m venv" in c for c in box.calls()), box.calls()
    assert any("-m pytest" in c for c in box.calls())
    assert second.stderr == ""  # nothing to say: it starts at once
    with open(box.repo / "pyproject.toml", "a") as f:
        f.write("\n# a changed dependency list\n")
    assert box.run("test").returncode == 0
    assert [c for c in pip_calls(box) if by_venv_python(box, c)], box.calls()


def test_missing_venv_module_names_the_apt_command_without_root(box):
    out = box.run("test", FAKE_NO_ENSUREPIP="1")
    pkg = "python%d.%d-venv" % sys.version_info[:2]
    assert out.returncode == 2
    assert f"  sudo apt-get install -y {pkg}\n" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert not (box.repo / ".venv").exists()
    assert not [c for c in box.calls() if "apt-get" in c] and pip_calls(box) == []


def test_missing_venv_module_is_installed_with_apt_as_root(box):
    out = box.run("test", FAKE_NO_ENSUREPIP="1", FAKE_UID="0")
    pkg = "python%d.%d-venv" % sys.version_info[:2]
    assert out.returncode == 0, out.stderr
    apt = [c for c in box.calls() if "/apt-get " in c]
    assert any(c.split(maxsplit=1)[1].startswith("install -y") and pkg in c for c in apt), apt
    assert (box.repo / ".venv" / "bin" / "python").exists()


MISSING = "libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libX11-xcb.so.1 libglib-2.0.so.0"
PACKAGES = "libglib2.0-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


def test_app_on_x11_with_missing_qt_libraries_prints_the_one_line_command(box):
    assert box.run("test").returncode == 0  # installed (stand-in), so the app's own check is what fails
    out = box.run("app", DISPLAY=":0", FAKE_QT_BROKEN="1", FAKE_MISSING=MISSING)
    assert out.returncode == 2
    assert f"\n  sudo apt-get install -y {PACKAGES}\n" in out.stderr, out.stderr
    assert "'xcb'" in out.stderr
    for trace in ("Aborted", "core dumped", "Traceback", "qt.qpa.plugin"):
        assert trace not in out.stderr + out.stdout
    assert not any("-m inception_studio" in c for c in box.calls())


def test_app_as_root_installs_the_missing_qt_libraries_then_starts(box):
    assert box.run("test").returncode == 0
    out = box.run("app", "inception_v4", DISPLAY=":0", FAKE_QT_BROKEN="1", FAKE_MISSING=MISSING, FAKE_UID="0")
    assert out.returncode == 0, out.stderr
    installs = [c for c in box.calls() if "/apt-get install" in c]
    assert installs and all(p in installs[0].split() for p in PACKAGES.split()), installs
    last = box.calls()[-1]
    assert by_venv_python(box, last) and last.split(maxsplit=1)[1].startswith("-m inception_studio inception_v4")


def test_app_that_cannot_reach_its_display_says_why_in_qts_words(box):
    assert box.run("test").returncode == 0
    out = box.run("app", DISPLAY=":7", FAKE_QT_BROKEN="1", FAKE_UID="0",
                  FAKE_QT_MESSAGE="qt.qpa.xcb: could not connect to display :7")
    assert out.returncode == 2
    assert "'xcb' platform (DISPLAY=:7)" in out.stderr and "could not connect to display :7" in out.stderr
    assert "Aborted" not in out.stderr and not [c for c in box.calls() if "apt-get" in c]


def test_app_without_a_display_says_so_before_installing_anything(box):
    out = box.run("app")
    assert out.returncode == 2
    assert "no display" in out.stderr and "DISPLAY" in out.stderr
    assert not (box.repo / ".venv").exists() and box.calls() == []


def test_python_chooses_the_interpreter_and_a_venv_from_another_is_not_reused(box):
    assert box.run("test").returncode == 0
    other = str(box.fake / "python3.12")
    out = box.run("test", PYTHON=other)
    assert out.returncode == 2
    assert f"rm -rf .venv && PYTHON={other} bash run.sh test" in out.stderr, out.stderr
    assert (box.repo / ".venv" / "bin" / "python").exists() and pip_calls(box) == []
    out = box.run("test", PYTHON=str(box.fake / "no-such-python"))
    assert out.returncode == 2 and "no such program" in out.stderr


def test_a_venv_that_no_longer_runs_is_made_again(box):
    assert box.run("test").returncode == 0
    (box.repo / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 127\n")  # e.g. its Python was removed
    out = box.run("test")
    assert out.returncode == 0 and "making it again" in out.stderr, out.stderr
    assert any(" -m venv .venv" in c for c in box.calls()) and [c for c in pip_calls(box) if by_venv_python(box, c)]
