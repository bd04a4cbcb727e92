"""Errors that can be diagnosed from the command line: StudioErrors stay one line; anything else is one line
that names the log file, where its traceback is; ``--verbose`` shows the log on stderr."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inception_studio import cli, logs
from inception_studio.paths import log_file


@pytest.fixture
def config(tmp_path, monkeypatch):
    """A fresh config folder (where the log goes) for one test."""
    monkeypatch.setenv("INCEPTION_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    yield tmp_path / "config"
    monkeypatch.undo()
    logs.setup()  # the handlers point at the session's folder again, not this test's


def test_an_unexpected_error_is_one_line_naming_the_log_with_its_traceback(config, capsys, monkeypatch):
    def broken(_args):
        raise KeyError("no such thing")  # a bug, not bad input
    monkeypatch.setattr(cli, "cmd_variants", broken)
    code = cli.main(["variants"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    path = config / "logs" / "inception-studio.log"
    assert log_file() == path and f"(details in {path})" in err and err.startswith("error: KeyError: 'no such thing'")
    text = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken" in text and "KeyError: 'no such thing'" in text


def test_a_studio_error_stays_one_line_without_a_traceback(config, capsys):
    code = cli.main(["summary", "inception_v9"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"error: unknown variant 'inception_v9' (known: {', '.join(cli.list_variants())})"
    text = (config / "logs" / "inception-studio.log").read_text(encoding="utf-8")
    assert "unknown variant 'inception_v9'" in text and "Traceback" not in text


@pytest.mark.parametrize("argv", [["--verbose", "variants"], ["variants", "--verbose"], ["variants", "-v"]])
def test_verbose_shows_the_log_on_stderr(config, capsys, argv):
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "DEBUG inception_studio.cli: inception-studio " in err
    assert cli.main(["variants"]) == 0
    assert capsys.readouterr().err == ""  # without it, nothing but errors reaches stderr


def test_a_closed_pipe_is_not_an_error(config, capsys, monkeypatch):
    def piped(_args):
        raise BrokenPipeError(32, "Broken pipe")  # `inception-studio variants | head -1`
    monkeypatch.setattr(cli, "cmd_variants", piped)
    monkeypatch.setattr(cli.sys, "stdout", cli.sys.stdout)  # main silences stdout: restored after the test
    assert cli.main(["variants"]) == 0
    assert capsys.readouterr().err == ""


def test_a_library_user_gets_no_log_file_and_no_output(tmp_path):
    code = ("import logging, inception_studio as s\n"
            "s.analyze(s.get_spec('nin'))\n"
            "logging.getLogger('inception_studio.engine').warning('a warning nobody asked to see')\n")
    env = {**os.environ, "INCEPTION_STUDIO_CONFIG_DIR": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout == "" and out.stderr == ""  # logging's last-resort handler stays quiet: a NullHandler
    assert not (tmp_path / "config").exists()  # and nothing is written until the CLI or the app sets up the log
