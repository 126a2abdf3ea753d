"""Build candidate commits: requests rebased onto the target, one after another, by strategy.

Only the refinery's own worktree and new commit objects are touched; no ref moves here.
For each request on top of the current tip:

1. ``git merge-tree --write-tree <tip> <source>``: conflicts are known before any checkout;
2. ``git rebase --onto <tip> <fork-point> <source>`` in the refinery worktree (detached);
   if the replay conflicts commit by commit although the whole branch merges cleanly, the
   branch's merged tree from step 1 is committed as one commit instead;
3. by strategy: ``ff`` keeps the rebased commits; ``merge`` adds a merge commit (parents: tip,
   rebased tip; semi-linear history); ``squash`` makes one commit with the rebased tree.

The result of every prefix is cached, so batch bisection rebuilds nothing twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vermas import gitops
from vermas.roles.refinery.mr import MergeRequest


class MergeConflict(Exception):
    """A request cannot be applied on the given tip; ``files`` names the conflicting paths."""

    def __init__(self, mr: MergeRequest, files: list[str], detail: str, *, against: str) -> None:
        super().__init__(f"{mr.id} ({mr.branch}) conflicts with {against[:12]}: {', '.join(files) or detail}")
        self.mr = mr
        self.files = files
        self.detail = detail
        self.against = against


@dataclass
class Stack:
    """The candidate for an ordered sequence of requests built on ``base``."""

    base: str
    tip: str
    applied: list[MergeRequest] = field(default_factory=list)  # changes are in ``tip``
    empty: list[MergeRequest] = field(default_factory=list)  # nothing left to apply (already there)
    dropped: list[MergeConflict] = field(default_factory=list)  # conflicted on top of earlier ones
    notes: dict[str, str] = field(default_factory=dict)  # mr id -> how it was applied, if unusual
    order: list[MergeRequest] = field(default_factory=list)  # what was asked for, in order

    @property
    def members(self) -> list[MergeRequest]:
        """Requests that are part of this candidate (applied or empty), in order."""
        ids = {m.id for m in self.applied} | {m.id for m in self.empty}
        return [m for m in self.order if m.id in ids]


class Builder:
    """Builds :class:`Stack` objects for one base commit in the refinery worktree."""

    def __init__(self, repo: str, worktree: str, *, strategy: str, rig: str, target: str, base: str) -> None:
        self.repo = repo
        self.worktree = worktree
        self.strategy = strategy
        self.target = target
        self.base = base
        self.env = gitops.git_env({
            "GIT_COMMITTER_NAME": f"{rig}/refinery",
            "GIT_COMMITTER_EMAIL": f"{rig}-refinery@vermas.local",
        })
        self.sources: dict[str, str] = {}
        self._cache: dict[tuple[str, ...], Stack] = {}
        self._merges: dict[tuple[str, str], tuple[bool, str | None, list[str]]] = {}
        self._trees: dict[str, str] = {}
        self.at: str | None = None  # the commit the worktree is known to be at, clean (None: unknown)

    # ------------------------------------------------------------------ public
    def set_source(self, mr: MergeRequest, sha: str) -> None:
        self.sources[mr.id] = sha

    def conflicts_with_base(self, mr: MergeRequest) -> MergeConflict | None:
        """``merge-tree`` of the request against the base alone (no worktree touched)."""
        clean, _tree, files = self._merge_tree(self.base, self.sources[mr.id])
        if clean:
            return None
        return MergeConflict(mr, files, "merge-tree reports conflicts", against=self.base)

    def build(self, mrs: list[MergeRequest]) -> Stack:
        """The stack for ``mrs`` in order; requests that conflict on top of earlier ones are dropped."""
        key = tuple(m.id for m in mrs)
        if key in self._cache:
            return self._cache[key]
        if not mrs:
            stack = Stack(base=self.base, tip=self.base)
        else:
            prev = self.build(mrs[:-1])
            mr = mrs[-1]
            stack = Stack(base=self.base, tip=prev.tip, applied=list(prev.applied), empty=list(prev.empty),
                          dropped=list(prev.dropped), notes=dict(prev.notes), order=list(mrs))
            try:
                tip, empty, note = self._apply(prev.tip, mr)
            except MergeConflict as conflict:
                stack.dropped.append(conflict)
            else:
                stack.tip = tip
                (stack.empty if empty else stack.applied).append(mr)
                if note:
                    stack.notes[mr.id] = note
        stack.order = list(mrs)
        self._cache[key] = stack
        return stack

    def checkout(self, commit: str, *, force: bool = False) -> None:
        """Put the refinery worktree at ``commit`` (detached, clean); a no-op when it is known to be there."""
        if force or self.at != commit:
            gitops.reset_worktree(self.worktree, commit)
            self.at = commit

    def touched(self) -> None:
        """Something (a gate) may have changed files in the worktree: reset before the next use."""
        self.at = None

    def _merge_tree(self, ours: str, theirs: str) -> tuple[bool, str | None, list[str]]:
        key = (ours, theirs)
        if key not in self._merges:
            self._merges[key] = gitops.merge_tree(self.repo, ours, theirs)
        return self._merges[key]

    def _tree(self, commit: str) -> str:
        if commit not in self._trees:
            self._trees[commit] = gitops.tree_of(self.repo, commit)
        return self._trees[commit]

    # ----------------------------------------------------------------- private
    def _apply(self, tip: str, mr: MergeRequest) -> tuple[str, bool, str]:
        """``(new_tip, empty, note)`` for ``mr`` applied on ``tip``; MergeConflict if it cannot be."""
        source = self.sources[mr.id]
        fork = gitops.merge_base(self.repo, source, self.base)
        if fork is None:
            raise MergeConflict(mr, [], f"{mr.branch} shares no history with {self.target}", against=tip)
        if fork == source:
            return tip, True, "already contained in the target"
        clean, merged_tree, files = self._merge_tree(tip, source)
        if not clean:
            raise MergeConflict(mr, files, "merge-tree reports conflicts", against=tip)
        self.checkout(tip)
        ok, _files, _detail = gitops.rebase_onto(self.worktree, tip, fork, source, env=self.env)
        note = ""
        if ok:
            rebased = gitops.head_commit(self.worktree)
            self.at = rebased
        else:
            self.at = None
            # The branch as a whole merges cleanly (merge-tree said so) but its commits do not replay
            # one by one: land the branch's merged tree as a single commit.
            assert merged_tree
            rebased = gitops.commit_tree(self.repo, merged_tree, [tip], self._squash_message(mr, fork, source),
                                         env=self._author_env(source))
            note = "commit-by-commit replay conflicted; landed the branch's merged tree as one commit"
        if rebased == tip:
            return tip, True, "no changes left after rebasing onto the target"
        if self.strategy == "ff":
            return rebased, False, note
        tree = self._tree(rebased)
        if tree == self._tree(tip):
            return tip, True, "no changes left after rebasing onto the target"
        if self.strategy == "merge":
            message = (f"Merge {mr.branch} into {self.target}" + (f" ({mr.source_issue})" if mr.source_issue else "")
                       + "\n\n" + self._trailers(mr))
            env = dict(self.env, GIT_AUTHOR_NAME=self.env["GIT_COMMITTER_NAME"],
                       GIT_AUTHOR_EMAIL=self.env["GIT_COMMITTER_EMAIL"])
            return gitops.commit_tree(self.repo, tree, [tip, rebased], message, env=env), False, note
        message = self._squash_message(mr, fork, source)
        return gitops.commit_tree(self.repo, tree, [tip], message, env=self._author_env(source)), False, note

    def _trailers(self, mr: MergeRequest) -> str:
        lines = [f"Merge-Request: {mr.id}"]
        if mr.source_issue:
            lines.append(f"Source-Issue: {mr.source_issue}")
        if mr.worker:
            lines.append(f"Worker: {mr.worker}")
        return "\n".join(lines) + "\n"

    def _squash_message(self, mr: MergeRequest, fork: str, source: str) -> str:
        commits = gitops.log_subjects(self.repo, f"{fork}..{source}")
        if len(commits) == 1:
            body = gitops.commit_meta(self.repo, commits[0][0])["message"].rstrip()
            return f"{body}\n\n{self._trailers(mr)}"
        head = f"{mr.source_issue}: " if mr.source_issue else ""
        title = mr.title if mr.title and not mr.title.lower().startswith("merge") else f"squash {mr.branch}"
        listing = "\n".join(f"* {subject}" for _sha, subject in commits)
        return f"{head}{title}\n\nSquashed {len(commits)} commits from {mr.branch}:\n{listing}\n\n{self._trailers(mr)}"

    def _author_env(self, source: str) -> dict[str, str]:
        meta = gitops.commit_meta(self.repo, source)
        env = dict(self.env)
        if meta["author_name"]:
            env["GIT_AUTHOR_NAME"] = meta["author_name"]
            env["GIT_AUTHOR_EMAIL"] = meta["author_email"]
        return env


def ensure_worktree(repo: str, path: str, commit: str) -> None:
    """Create the refinery worktree (detached at ``commit``) or repair a broken one."""
    if os.path.isfile(os.path.join(path, ".git")):
        proc = gitops.run(["rev-parse", "--show-toplevel"], cwd=path, check=False)
        if proc.returncode == 0 and os.path.realpath(proc.stdout.strip()) == os.path.realpath(path):
            return
    if os.path.exists(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    gitops.run(["worktree", "prune"], cwd=repo, check=False)
    gitops.worktree_add_detached(repo, path, commit)
