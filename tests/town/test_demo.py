"""`vermas demo` for real: the README's main-job command."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import run_vermas
from tests.town.conftest import git

pytestmark = pytest.mark.slow


def test_demo_runs_the_main_job_end_to_end(tmp_path, tmux_socket):
    target = tmp_path / "demo"
    r = run_vermas("demo", "--dir", str(target), "--socket", tmux_socket, "--json", cwd=str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(r.stdout)
    assert data["submitted"] == 3 and len(data["beads"]) == 3
    assert data["polecat_done_mail"] == 3
    assert data["attach_command"].startswith(f"tmux -L {tmux_socket} attach -t vm-calc-")
    # live progress went to stderr, one line per agent
    assert "Add subtract(a, b)" in r.stderr and "3/3 submitted" in r.stderr
    repo = os.path.join(data["town"], "calc", ".repo.git")
    for branch in data["branches"]:
        assert git("rev-parse", f"refs/heads/{branch['branch']}", cwd=repo) == branch["commit"]
        files = git("ls-tree", "--name-only", branch["branch"], cwd=repo).split()
        assert any(f.startswith("test_") and f != "test_calc.py" for f in files)
    status = run_vermas("--town", data["town"], "status", "--json", cwd=str(tmp_path))
    assert json.loads(status.stdout)["rigs"][0]["merge_queue_depth"] == 3
    again = run_vermas("demo", "--dir", str(target), "--socket", tmux_socket, cwd=str(tmp_path))
    assert again.returncode == 1 and "already holds a demo town" in again.stderr
