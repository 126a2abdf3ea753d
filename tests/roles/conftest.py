"""Refinery fixtures: a real town with a rig, polecat worktrees on the shared bare repo, MR beads.

``Kit.work`` has a polecat do a job and submit it with the town's real ``done`` (the code
behind ``vermas done``): rig ledger MR bead of type ``merge-request``, label
``gt:merge-request``, title ``Merge: <source>``, ``key: value`` description with branch,
target, source_issue, worker, rig, commit_sha; the source bead ``in_progress``; the hook file
removed; ``POLECAT_DONE`` mailed to the witness. ``Kit.submit`` writes the same bead by hand
for what ``done`` refuses on purpose (a duplicate submission of the same commit).
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.support import poll
from vermas.ledger import queries
from vermas.ledger.store import Ledger
from vermas.town.config import coerce, write_setting
from vermas.town.install import install
from vermas.town.layout import Town
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


def git(*args: str, cwd: str, env: dict | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr}")
    return proc.stdout.strip()


def write_files(root: str, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = os.path.join(root, name)
        if text is None:
            if os.path.exists(path):
                os.unlink(path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        if name.endswith(".sh"):
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_source_repo(path: str, extra: dict[str, str] | None = None) -> str:
    os.makedirs(path, exist_ok=True)
    git("init", "--quiet", "-b", "main", cwd=path)
    files = {"README.md": "# sample\n", "calc.py": "def add(a, b):\n    return a + b\n", "check.sh": CHECK_SH}
    files.update(extra or {})
    write_files(path, files)
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", "initial", cwd=path)
    return path


class Polecat:
    """A polecat's worktree of the rig's bare repo, on its own branch."""

    def __init__(self, kit: Kit, name: str, branch: str) -> None:
        self.kit = kit
        self.name = name
        self.address = f"{kit.rig}/polecats/{name}"
        self.worktree = kit.paths.polecat_worktree(name)
        self.branch = branch

    def commit(self, files: dict[str, str | None], message: str) -> str:
        write_files(self.worktree, files)
        git("add", "-A", cwd=self.worktree)
        git("commit", "--quiet", "-m", message, cwd=self.worktree)
        return self.head

    @property
    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.worktree)

    def rebase(self, onto: str = "main") -> bool:
        proc = subprocess.run(["git", "rebase", onto], cwd=self.worktree, capture_output=True, text=True)
        return proc.returncode == 0

    def git(self, *args: str) -> str:
        return git(*args, cwd=self.worktree)


class Kit:
    """One town with rig ``app`` and helpers to act like polecats and inspect results."""

    def __init__(self, root: str, source: str) -> None:
        self.town = Town(root)
        self.rig = RIG
        self.paths = self.town.rig(RIG)
        self.source = source
        self.repo = self.paths.repo
        self._n = 0

    # settings ------------------------------------------------------------------
    def set(self, key: str, value: object) -> None:
        write_setting(self.paths.settings_path, "rig-settings", key, coerce(key, value))

    # agents and beads ----------------------------------------------------------
    def polecat(self, name: str, *, base: str = "main") -> Polecat:
        self._n += 1
        branch = f"polecat/{name}-{self._n}"
        worktree = self.paths.polecat_worktree(name)
        if os.path.isdir(worktree):
            git("checkout", "--quiet", "-B", branch, base, cwd=worktree)
        else:
            os.makedirs(os.path.dirname(worktree), exist_ok=True)
            git("worktree", "add", "--quiet", "-b", branch, worktree, base, cwd=self.repo)
        return Polecat(self, name, branch)

    def ledger(self) -> Ledger:
        return Ledger.open(self.paths.beads_dir)

    def town_ledger(self) -> Ledger:
        return Ledger.open(self.town.beads_dir)

    def task(self, title: str, *, polecat: Polecat | None = None, priority: int = 2) -> str:
        with self.ledger() as ledger, ledger.transaction("mayor") as tx:
            issue = tx.create(title, issue_type="task", priority=priority,
                              status="hooked" if polecat else "open", assignee=polecat.address if polecat else "")
        return issue["id"]

    def submit(self, polecat: Polecat, source: str, *, target: str = "main", priority: int | None = None,
               commit: str | None = None) -> str:
        """What ``vermas done`` does for a completed job: an MR bead; the source leaves the hook."""
        commit = commit or polecat.head
        with self.ledger() as ledger, ledger.transaction(polecat.address) as tx:
            src = ledger.find(source) or {"priority": 2}  # a town (hq-) bead lives in the town ledger
            description = "\n".join([f"branch: {polecat.branch}", f"target: {target}", f"source_issue: {source}",
                                     f"worker: {polecat.address}", f"rig: {self.rig}", f"commit_sha: {commit}"])
            mr = tx.create(f"Merge: {source}", description=description, issue_type="merge-request",
                           priority=src.get("priority", 2) if priority is None else priority,
                           labels=["gt:merge-request"])
            if src.get("status") == "hooked":
                tx.update(source, status="in_progress")
        return mr["id"]

    def done(self, polecat: Polecat, source: str) -> str:
        """``vermas done`` for ``polecat``'s hooked ``source`` (the town's real code); returns the MR id."""
        from vermas.town import done, polecats, work
        from vermas.town.identity import Agent

        agent = Agent("polecat", self.rig, polecat.name)
        state = polecats.try_load(self.paths, polecat.name) or polecats.new_state(self.paths, polecat.name)
        state.update(state="working", bead=source, branch=polecat.branch, base="main", worktree=polecat.worktree)
        polecats.save(self.paths, state)
        work.set_hook(self.town.root, agent, source, actor="mayor")
        result = done.done(self.town, agent, dispatch=False)
        return result["mr"]

    def work(self, name: str, files: dict[str, str | None], message: str, *, priority: int = 2,
             title: str | None = None) -> tuple[Polecat, str, str]:
        """A polecat does a job: task hooked, commit, ``vermas done``. Returns (polecat, source, mr)."""
        cat = self.polecat(name)
        source = self.task(title or message, polecat=cat, priority=priority)
        cat.commit(files, message)
        mr = self.done(cat, source)
        return cat, source, mr

    # inspection ------------------------------------------------------------------
    def bead(self, issue_id: str) -> dict:
        with self.ledger() as ledger:
            return ledger.get(issue_id)

    def main(self) -> str:
        return git("rev-parse", "refs/heads/main", cwd=self.repo)

    def subjects(self, ref: str = "main") -> list[str]:
        return git("log", "--format=%s", ref, cwd=self.repo).splitlines()

    def show(self, path: str, ref: str = "main") -> str:
        return git("show", f"{ref}:{path}", cwd=self.repo)

    def branch_exists(self, branch: str) -> bool:
        return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=self.repo,
                              capture_output=True).returncode == 0

    def mails(self, subject_prefix: str = "") -> list[dict]:
        with self.town_ledger() as ledger:
            issues = queries.list_issues(ledger.conn, status=("open", "closed"), issue_type=("message",),
                                         include_ephemeral=True)
        return [i for i in issues if str(i.get("title", "")).startswith(subject_prefix)]

    def recipients(self, subject_prefix: str) -> list[str]:
        return sorted(str(m.get("assignee")) for m in self.mails(subject_prefix))

    def merge_requests(self, status: tuple[str, ...] = ("open", "in_progress", "closed")) -> list[dict]:
        with self.ledger() as ledger:
            return queries.list_issues(ledger.conn, status=status, issue_type=("merge-request",),
                                       include_ephemeral=True)

    def refinery(self, **kwargs):
        from vermas.roles.refinery.engine import Refinery

        return Refinery(self.town, self.rig, **kwargs)

    def run_once(self, **kwargs) -> dict:
        """``vermas refinery run --once`` in-process (takes the lock, recovers, drains)."""
        from vermas.roles.refinery import daemon

        return daemon.run(self.town, self.rig, once=True, **kwargs)


@pytest.fixture
def kit(tmp_path) -> Kit:
    root = str(tmp_path / "town")
    install(root)
    source = make_source_repo(str(tmp_path / "upstream"))
    add_rig(Town(root), RIG, source, prefix="ap")
    k = Kit(root, source)
    k.set("merge.poll_interval", 0.2)
    k.set("verify.enabled", False)  # these tests exercise the refinery alone (tests/verify covers the Inspector)
    return k


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.05, message: str = "condition"):
    return poll(predicate, timeout=timeout, interval=interval, what=message)
