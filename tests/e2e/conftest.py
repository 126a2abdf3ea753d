"""End-to-end fixtures: a real town, rig ``app``, simulated agents in tmux, the supervision daemons.

``Town`` drives everything through the real commands (in-process ``vermas``; the daemons run
in their own tmux sessions on the test's private socket) and checks the invariants every
scenario must keep: no bead lost, no mail lost, no commit lost.

Faults come from the simulated agent's own fault modes. A fault that must hit only the
first session of a polecat (a *transient* fault: the respawned session works) runs the sim
through a tiny wrapper, the runtime ``sim-first``-style entries made by
:meth:`Town.fault_runtime`: ``$VERMAS_SIM_FAULTS`` is set only while
``$VERMAS_INCARNATION`` (set by dispatch for every session) is at most N.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess

import pytest

from tests.support import poll
from vermas.ledger import events, queries
from vermas.ledger.store import Ledger
from vermas.town import convoys, polecats
from vermas.town.install import install
from vermas.town.layout import Town as TownPaths
from vermas.town.rigs import add_rig

RIG = "app"
CHECK_SH = """#!/bin/sh
# the project's test suite: fails when a file says BROKEN
if grep -rl --exclude=check.sh --exclude-dir=.git BROKEN . ; then
  echo "FAIL: BROKEN marker found in the files above"
  exit 1
fi
echo "all tests passed"
"""
WRAPPER = """#!/bin/sh
# A transient fault: only the first N sessions of a polecat misbehave.
if [ "${VERMAS_INCARNATION:-1}" -le "${VERMAS_SIM_FAULT_INCARNATIONS:-1}" ]; then
  VERMAS_SIM_FAULTS="$VERMAS_SIM_FIRST_FAULTS"
  export VERMAS_SIM_FAULTS
