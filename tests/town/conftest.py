"""Town fixtures: a real installed town with a rig cloned from a real git repository."""

from __future__ import annotations

import os
import subprocess

import pytest

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
