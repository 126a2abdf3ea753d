"""Shared fixtures: isolated HOME/git identity, private tmux sockets, in-process CLI runs."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest


def _find_fixtures() -> str:
    """The shared real-world fixtures: $VERMAS_FIXTURES, else ``shared/fixtures`` beside an ancestor."""
    explicit = os.environ.get("VERMAS_FIXTURES")
    if explicit:
        return os.path.abspath(explicit)
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        candidate = os.path.join(here, "shared", "fixtures")
        if os.path.isdir(os.path.join(candidate, "jsonl")):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    for candidate in ("/work/shared/fixtures",):  # where the project's shared data lives on our machines
        if os.path.isdir(candidate):
            return candidate
    raise RuntimeError("cannot find the shared fixtures (shared/fixtures beside an ancestor of the checkout); "
                       "set VERMAS_FIXTURES to their path")


FIXTURES = _find_fixtures()

_counter = itertools.count()


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    """Every test gets its own HOME, git identity and tmux socket; never the user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = VerMAS Test\n\temail = test@vermas.invalid\n"
                         "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    socket = f"vmtest-{os.getpid()}-{next(_counter)}"
    monkeypatch.setenv("VERMAS_TMUX_SOCKET", socket)
    for var in ("BD_ACTOR", "GT_ROLE", "GT_RIG", "BEAD_ID", "VERMAS_TOWN", "TMUX", "TMUX_PANE"):
        monkeypatch.delenv(var, raising=False)
    yield
    if shutil.which("tmux"):
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux_socket() -> str:
    """The private tmux socket name of this test (also in ``$VERMAS_TMUX_SOCKET``)."""
    return os.environ["VERMAS_TMUX_SOCKET"]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


class Cli:
    """Run ``vermas`` in-process (HTTPie-style) with captured streams."""

    def __init__(self, cwd: str, environ: dict[str, str]) -> None:
        self.cwd = cwd
        self.environ = environ

    def __call__(self, *argv: str, stdin: str = "", cwd: str | None = None, env: dict | None = None) -> CliResult:
        from vermas.cli.env import Environment
        from vermas.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        environ = dict(self.environ)
        environ.update(env or {})
        environment = Environment(stdin=io.StringIO(stdin), stdout=out, stderr=err, environ=environ,
                                  cwd=cwd or self.cwd)
        code = main(list(argv), environment)
        return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(tmp_path) -> Cli:
    """In-process CLI runner whose working directory is ``tmp_path``."""
    return Cli(str(tmp_path), dict(os.environ))


def run_vermas(*argv: str, cwd: str, env: dict | None = None, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real ``vermas`` console script in a subprocess."""
    exe = shutil.which("vermas", path=os.path.dirname(sys.executable)) or shutil.which("vermas")
    cmd = [exe, *argv] if exe else [sys.executable, "-m", "vermas.cli", *argv]
    return subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, input=input)