fi
exec vermas-sim "$@"
"""


def git(*args: str, cwd: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr}")
    return proc.stdout.strip()


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.2, what: str = "condition"):
    return poll(predicate, timeout=timeout, interval=interval, what=what)


def sim_steps(*steps: str, tag: str = "sim") -> str:
    return "```" + tag + "\n" + "\n".join(steps) + "\n```\n"


def write_file_step(name: str, text: str) -> str:
    return f"printf '%s\\n' {text!r} > {name}"


class Town:
    """One town with rig ``app`` run by the real commands; helpers to inspect and assert."""

    def __init__(self, tmp_path, cli) -> None:
        self.tmp = tmp_path
        self.root = str(tmp_path / "town")
        install(self.root)
        self.paths = TownPaths(self.root)
        self.rig = self.paths.rig(RIG)
        source = str(tmp_path / "upstream")
        os.makedirs(source)
        git("init", "--quiet", "-b", "main", cwd=source)
        self._write(source, "README.md", "# sample\n")
        self._write(source, "check.sh", CHECK_SH)
        git("add", "-A", cwd=source)
        git("commit", "--quiet", "-m", "initial", cwd=source)
        add_rig(self.paths, RIG, source, prefix="ap")
        self.cli = cli
        cli.environ["VERMAS_TOWN"] = self.root
        self.created: list[str] = []
        for key, value in (("runtime.default", "sim"), ("deacon.patrol_interval", "1"),
                           ("deacon.heartbeat_stale", "60")):
            self.set(key, value, rig=False)
        for key, value in (("verify.spec_gate", "false"), ("verify.enabled", "false"), ("polecats.max", "3"),
                           ("witness.patrol_interval", "0.5"), ("witness.idle_after", "30"),
                           ("witness.stuck_after", "120"), ("merge.poll_interval", "0.5"),
                           ("gates.test", "./check.sh"), ("gates.timeout", "120")):
            self.set(key, value)

    @staticmethod
    def _write(root: str, name: str, text: str) -> None:
        path = os.path.join(root, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        if name.endswith(".sh"):
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    # ------------------------------------------------------------------ commands
    def run(self, *argv: str, ok: bool = True):
        r = self.cli(*argv)
        if ok:
            assert r.exit_code == 0, f"vermas {' '.join(argv)} failed ({r.exit_code}): {r.stderr}{r.stdout}"
        return r

    def set(self, key: str, value: str, *, rig: bool = True) -> None:
        self.run("config", "set", key, str(value), *(["--rig", RIG] if rig else []))

    def fault_runtime(self, name: str, faults: str, *, incarnations: int = 1) -> str:
        """A runtime whose first ``incarnations`` sessions of a polecat run with sim ``faults``."""
        wrapper = str(self.tmp / "sim-first-incarnations.sh")
        if not os.path.exists(wrapper):
            with open(wrapper, "w", encoding="utf-8") as fh:
                fh.write(WRAPPER)
            os.chmod(wrapper, 0o755)
        table = {"extends": "sim", "command": wrapper, "description": f"sim with {faults} in its first session(s)",
                 "env": {"VERMAS_SIM_FIRST_FAULTS": faults, "VERMAS_SIM_FAULT_INCARNATIONS": str(incarnations)}}
        self.run("config", "set", f"runtimes.{name}", json.dumps(table))
        return name

    def bead(self, title: str, body: str, *, priority: int = 2) -> str:
        with Ledger.open(self.rig.beads_dir) as ledger, ledger.transaction("mayor") as tx:
            issue = tx.create(title, description=body, issue_type="task", priority=priority)
        self.created.append(issue["id"])
        return issue["id"]

    def file_bead(self, name: str, text: str | None = None, *, title: str | None = None) -> str:
        """A bead whose sim steps write ``name`` (one file = one change)."""
        steps = sim_steps(write_file_step(name, text or name))
        return self.bead(title or f"Write {name}", f"Create {name}.\n\n{steps}")

    def sling(self, *beads: str, runtime: str | None = None, target: str = RIG) -> dict:
        argv = ["sling", *beads, target, "--json"] + (["--runtime", runtime] if runtime else [])
        return self.run(*argv).json()

    def up(self) -> list[dict]:
        return self.run("up", "--json").json()["components"]

    def down(self) -> None:
        self.cli("down", "--polecats", "--timeout", "10")

    # ------------------------------------------------------------------ reading
    def issue(self, bead_id: str) -> dict:
        with Ledger.open(self.rig.beads_dir) as ledger:
            return ledger.get(bead_id)

    def issues(self, **filters) -> list[dict]:
        with Ledger.open(self.rig.beads_dir) as ledger:
            return queries.list_issues(ledger.conn, include_ephemeral=True, **filters)

    def merge_requests(self) -> list[dict]:
        return self.issues(issue_type=("merge-request",), status=("open", "in_progress", "closed", "blocked"))

    def mails(self, prefix: str = "", to: str | None = None) -> list[dict]:
        with Ledger.open(self.paths.beads_dir) as ledger:
            issues = queries.list_issues(ledger.conn, status=("open", "closed"), issue_type=("message",),
                                         include_ephemeral=True, order="id")
        return [m for m in issues if str(m.get("title", "")).startswith(prefix)
                and (to is None or m.get("assignee") == to)]

    def rig_events(self, kind: str | None = None) -> list[dict]:
        items = events.read(self.rig.beads_dir)
        return [e for e in items if kind is None or e["event_type"] == kind]

    def town_events(self, kind: str | None = None) -> list[dict]:
        items = events.read(self.paths.beads_dir)
        return [e for e in items if kind is None or e["event_type"] == kind]

    def closed(self, bead_id: str) -> bool:
        return self.issue(bead_id).get("status") == "closed"

    def all_closed(self, beads: list[str]) -> bool:
        return all(self.closed(b) for b in beads)

    def subjects(self, ref: str = "main") -> list[str]:
        return git("log", "--format=%s", ref, cwd=self.rig.repo).splitlines()

    def show(self, path: str, ref: str = "main") -> str:
        return git("show", f"{ref}:{path}", cwd=self.rig.repo)

    def polecat_states(self) -> list[dict]:
        return polecats.all_states(self.rig)

    def polecat(self, name: str) -> dict:
        return polecats.load(self.rig, name)

    def status(self, kind: str) -> dict:
        argv = {"witness": ["witness", "status", "--rig", RIG], "refinery": ["refinery", "status", "--rig", RIG],
                "deacon": ["deacon", "status"], "boot": ["boot", "status"]}[kind]
        return self.run(*argv, "--json").json()

    def pid(self, kind: str) -> int | None:
        return self.status(kind)["pid"]

    def kill9(self, kind: str) -> int:
        pid = self.pid(kind)
        assert pid, f"{kind} is not running"
        os.kill(pid, signal.SIGKILL)
        return pid

    def transcript(self, session: str) -> list[dict]:
        from vermas.sim.transcript import read

        return read(os.path.join(self.root, ".runtime", "sim", session + ".jsonl"))

    def worktrees(self) -> list[str]:
        return [w["worktree"] for w in _worktrees(self.rig.repo) if "bare" not in w]

    def polecat_worktrees(self) -> list[str]:
        return [w for w in self.worktrees() if os.sep + "polecats" + os.sep in w]

    # ------------------------------------------------------------------ invariants
    def wait_merged(self, beads: list[str], timeout: float = 240.0) -> None:
        wait_for(lambda: self.all_closed(beads), timeout=timeout, interval=0.5,
                 what=f"beads {beads} to merge (open: {[b for b in beads if not self.closed(b)]})")

    def wait_cleaned(self, timeout: float = 90.0) -> None:
        wait_for(lambda: not self.polecat_worktrees() and all(
            (s.get("last") or {}).get("cleaned_at") for s in self.polecat_states() if s.get("last")),
            timeout=timeout, interval=0.5, what="every polecat worktree to be cleaned up")

    def assert_nothing_lost(self) -> None:
        """No bead, mail or commit lost (see the module docstring)."""
        with Ledger.open(self.rig.beads_dir) as ledger:
            for bead_id in self.created:
                assert ledger.find(bead_id) is not None, f"bead {bead_id} vanished"
        # every message ever sent is still a bead, and every lifecycle message was handled
        sent = [e["data"]["message_id"] for e in self.town_events("mail.sent")]
        with Ledger.open(self.paths.beads_dir) as ledger:
            missing = [m for m in sent if ledger.find(m) is None]
        assert not missing, f"mail lost: {missing}"
        for kind, to in (("POLECAT_DONE", f"{RIG}/witness"), ("MERGE_READY", f"{RIG}/refinery")):
            # handled at the daemons' next patrol: poll (the merge may well have been faster)
            wait_for(lambda kind=kind, to=to: not [m for m in self.mails(kind, to=to) if m.get("status") != "closed"],
                     timeout=60, interval=0.3, what=f"every {kind} mail to {to} to be handled")
        # every merged request's commits are in the target (by patch: ff rebases them)
        for mr in self.merge_requests():
            if mr.get("close_reason") != "merged":
                continue
            fields = dict(line.split(": ", 1) for line in mr["description"].splitlines() if ": " in line)
            commit = fields.get("commit_sha")
            if commit:
                cherry = git("cherry", "main", commit, cwd=self.rig.repo)
                lost = [line for line in cherry.splitlines() if line.startswith("+")]
                assert not lost, f"commits of {mr['id']} ({commit}) missing from main: {lost}"

    def convoy_of(self, sling_result: dict) -> dict:
        return convoys.status(self.root, sling_result["convoy"])


def _worktrees(repo: str) -> list[dict]:
    text = git("worktree", "list", "--porcelain", cwd=repo)
    items, current = [], {}
    for line in [*text.splitlines(), ""]:
        if not line:
            if current:
                items.append(current)
            current = {}
            continue
        key, _sep, value = line.partition(" ")
        current[key] = value or "true"
    return items


@pytest.fixture
def town(tmp_path, cli):
    t = Town(tmp_path, cli)
    yield t
    t.down()
