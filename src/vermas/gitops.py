"""The git CLI through subprocess: worktrees, branches, merge checks, ref moves.

Not GitPython or pygit2 (process leaks, memory leaks); the same git the agents use.
Every call has a timeout and raises :class:`GitError` with git's own message on failure.
"""

from __future__ import annotations

import os
import subprocess

from vermas.errors import VermasError

GIT_TIMEOUT = 120.0


class GitError(VermasError):
    """A git command failed; ``stderr`` holds git's message."""

    def __init__(self, message: str, *, args: list[str] | None = None, stderr: str = "", returncode: int = 1,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.git_args = args or []
        self.stderr = stderr
        self.returncode = returncode


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for git: no prompts, no pager, stable output."""
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"})
    if extra:
        env.update(extra)
    return env


def run(args: list[str], *, cwd: str, check: bool = True, timeout: float = GIT_TIMEOUT,
        env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``git <args>`` in ``cwd``; raise :class:`GitError` when ``check`` and it fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=env or git_env(), input=input)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args)} timed out after {timeout:.0f}s in {cwd}", args=args) from None
    except FileNotFoundError:
        raise VermasError("git is not installed", hint="install git 2.38 or newer") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(
            f"git {' '.join(args)} failed in {cwd}: {detail[-1] if detail else 'exit ' + str(proc.returncode)}",
            args=args, stderr=proc.stderr, returncode=proc.returncode,
        )
    return proc


def out(args: list[str], *, cwd: str, timeout: float = GIT_TIMEOUT) -> str:
    """stdout of a successful git command, stripped."""
    return run(args, cwd=cwd, timeout=timeout).stdout.strip()


def rev_parse(ref: str, *, cwd: str) -> str | None:
    """The commit id of ``ref``, or None when it does not resolve."""
    proc = run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], cwd=cwd, check=False)
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and sha else None


def is_repo(path: str) -> bool:
    return os.path.isdir(path) and run(["rev-parse", "--git-dir"], cwd=path, check=False).returncode == 0


def default_branch(repo: str) -> str:
    """The branch HEAD points to (works for bare and non-bare repos)."""
    proc = run(["symbolic-ref", "--short", "HEAD"], cwd=repo, check=False)
    name = proc.stdout.strip()
    return name or "main"


def dirty_paths(worktree: str) -> list[str]:
    """Paths with uncommitted changes (modified, staged or untracked, ignoring ignored files)."""
    text = run(["status", "--porcelain=v1", "-z", "--untracked-files=all"], cwd=worktree).stdout
    entries = [e for e in text.split("\0") if e]
    paths: list[str] = []
    skip = False
    for entry in entries:
        if skip:  # second path of a rename/copy entry
            skip = False
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":
            skip = True
        paths.append(path)
    return paths


def clone_bare(source: str, dest: str) -> None:
    """A bare clone whose branches mirror ``source``'s branches (refs/heads/*)."""
    run(["clone", "--bare", "--quiet", source, dest], cwd=os.path.dirname(os.path.abspath(dest)) or ".")
    # Keep remote-tracking refs for later fetches without clobbering our own branches.
    run(["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], cwd=dest)


def worktree_add(repo: str, path: str, branch: str, start: str) -> None:
    """A new worktree at ``path`` on a new branch ``branch`` starting at ``start``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    run(["worktree", "add", "--quiet", "-b", branch, path, start], cwd=repo)


def worktree_attach(repo: str, path: str, branch: str) -> None:
    """A worktree at ``path`` on an existing branch."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    run(["worktree", "add", "--quiet", path, branch], cwd=repo)


def worktree_remove(repo: str, path: str, *, force: bool = False) -> None:
    args = ["worktree", "remove", path] + (["--force"] if force else [])
    proc = run(args, cwd=repo, check=False)
    if proc.returncode != 0 and os.path.exists(path):
        raise GitError(f"cannot remove worktree {path}: {proc.stderr.strip()}", args=args, stderr=proc.stderr)
    run(["worktree", "prune"], cwd=repo, check=False)


def worktrees(repo: str) -> list[dict[str, str]]:
    """``git worktree list --porcelain`` as dicts (worktree, HEAD, branch, bare/detached flags)."""
    text = run(["worktree", "list", "--porcelain"], cwd=repo).stdout
    items: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            if current:
                items.append(current)
                current = {}
            continue
        key, _sep, value = line.partition(" ")
        current[key] = value or "true"
    if current:
        items.append(current)
    return items


def branch_exists(repo: str, branch: str) -> bool:
    return rev_parse(f"refs/heads/{branch}", cwd=repo) is not None


def delete_branch(repo: str, branch: str) -> None:
    run(["branch", "-D", branch], cwd=repo, check=False)


def merge_tree(repo: str, base_branch: str, topic: str) -> tuple[bool, str | None, list[str]]:
    """Would ``topic`` merge cleanly into ``base_branch``?  ``(clean, tree_id, conflicted_paths)``.

    Uses ``git merge-tree --write-tree`` (git ≥ 2.38): no worktree is touched.
    """
    proc = run(["merge-tree", "--write-tree", "--name-only", "--no-messages", base_branch, topic],
               cwd=repo, check=False)
    lines = proc.stdout.splitlines()
    if proc.returncode == 0:
        return True, lines[0].strip() if lines else None, []
    if proc.returncode == 1:
        return False, lines[0].strip() if lines else None, [p for p in lines[1:] if p.strip()]
    raise GitError(f"git merge-tree failed: {proc.stderr.strip()}", stderr=proc.stderr, returncode=proc.returncode)


def update_ref(repo: str, ref: str, new: str, old: str | None = None) -> None:
    """Move ``ref`` to ``new`` atomically, only if it still points at ``old`` (when given)."""
    args = ["update-ref", ref, new] + ([old] if old else [])
    run(args, cwd=repo)


def commit_all(worktree: str, message: str, *, author: str | None = None) -> str | None:
    """``git add -A`` + commit; returns the new commit id, or None when nothing changed."""
    run(["add", "-A"], cwd=worktree)
    if run(["diff", "--cached", "--quiet"], cwd=worktree, check=False).returncode == 0:
        return None
    args = ["commit", "--quiet", "-m", message]
    if author:
        args += ["--author", author]
    run(args, cwd=worktree)
    return rev_parse("HEAD", cwd=worktree)
