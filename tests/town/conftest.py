"""Town fixtures: a real installed town with a rig cloned from a real git repository."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import poll
from vermas.town.install import install
from vermas.town.layout import Town
from vermas.town.rigs import add_rig


def git(*args: str, cwd: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(path: str, files: dict[str, str] | None = None) -> str:
    """A git repository on ``main`` with one commit of ``files`` (a tiny Python project by default)."""
    os.makedirs(path, exist_ok=True)
    files = files or {
        "README.md": "# sample\n",
        "calc.py": "def add(a, b):\n    return a + b\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    }
    git("init", "--quiet", "-b", "main", cwd=path)
    for name, text in files.items():
        full = os.path.join(path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as fh:
            fh.write(text)
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", "initial", cwd=path)
    return path


@pytest.fixture
def town_root(tmp_path) -> str:
    root = str(tmp_path / "town")
    install(root)
    from vermas.town.config import write_setting

    # these tests sling beads without test specs (the spec gate is tested in tests/verify)
    write_setting(Town(root).settings_path, "town-settings", "verify.spec_gate", False)
    return root


@pytest.fixture
def rig(town_root, tmp_path) -> str:
    """Rig ``app`` (prefix ``ap``) in ``town_root``; returns the rig name."""
    repo = make_repo(str(tmp_path / "src-repo"))
    add_rig(Town(town_root), "app", repo, prefix="ap")
    return "app"


@pytest.fixture
def tcli(cli, town_root):
    """The in-process CLI with ``VERMAS_TOWN`` pointing at the test town."""
    cli.environ["VERMAS_TOWN"] = town_root
    return cli


IDLE_RUNTIME = {"description": "a do-nothing agent for tests (the test plays the agent)", "command": "bash",
                "args": ["-c", "sleep 3600", "idle-agent"], "prompt_mode": "arg", "ready_delay_ms": 0}


@pytest.fixture
def idle_rig(town_root, rig):
    """Rig ``app`` whose polecats run a do-nothing agent (runtime ``idle``), so tests play the agent."""
    from vermas.town.config import write_setting

    settings = Town(town_root).settings_path
    write_setting(settings, "town-settings", "runtimes.idle", IDLE_RUNTIME)
    write_setting(settings, "town-settings", "runtime.default", "idle")
    return rig


def create_bead(town_root: str, rig: str, title: str, description: str = "", **fields) -> str:
    from vermas.ledger.store import Ledger

    with Ledger.open(os.path.join(town_root, rig, ".beads")) as ledger, ledger.transaction("tester") as tx:
        return tx.create(title, description=description, **fields)["id"]


def read_bead(town_root: str, where: str, bead: str) -> dict:
    from vermas.ledger.store import Ledger

    with Ledger.open(os.path.join(town_root, where, ".beads")) as ledger:
        return ledger.get(bead)


def agent_env(town_root: str, address: str) -> dict:
    """What an agent session's environment says about identity."""
    return {"BD_ACTOR": address, "VERMAS_TOWN": town_root}


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    return poll(predicate, timeout=timeout, interval=interval, what=what)
