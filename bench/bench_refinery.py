"""Refinery orchestration overhead per merge request, against the bare git operations a merge needs.

Subject: one refinery round for one ready merge request with empty gates, in process, from
picking the request to merged (queue scan, claim, merge-tree, rebase in the refinery
worktree, journal, compare-and-swap of the target, verification, then the outcomes: MR and
source bead closed, branch deleted, MERGED mail, convoy check), minus the gates' own time.

Baseline, measured alternately in the same run on an identical repository: the bare git
operations of that merge, ``git merge-tree --write-tree`` + ``git rebase --onto`` (in a
worktree) + ``git update-ref`` (compare-and-swap), as subprocesses.

Figure: median over 20 requests (5 with ``--quick``) of subject / baseline.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time

from bench.common import git as _git
from bench.common import ratio, summary

TARGET_RATIO = 6.0




class _Setup:
    """A town with rig ``app`` (the refinery's) and a twin bare repository for the baseline."""

    def __init__(self, root: str) -> None:
        from vermas.town.config import write_setting
        from vermas.town.install import install
        from vermas.town.layout import Town
        from vermas.town.rigs import add_rig

        os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@vermas.invalid")
        os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@vermas.invalid")
        self.root = root
        source = os.path.join(root, "upstream")
        os.makedirs(source)
        _git("init", "--quiet", "-b", "main", cwd=source)
        for i in range(50):  # a small but not trivial tree
            with open(os.path.join(source, f"module{i}.py"), "w", encoding="utf-8") as fh:
                fh.write(f"VALUE_{i} = {i}\n" * 20)
        _git("add", "-A", cwd=source)
        _git("commit", "--quiet", "-m", "initial", cwd=source)
        self.town = Town(os.path.join(root, "town"))
        install(self.town.root)
        add_rig(self.town, "app", source, prefix="ap")
        self.rig = self.town.rig("app")
        write_setting(self.rig.settings_path, "rig-settings", "merge.poll_interval", 0.1)
        self.twin = os.path.join(root, "twin.git")
        _git("clone", "--quiet", "--bare", source, self.twin, cwd=root)
        self.twin_worktree = os.path.join(root, "twin-wt")
        _git("worktree", "add", "--quiet", "--detach", self.twin_worktree, "main", cwd=self.twin)
        self.n = 0

    def _branch(self, repo: str, worktree_root: str, name: str) -> tuple[str, str]:
        """A polecat-like branch with one commit off main; ``(branch, commit)``."""
        worktree = os.path.join(worktree_root, name)
        branch = f"polecat/{name}"
        os.makedirs(os.path.dirname(worktree), exist_ok=True)
        _git("worktree", "add", "--quiet", "-b", branch, worktree, "main", cwd=repo)
        with open(os.path.join(worktree, f"feature_{name}.py"), "w", encoding="utf-8") as fh:
            fh.write(f"FEATURE = {name!r}\n")
        _git("add", "-A", cwd=worktree)
        _git("commit", "--quiet", "-m", f"feature {name}", cwd=worktree)
        return branch, _git("rev-parse", "HEAD", cwd=worktree)

    def submit(self) -> str:
        """A polecat job submitted the way ``vermas done`` does; returns the MR id."""
        from vermas.ledger.store import Ledger

        self.n += 1
        name = f"cat{self.n}"
        address = f"app/polecats/{name}"
        branch, commit = self._branch(self.rig.repo, self.rig.polecat_home(name), name)
        # the worktree sits at <rig>/polecats/<name>/<name>; the address only needs the home to exist
        with Ledger.open(self.rig.beads_dir) as ledger, ledger.transaction(address) as tx:
            source = tx.create(f"job {name}", issue_type="task", status="in_progress", assignee=address)
            description = "\n".join([f"branch: {branch}", "target: main", f"source_issue: {source['id']}",
                                     f"worker: {address}", "rig: app", f"commit_sha: {commit}"])
            mr = tx.create(f"Merge: {source['id']}", description=description, issue_type="merge-request",
                           labels=["gt:merge-request"])
        return mr["id"]

    def twin_branch(self) -> tuple[str, str]:
        self.n += 1
        return self._branch(self.twin, os.path.join(self.root, "twin-polecats"), f"twin{self.n}")


def run(quick: bool) -> dict:
    from vermas.roles.refinery.engine import Refinery

    samples = 5 if quick else 20
    root = tempfile.mkdtemp(prefix="vmbench-refinery-")
    try:
        setup = _Setup(root)
        refinery = Refinery(setup.town, "app", stages=[])
        subject: list[float] = []
        baseline: list[float] = []
        merged = 0

        def one_round() -> float:
            nonlocal merged
            mr = setup.submit()
            started = time.perf_counter()
            report = refinery.run_round()
            elapsed = (time.perf_counter() - started - (report.gate_seconds if report else 0.0)) * 1000
            if report is None or report.merged != [mr]:
                raise RuntimeError(f"the refinery did not merge {mr}: {report}")
            merged += 1
            return elapsed

        def bare_git() -> float:
            _branch, commit = setup.twin_branch()
            twin = setup.twin
            started = time.perf_counter()
            old = _git("rev-parse", "refs/heads/main", cwd=twin)
            _git("merge-tree", "--write-tree", "--name-only", old, commit, cwd=twin)
            _git("rebase", "--quiet", "--onto", old, f"{commit}~1", commit, cwd=setup.twin_worktree)
            new = _git("rev-parse", "HEAD", cwd=setup.twin_worktree)
            _git("update-ref", "refs/heads/main", new, old, cwd=twin)
            return (time.perf_counter() - started) * 1000

        one_round()  # warm-up: creates the refinery worktree
        bare_git()
        for _ in range(samples):
            subject.append(one_round())
            baseline.append(bare_git())
        refinery.close()
        figure = ratio(subject, baseline, target=TARGET_RATIO)
        return {
            "per_mr_overhead": {
                **figure,
                "what": "one refinery round per MR with empty gates (pick → merged, outcomes included) "
                        "vs bare merge-tree + rebase + update-ref",
                "subject": summary(subject),
                "baseline": summary(baseline),
                "overhead_minus_git_ms": round(statistics.median(subject) - statistics.median(baseline), 2),
                "merged": merged,
            }
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
