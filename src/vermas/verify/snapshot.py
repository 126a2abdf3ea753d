"""A throw-away checkout of one commit, where the criteria run.

Never the polecat's worktree and never a worktree of the rig's repository (from a linked
worktree a command could move the rig's refs): the commit's files are written out of the
bare repository with a private index (``read-tree -u``, which only reads the repository),
into a fresh directory under ``$TMPDIR`` — outside the town — and committed
into a new, standalone git repository with no remotes, no alternates and no hooks, so
``git status``/``git diff`` work in criteria but nothing can be pushed anywhere. Criteria get
a private ``HOME`` beside it (no git credentials, no user config). The directory is removed
when the run ends.

Layout: ``<tmp>/vermas-verify-XXXX/{work/ (the checkout), home/, index}``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from vermas.errors import VermasError

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "VerMAS verifier", "GIT_AUTHOR_EMAIL": "verifier@vermas.invalid",
                "GIT_COMMITTER_NAME": "VerMAS verifier", "GIT_COMMITTER_EMAIL": "verifier@vermas.invalid"}


class SnapshotError(VermasError):
    """The commit could not be checked out for verification."""


class Snapshot:
    """``with Snapshot(repo, commit) as snap:`` — ``snap.path`` holds the commit's files."""

    def __init__(self, repo: str, commit: str, *, keep: bool = False) -> None:
        self.repo = repo
        self.commit = commit
        self.keep = keep
        self.root = ""
        self.path = ""
        self.home = ""

    def __enter__(self) -> Snapshot:
        self.create()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            self.remove()

    def _git(self, args: list[str], *, cwd: str | None = None, extra: dict | None = None) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home, "LC_ALL": "C",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **GIT_IDENTITY, **(extra or {})}
        try:
            proc = subprocess.run(["git", *args], cwd=cwd or self.root, env=env, capture_output=True, text=True,
                                  timeout=300)
        except subprocess.TimeoutExpired:
            raise SnapshotError(f"git timed out while checking out {self.commit[:12]} for verification") from None
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            verb = next((a for a in args if not a.startswith("-") and "=" not in a and os.sep not in a), args[0])
            raise SnapshotError(f"cannot check out {self.commit[:12]} of {self.repo} for verification: "
                                f"git {verb}: {detail[-1] if detail else 'exit ' + str(proc.returncode)}")

    def create(self) -> str:
        self.root = tempfile.mkdtemp(prefix="vermas-verify-")
        self.path = os.path.join(self.root, "work")
        self.home = os.path.join(self.root, "home")
        os.makedirs(self.path)
        os.makedirs(self.home)
        index = os.path.join(self.root, "index")
        try:
            private_index = {"GIT_INDEX_FILE": index}
            self._git(["--git-dir", self.repo, "--work-tree", self.path, "read-tree", "-u", "--reset", self.commit],
                      extra=private_index)
            os.unlink(index)
            self._git(["-c", "init.defaultBranch=verify", "init", "--quiet", "--template=", self.path])
            self._git(["-c", "core.hooksPath=/dev/null", "add", "--all", "--force", "."], cwd=self.path)
            self._git(["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "commit", "--quiet",
                       "--allow-empty", "--no-verify", "-m", f"verification snapshot of {self.commit}"], cwd=self.path)
        except BaseException:
            self.remove()
            raise
        return self.path

    def remove(self) -> None:
        if self.root and os.path.isdir(self.root):
            shutil.rmtree(self.root, ignore_errors=True)
