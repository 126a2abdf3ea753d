"""Crash resume: SIGKILL the process driving a molecule at various steps, then carry on.

After every kill, a fresh ``vermas mol current`` (what an agent runs on restart) must give the
first unfinished step, the completed steps must be exactly the prefix the killed process had
committed (nothing lost, nothing skipped), and no completed step may ever run again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import run_vermas
from tests.formulas.conftest import cook_fixture

DRIVER = os.path.join(os.path.dirname(__file__), "mol_driver.py")


def start_driver(beads_dir: str, root: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, DRIVER, beads_dir, root, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)


def read_until(proc: subprocess.Popen, predicate) -> list[str]:
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"driver exited early: {proc.stderr.read()[-2000:]}")
        lines.append(line.strip())
        if predicate(lines):
            return lines


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()


def current(cwd: str, root: str) -> dict:
    proc = run_vermas("mol", "current", root, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def completed_events(beads_dir: str) -> list[str]:
    out = []
    with open(os.path.join(beads_dir, "events.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                continue
            event = json.loads(line)
            if event["event_type"] == "mol.step_completed":
                out.append(event["data"]["step"])
    return out


@pytest.mark.slow
def test_sigkill_at_various_steps_then_resume(ledger, lookup_for, tmp_path):
    from vermas.formulas.pour import pour

    proto = cook_fixture(lookup_for("gastown"), "towers-of-hanoi-7", runtime=True)
    result = pour(ledger, proto, actor="test")
    root = result.root_id
    chain = [result.ids[s.key] for s in proto.steps]  # a 129-step chain
    cwd = str(tmp_path)
    reported: set[str] = set()
    for kill_after in (1, 9, 40, 77, 120):
        proc = start_driver(ledger.dir, root)
        seen = set(reported)
        lines = read_until(proc, lambda ls, k=kill_after, seen=seen: len(
            seen | {x[5:] for x in ls if x.startswith("done ")}) >= k)
        kill(proc)
        reported |= {line[5:] for line in lines if line.startswith("done ")}
        state = current(cwd, root)
        finished = state["progress"]["completed"]
        # Nothing the driver reported is lost; completed steps are exactly a prefix of the chain.
        assert finished >= len(reported) >= kill_after
        mol_steps = json.loads(run_vermas("mol", "steps", root, "--json", cwd=cwd).stdout)
        states = [s["state"] for s in mol_steps]
        assert states[:finished] == ["completed"] * finished
        assert all(s in ("ready", "in_progress", "pending") for s in states[finished:])
        # The first unfinished step is what an agent gets back after the restart.
        assert state["next"]["id"] == chain[finished]
        assert [s["id"] for s in state["current"]] == [chain[finished]]
    proc = start_driver(ledger.dir, root)
    read_until(proc, lambda ls: ls[-1] == "complete")
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    state = current(cwd, root)
    assert state["state"] == "complete" and state["progress"]["completed"] == 129
    counts: dict[str, int] = {}
    for step_id in completed_events(ledger.dir):
        counts[step_id] = counts.get(step_id, 0) + 1
    assert max(counts.values()) == 1  # no step ever completed twice


@pytest.mark.slow
def test_kill_while_a_step_is_in_progress(ledger, lookup_for, tmp_path):
    from vermas.formulas.pour import pour

    proto = cook_fixture(lookup_for("gastown"), "towers-of-hanoi", runtime=True)
    result = pour(ledger, proto, actor="test")
    root = result.root_id
    proc = start_driver(ledger.dir, root, "--pause-at", "move-4")
    read_until(proc, lambda ls: ls[-1] == "paused")
    kill(proc)
    state = current(str(tmp_path), root)
    assert state["next"]["id"] == result.ids["move-4"] and state["next"]["state"] == "in_progress"
    assert state["progress"]["completed"] == 4  # setup, move-1..3
    proc = start_driver(ledger.dir, root)
    lines = read_until(proc, lambda ls: ls[-1] == "complete")
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    # The resumed driver finishes move-4 (no second start) and never touches earlier steps.
    assert lines[0] == f"done {result.ids['move-4']}"
    done_ids = [line[5:] for line in lines if line.startswith("done ")]
    assert done_ids == [result.ids[k] for k in ("move-4", "move-5", "move-6", "move-7", "verify")]
    assert current(str(tmp_path), root)["state"] == "complete"
