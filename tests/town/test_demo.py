"""`vermas demo` for real: the README's main-job command, through verification to verified merges."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import run_vermas
from tests.town.conftest import git

pytestmark = pytest.mark.slow


def test_demo_runs_the_main_job_through_verification_to_merges(tmp_path, tmux_socket):
    target = tmp_path / "demo"
    r = run_vermas("demo", "--dir", str(target), "--socket", tmux_socket, "--json", cwd=str(tmp_path), timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(r.stdout)
    assert data["merged"] == 3 and len(data["beads"]) == 3 and len(data["specs"]) == 3
    subtract, multiply, power = data["beads"]
    assert [v["verdict"] for v in data["verdicts"][subtract]] == ["PASS"]
    assert [v["verdict"] for v in data["verdicts"][multiply]] == ["PASS"]
    # power's polecat gets it wrong first (its own test agrees with its bug); the Inspector catches it
    first, second = data["verdicts"][power]
    assert first["verdict"] == "FAIL" and first["failed_criteria"] == ["AC-1"]
    assert any("use a ** b" in fix for fix in first["required_fixes"])
    assert second["verdict"] == "PASS" and second["confidence"] >= 0.7
    assert data["attach_command"] == f"tmux -L {tmux_socket} attach -t vm-calc-refinery"
    # live progress went to stderr, one line per bead, then the verdicts and where to look
    assert "Add subtract(a, b)" in r.stderr and "3/3 verified and merged" in r.stderr
    assert "verdicts: FAIL 0.90 (AC-1) → PASS" in r.stderr and "inspect show" in r.stderr
    repo = os.path.join(data["town"], "calc", ".repo.git")
    files = git("ls-tree", "--name-only", "main", cwd=repo).split()
    for func in ("subtract", "multiply", "power"):
        assert f"{func}.py" in files and f"test_{func}.py" in files
    assert "return a ** b" in git("show", "main:power.py", cwd=repo)
    assert os.path.exists(os.path.join(data["town"], "calc", ".beads", "evidence", power, "verdict.json"))
    status = run_vermas("--town", data["town"], "status", "--json", cwd=str(tmp_path))
    assert json.loads(status.stdout)["rigs"][0]["merge_queue_depth"] == 0
    verdicts = run_vermas("--town", data["town"], "inspect", "status", "--json", cwd=str(tmp_path))
    assert {row["bead"]: row["verdict"] for row in json.loads(verdicts.stdout)["latest"]} == \
        {bead: "PASS" for bead in data["beads"]}
    again = run_vermas("demo", "--dir", str(target), "--socket", tmux_socket, cwd=str(tmp_path))
    assert again.returncode == 1 and "already holds a demo town" in again.stderr
