"""Inspector fixtures: a real town with rig ``app``, the sim runtime as the panel, polecats that submit.

``VKit.submit_work`` plays a polecat without a session: a worktree of the rig's bare repo on
its own branch, the work bead hooked, a commit, then the town's real ``done`` (MR bead,
POLECAT_DONE). ``VKit.refine`` runs ``vermas refinery run --once`` in-process, with the
Inspector stage the refinery loads itself.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.verify import fizzbuzz
from vermas.ledger import queries
from vermas.ledger.store import Ledger
from vermas.town.config import coerce, write_setting
from vermas.town.install import install
from vermas.town.layout import Town
from vermas.town.rigs import add_rig

RIG = "app"


def git(*args: str, cwd: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
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
        os.makedirs(os.path.dirname(path) or root, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        if name.endswith(".sh"):
            os.chmod(path, 0o755)


def make_repo(path: str, files: dict[str, str] | None = None) -> str:
    os.makedirs(path, exist_ok=True)
    git("init", "--quiet", "-b", "main", cwd=path)
    write_files(path, files or {"README.md": "# sample\n"})
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", "initial", cwd=path)
    return path


class VKit:
    """One town with rig ``app`` and helpers to write specs, submit work and read results."""

    def __init__(self, root: str, rig: str = RIG) -> None:
        self.town = Town(root)
        self.root = root
        self.rig = rig
        self.paths = self.town.rig(rig)
        self.repo = self.paths.repo
        self._n = 0

    def another_rig(self, name: str, prefix: str, source: str) -> VKit:
        """A second rig of the same town (cloned from ``source``), with the same kit helpers."""
        add_rig(self.town, name, source, prefix=prefix)
        kit = VKit(self.root, name)
        kit.set("merge.poll_interval", 0.2)
        return kit

    # settings ------------------------------------------------------------------
    def set(self, key: str, value: object) -> None:
        write_setting(self.paths.settings_path, "rig-settings", key, coerce(key, value))

    def set_town(self, key: str, value: object) -> None:
        write_setting(self.town.settings_path, "town-settings", key, coerce(key, value) if
                      not key.startswith("runtimes.") else value)

    def runtime(self, name: str, table: dict, *, rig: bool = False) -> None:
        path, kind = (self.paths.settings_path, "rig-settings") if rig else (self.town.settings_path, "town-settings")
        write_setting(path, kind, f"runtimes.{name}", table)

    # beads and specs -------------------------------------------------------------
    def ledger(self) -> Ledger:
        return Ledger.open(self.paths.beads_dir)

    def bead(self, title: str, description: str = "", kind: str = "feature") -> str:
        with self.ledger() as ledger, ledger.transaction("mayor") as tx:
            return tx.create(title, description=description, issue_type=kind)["id"]

    def spec(self, bead: str, criteria: list[tuple] | None = None, *, approve: bool = True,
             threshold: str = "all") -> str:
        """A spec with ``criteria`` = ``(id, description, command, hint)`` or with ``objective`` as 5th item."""
        from vermas.verify import spec as spec_mod

        with self.ledger() as ledger:
            spec = spec_mod.create(ledger, "mayor", bead, threshold=threshold)
            for item in criteria if criteria is not None else fizzbuzz.CRITERIA:
                cid, description, command, hint = item[:4]
                objective = item[4] if len(item) > 4 else True
                timeout = item[5] if len(item) > 5 else 60.0
                spec_mod.add_criterion(ledger, "mayor", spec.id, description=description, command=command,
                                       hint=hint, objective=objective, timeout=timeout, cid=cid)
            if approve:
                spec_mod.approve(ledger, "overseer", spec.id)
        return spec.id

    def get(self, issue_id: str) -> dict:
        with self.ledger() as ledger:
            return ledger.get(issue_id)

    # polecats ----------------------------------------------------------------------
    def submit_work(self, bead: str, files: dict[str, str | None], *, name: str | None = None,
                    base: str = "main") -> str:
        """A polecat commits ``files`` for ``bead`` and runs the town's real ``done``; returns the MR id."""
        from vermas.town import done, polecats, work
        from vermas.town.identity import Agent

        self._n += 1
        name = name or f"cat{self._n}"
        branch = f"polecat/{name}/{bead}-{self._n}"
        worktree = self.paths.polecat_worktree(name)
        if os.path.isdir(worktree):
            git("checkout", "--quiet", "-B", branch, base, cwd=worktree)
        else:
            os.makedirs(os.path.dirname(worktree), exist_ok=True)
            git("worktree", "add", "--quiet", "-b", branch, worktree, base, cwd=self.repo)
        write_files(worktree, files)
        git("add", "-A", cwd=worktree)
        git("commit", "--quiet", "--allow-empty", "-m", f"{bead}: work", cwd=worktree)
        agent = Agent("polecat", self.rig, name)
        state = polecats.try_load(self.paths, name) or polecats.new_state(self.paths, name)
        state.update(state="working", bead=bead, branch=branch, base="main", worktree=worktree)
        polecats.save(self.paths, state)
        work.set_hook(self.root, agent, bead, actor="mayor", force=True, reason="test")
        return done.done(self.town, agent, dispatch=False)["mr"]

    # the refinery ------------------------------------------------------------------
    def refine(self) -> dict:
        from vermas.roles.refinery import daemon

        return daemon.run(self.town, self.rig, once=True)

    # reading -------------------------------------------------------------------------
    def main_file(self, path: str) -> str | None:
        proc = subprocess.run(["git", "show", f"main:{path}"], cwd=self.repo, capture_output=True, text=True)
        return proc.stdout if proc.returncode == 0 else None

    def main_commit(self) -> str:
        return git("rev-parse", "refs/heads/main", cwd=self.repo)

    def merge_requests(self) -> list[dict]:
        with self.ledger() as ledger:
            return queries.list_issues(ledger.conn, issue_type=("merge-request",), include_ephemeral=True)

    def mails(self, prefix: str = "") -> list[dict]:
        with Ledger.open(self.town.beads_dir) as ledger:
            found = queries.list_issues(ledger.conn, issue_type=("message",), include_ephemeral=True)
        return [m for m in found if str(m.get("title", "")).startswith(prefix)]

    def escalations(self) -> list[dict]:
        from vermas.town import escalations

        return escalations.list_escalations(self.root)

    def verdicts(self, bead: str) -> list[dict]:
        from vermas.verify import records

        with self.ledger() as ledger:
            return records.results_for(ledger, bead)

    def merge_request(self, mr: str) -> dict:
        return self.get(mr)

    def events(self, prefix: str = "verify.") -> list[dict]:
        from vermas.ledger import events

        return [e for e in events.read(self.paths.beads_dir) if e["event_type"].startswith(prefix)]


@pytest.fixture
def vkit(tmp_path, monkeypatch) -> VKit:
    monkeypatch.setenv("VERMAS_VERIFY_RESLING", "0")  # no polecat sessions here: nothing to restart
    root = str(tmp_path / "town")
    install(root)
    repo = make_repo(str(tmp_path / "upstream"))
    add_rig(Town(root), RIG, repo, prefix="ap")
    kit = VKit(root)
    kit.set_town("runtime.default", "sim")
    kit.set("merge.poll_interval", 0.2)
    return kit


@pytest.fixture
def vcli(cli, vkit):
    """The in-process CLI with ``VERMAS_TOWN`` pointing at the kit's town."""
    cli.environ["VERMAS_TOWN"] = vkit.root
    return cli
