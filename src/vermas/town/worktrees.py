"""Polecat worktrees: ``<rig>/polecats/<name>/<rig>/``, linked worktrees of the rig's bare repository.

A fresh worktree is created in two steps so that many can be made at once:

1. **register** (cheap, serial): the new branches are created in one ``git update-ref --stdin``
   transaction, and each worktree's administrative files are written — exactly what
   ``git worktree add --no-checkout`` writes (gitrepository-layout(5)):
   ``.repo.git/worktrees/<id>/{gitdir,commondir,HEAD}`` and ``<worktree>/.git`` (``gitdir: …``).
   The id is ``<rig>-<polecat>``, unique per polecat, so nothing is probed: ``git worktree add``
   picks ``<basename>N`` by probing for a free number, and every polecat worktree has the same
   basename (the rig), so parallel ``worktree add`` calls race;
2. **checkout** (the real work, in parallel): ``git reset --hard <base>`` writes the index and
   the files.

A reused worktree (a polecat's earlier job, committed and clean) just switches to the new
branch. ``git worktree list/remove/prune`` treat these worktrees like any other.
"""

from __future__ import annotations

import os
import shutil
import time

from vermas import gitops
from vermas.errors import ConflictError
from vermas.fileops import atomic_write_text
from vermas.town.layout import RigPaths


def admin_id(rig: RigPaths, name: str) -> str:
    return f"{rig.name}-{name}"


def prepare(rig: RigPaths, name: str) -> bool:
    """Check the polecat's worktree path: True when it must be created, False when a clean one exists."""
    path = rig.polecat_worktree(name)
    if os.path.isdir(path) and gitops.is_repo(path):
        if gitops.dirty_paths(path):
            raise ConflictError(f"worktree {path} has uncommitted changes from an earlier job",
                                hint="look at them, then commit or discard them before reusing this polecat")
        return False
    if os.path.exists(path):
        raise ConflictError(f"{path} exists but is not a git worktree", hint="move it away")
    return True


def create_branches(repo: str, branches: list[tuple[str, str]]) -> None:
    """Create ``refs/heads/<branch>`` at ``commit`` for each pair, atomically, in one git process."""
    if not branches:
        return
    script = "".join(f"create refs/heads/{branch} {commit}\n" for branch, commit in branches)
    gitops.run(["update-ref", "--stdin"], cwd=repo, input=script)


def register(rig: RigPaths, name: str, branch: str) -> str:
    """Write the linked-worktree files for ``name`` on ``branch`` (which must exist); returns the path."""
    path = rig.polecat_worktree(name)
    admin = os.path.join(rig.repo, "worktrees", admin_id(rig, name))
    _drop_stale(rig.repo, os.path.join(path, ".git"), keep=admin)
    if os.path.isdir(admin):
        shutil.rmtree(admin)  # a registration left by a deleted worktree of this polecat
    os.makedirs(admin)
    os.makedirs(path, exist_ok=True)
    atomic_write_text(os.path.join(admin, "commondir"), "../..\n", durable=False)
    atomic_write_text(os.path.join(admin, "gitdir"), os.path.join(path, ".git") + "\n", durable=False)
    atomic_write_text(os.path.join(admin, "HEAD"), f"ref: refs/heads/{branch}\n", durable=False)
    atomic_write_text(os.path.join(path, ".git"), f"gitdir: {admin}\n", durable=False)
    return path


def _drop_stale(repo: str, dotgit: str, *, keep: str) -> None:
    """Remove other registrations of the same path (left when its directory was deleted)."""
    base = os.path.join(repo, "worktrees")
    try:
        entries = os.listdir(base)
    except FileNotFoundError:
        return
    for entry in entries:
        admin = os.path.join(base, entry)
        if admin == keep:
            continue
        try:
            with open(os.path.join(admin, "gitdir"), encoding="utf-8") as fh:
                target = fh.read().strip()
        except OSError:
            continue
        if os.path.normpath(target) == os.path.normpath(dotgit):
            shutil.rmtree(admin, ignore_errors=True)


def checkout(path: str, branch: str, base_commit: str, *, fresh: bool) -> None:
    """Fill a registered worktree (fresh) or move a reused clean one to the new branch."""
    if fresh:
        gitops.run(["reset", "--quiet", "--hard", base_commit], cwd=path)
    else:
        _git_retry(["switch", "--quiet", "--no-guess", "-c", branch, base_commit], cwd=path)


def ensure(rig: RigPaths, name: str, branch: str, base_commit: str) -> str:
    """One polecat's worktree on a new ``branch`` from ``base_commit`` (all steps); returns its path."""
    fresh = prepare(rig, name)
    if fresh:
        create_branches(rig.repo, [(branch, base_commit)])
        path = register(rig, name, branch)
    else:
        path = rig.polecat_worktree(name)
    checkout(path, branch, base_commit, fresh=fresh)
    return path


def _git_retry(args: list[str], *, cwd: str, attempts: int = 5) -> None:
    """A git command that may meet another process's ref/index lock: retry briefly."""
    for attempt in range(attempts):
        proc = gitops.run(args, cwd=cwd, check=False)
        if proc.returncode == 0:
            return
        text = (proc.stderr or "") + (proc.stdout or "")
        if ".lock" not in text or attempt == attempts - 1:
            gitops.run(args, cwd=cwd)  # raises with git's message
            return
        time.sleep(0.05 * (attempt + 1))
