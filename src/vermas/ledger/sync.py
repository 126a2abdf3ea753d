"""``vermas sync``: commit ``.beads``, pull with rebase (merging ledger conflicts), push.

Runs under the ledger's write lock, so no vermas writer changes the files mid-sync:

1. ``git add -A .beads`` (ignored local files stay out) and, when something changed, commit
   only those paths;
2. when the branch has an upstream (or an ``origin`` with the same branch), ``git pull
   --rebase`` (other local changes are autostashed). A conflict in ``issues.jsonl`` is merged
   issue by issue (:func:`vermas.ledger.merge.merge_issues`: newest ``updated_at`` wins,
   nothing dropped), a conflict in ``events.jsonl`` is a union of lines; the rebase then
   continues. A conflict in any other file aborts the rebase and is reported;
3. ``git push`` (``-u origin HEAD`` the first time), retrying the pull once if the remote
   moved meanwhile.

git runs through ``subprocess`` with argument lists only.
"""

from __future__ import annotations

import os
import subprocess

from vermas import gitops
from vermas.errors import ConflictError, VermasError
from vermas.fileops import FileLock, atomic_write_text
from vermas.gitops import GitError, git_env
from vermas.ledger import merge

ISSUES_FILE = "issues.jsonl"
LOG_FILES = ("events.jsonl", "interactions.jsonl")
MAX_REBASE_STEPS = 200


class Git:
    """A git working tree driven through :mod:`vermas.gitops` (timeouts, typed errors)."""

    def __init__(self, root: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = git_env() if env is None else dict(env)
        self.env.setdefault("GIT_EDITOR", "true")
        self.env["GIT_TERMINAL_PROMPT"] = "0"

    def run(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        return gitops.run(list(args), cwd=self.root, check=check, env=self.env, input=input, timeout=600)

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def ok(self, *args: str) -> bool:
        return self.run(*args, check=False).returncode == 0

    def path(self, name: str) -> str:
        """An absolute path inside ``.git`` (``rebase-merge`` …), worktree-aware."""
        value = self.out("rev-parse", "--git-path", name)
        return value if os.path.isabs(value) else os.path.join(self.root, value)  # noqa: PTH117

    def rebase_in_progress(self) -> bool:
        return os.path.isdir(self.path("rebase-merge")) or os.path.isdir(self.path("rebase-apply"))

    def show_stage(self, stage: int, rel: str) -> str | None:
        proc = self.run("show", f":{stage}:{rel}", check=False)
        return proc.stdout if proc.returncode == 0 else None


def repo_root(path: str, env: dict[str, str] | None = None) -> str:
    proc = gitops.run(["rev-parse", "--show-toplevel"], cwd=path, check=False, env=env, timeout=60)
    if proc.returncode != 0:
        raise VermasError(f"{path} is not inside a git repository",
                          hint="run 'git init' in the project (and add a remote) to sync the ledger")
    return proc.stdout.strip()


def sync(beads_dir: str, actor: str, *, message: str | None = None, pull: bool = True, push: bool = True,
         env: dict[str, str] | None = None, progress=None) -> dict:
    """Commit, pull (merging ledger conflicts) and push; returns what happened."""
    from vermas.ledger.store import LOCK_FILE

    say = progress or (lambda _msg: None)
    beads_dir = os.path.realpath(beads_dir)
    git = Git(repo_root(beads_dir, env), env)
    rel = os.path.relpath(beads_dir, os.path.realpath(git.root))
    result: dict = {"repo": git.root, "beads_dir": beads_dir, "committed": False, "commit": None,
                    "remote": None, "branch": None, "pulled": False, "merged": [], "pushed": False}
    with FileLock(os.path.join(beads_dir, LOCK_FILE)):
        if git.rebase_in_progress():
            raise ConflictError(f"a rebase is already in progress in {git.root}",
                                hint="finish it ('git rebase --continue') or abort it ('git rebase --abort') first")
        _ensure_identity(git, actor)
        git.run("add", "-A", "--", rel)
        if not git.ok("diff", "--cached", "--quiet", "--", rel):
            say(f"committing {rel}")
            git.run("commit", "--no-verify", "-m", message or f"vermas sync: ledger update by {actor}", "--", rel)
            result["committed"] = True
        result["commit"] = git.out("rev-parse", "HEAD") if git.ok("rev-parse", "--verify", "HEAD") else None
        branch = git.out("rev-parse", "--abbrev-ref", "HEAD")
        result["branch"] = branch
        remote, remote_branch, has_upstream = _remote_for(git, branch)
        result["remote"] = remote
        if remote is None:
            return result
        for attempt in range(3):
            if pull and _remote_has_branch(git, remote, remote_branch):
                say(f"pulling {remote}/{remote_branch} with rebase")
                result["merged"] += _pull_rebase(git, remote, remote_branch, rel)
                result["pulled"] = True
            if not push:
                break
            say(f"pushing to {remote}/{remote_branch}")
            args = ["push", "--no-verify"] + ([] if has_upstream else ["-u"]) + [remote, f"HEAD:{remote_branch}"]
            proc = git.run(*args, check=False)
            if proc.returncode == 0:
                result["pushed"] = True
                has_upstream = True
                break
            if attempt == 2 or not pull:
                raise GitError(f"git push failed: {(proc.stderr or proc.stdout).strip()[-800:]}",
                               hint="pull and resolve, then run 'vermas sync' again")
        result["commit"] = git.out("rev-parse", "HEAD")
    return result


def _ensure_identity(git: Git, actor: str) -> None:
    """Commits need an identity; fall back to the actor when git has none configured."""
    if not git.run("config", "user.name", check=False).stdout.strip():
        git.env.setdefault("GIT_AUTHOR_NAME", actor)
        git.env.setdefault("GIT_COMMITTER_NAME", actor)
    if not git.run("config", "user.email", check=False).stdout.strip():
        email = f"{actor.replace('/', '.').replace(' ', '.')}@vermas.local"
        git.env.setdefault("GIT_AUTHOR_EMAIL", email)
        git.env.setdefault("GIT_COMMITTER_EMAIL", email)


def _remote_for(git: Git, branch: str) -> tuple[str | None, str, bool]:
    """(remote, remote branch, has upstream) — the upstream, else ``origin`` (or the only remote)."""
    upstream = git.run("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", check=False)
    if upstream.returncode == 0 and "/" in upstream.stdout.strip():
        remote, _slash, remote_branch = upstream.stdout.strip().partition("/")
        return remote, remote_branch, True
    remotes = git.out("remote").split()
    if not remotes:
        return None, branch, False
    remote = "origin" if "origin" in remotes else remotes[0]
    return remote, branch, False


def _remote_has_branch(git: Git, remote: str, branch: str) -> bool:
    proc = git.run("ls-remote", "--exit-code", "--heads", remote, branch, check=False)
    return proc.returncode == 0


def _pull_rebase(git: Git, remote: str, branch: str, rel: str) -> list[dict]:
    merged: list[dict] = []
    proc = git.run("-c", "rebase.autoStash=true", "pull", "--rebase", "--no-verify", remote, branch, check=False)
    if proc.returncode == 0:
        return merged
    if not git.rebase_in_progress():
        raise GitError(f"git pull --rebase failed: {(proc.stderr or proc.stdout).strip()[-800:]}")
    for _step in range(MAX_REBASE_STEPS):
        conflicted = [p for p in git.out("diff", "--name-only", "--diff-filter=U").splitlines() if p]
        for path in conflicted:
            merged.append(_resolve(git, path, rel))
        cont = git.run("-c", "core.editor=true", "rebase", "--continue", check=False)
        if not git.rebase_in_progress():
            if cont.returncode != 0 and "nothing to commit" not in (cont.stdout + cont.stderr):
                raise GitError(f"git rebase --continue failed: {(cont.stderr or cont.stdout).strip()[-800:]}")
            return merged
        if cont.returncode != 0 and not git.out("diff", "--name-only", "--diff-filter=U"):
            # An empty commit after resolution: skip it, as git suggests.
            git.run("rebase", "--skip", check=False)
            if not git.rebase_in_progress():
                return merged
    git.run("rebase", "--abort", check=False)
    raise GitError("the rebase did not finish after many steps; it was aborted, nothing was lost")


def _resolve(git: Git, path: str, rel: str) -> dict:
    name = os.path.basename(path)
    in_ledger = os.path.dirname(path) == rel or (rel == "." and "/" not in path)
    ours, theirs = git.show_stage(2, path), git.show_stage(3, path)
    if not in_ledger or (name != ISSUES_FILE and name not in LOG_FILES) or ours is None or theirs is None:
        git.run("rebase", "--abort", check=False)
        raise ConflictError(
            f"sync: {path} conflicts and is not a ledger file vermas can merge; the pull was undone",
            hint="merge that file by hand (git pull --rebase), then run 'vermas sync' again",
        )
    try:
        if name == ISSUES_FILE:
            text, stats = merge.merge_issues(ours, theirs, ours_label=f"{path} (upstream)",
                                             theirs_label=f"{path} (local)")
        else:
            text, stats = merge.merge_log(ours, theirs), {}
    except VermasError:
        git.run("rebase", "--abort", check=False)
        raise
    atomic_write_text(os.path.join(git.root, path), text)
    git.run("add", "--", path)
    return {"file": path, **stats}
