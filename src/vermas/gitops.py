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


# ---------------------------------------------------------------- merge-queue primitives
def branch_heads(repo: str) -> dict[str, str]:
    """Every local branch and its commit id, in one ``git for-each-ref`` call."""
    text = run(["for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads/"], cwd=repo).stdout
    heads: dict[str, str] = {}
    for line in text.splitlines():
        name, _sep, sha = line.rpartition(" ")
        if name and sha:
            heads[name] = sha
    return heads


def commit_exists(repo: str, sha: str) -> bool:
    """Is ``sha`` a commit present in ``repo``'s object database?"""
    return bool(sha) and run(["cat-file", "-e", sha + "^{commit}"], cwd=repo, check=False).returncode == 0


def is_ancestor(repo: str, ancestor: str, descendant: str) -> bool:
    """``git merge-base --is-ancestor``: is ``ancestor`` reachable from ``descendant``?"""
    proc = run(["merge-base", "--is-ancestor", ancestor, descendant], cwd=repo, check=False)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise GitError(f"git merge-base --is-ancestor {ancestor} {descendant} failed: {proc.stderr.strip()}",
                   stderr=proc.stderr, returncode=proc.returncode)


def merge_base(repo: str, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when they share no history."""
    proc = run(["merge-base", a, b], cwd=repo, check=False)
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and sha else None


def compare_and_swap(repo: str, ref: str, new: str, old: str, *, message: str = "") -> bool:
    """Move ``ref`` from ``old`` to ``new`` in one atomic step; False when ``ref`` is no longer at ``old``.

    ``git update-ref <ref> <new> <old>`` locks the ref, checks its value and writes it, so two
    writers can never both win and a reader never sees a half-moved ref.
    """
    args = ["update-ref"] + (["-m", message] if message else []) + [ref, new, old]
    proc = run(args, cwd=repo, check=False)
    if proc.returncode == 0:
        return True
    current = rev_parse(ref, cwd=repo)
    if current != old:
        return False
    raise GitError(f"git update-ref {ref} failed in {repo}: {proc.stderr.strip()}", args=args,
                   stderr=proc.stderr, returncode=proc.returncode)


def delete_ref(repo: str, ref: str, old: str | None = None) -> bool:
    """Delete ``ref`` (only if it still points at ``old`` when given); False when it did not."""
    args = ["update-ref", "-d", ref] + ([old] if old else [])
    return run(args, cwd=repo, check=False).returncode == 0


def worktree_add_detached(repo: str, path: str, commit: str) -> None:
    """A worktree at ``path`` with a detached HEAD at ``commit`` (no branch is created)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    run(["worktree", "add", "--quiet", "--detach", path, commit], cwd=repo)


def abort_in_progress(worktree: str) -> None:
    """Abort any rebase, merge, cherry-pick or revert left half-done in ``worktree``.

    ``--quit`` after ``--abort`` drops sequencer state that a killed process left too broken to abort.
    """
    git_dir = git_dir_of(worktree)
    markers = ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "sequencer")
    if not any(os.path.exists(os.path.join(git_dir, m)) for m in markers):
        return
    for args in (["rebase", "--abort"], ["rebase", "--quit"], ["merge", "--abort"], ["cherry-pick", "--abort"],
                 ["cherry-pick", "--quit"], ["revert", "--abort"], ["revert", "--quit"]):
        run(args, cwd=worktree, check=False)


def git_dir_of(worktree: str) -> str:
    """The (per-worktree) git directory of ``worktree``, absolute (read from its ``.git`` file when it has one)."""
    dot_git = os.path.join(worktree, ".git")
    if os.path.isfile(dot_git):
        with open(dot_git, encoding="utf-8") as fh:
            first = fh.readline().strip()
        if first.startswith("gitdir:"):
            path = first[len("gitdir:"):].strip()
            return os.path.normpath(os.path.join(worktree, path))
    return out(["rev-parse", "--absolute-git-dir"], cwd=worktree)


def head_commit(worktree: str) -> str:
    """The commit ``worktree``'s HEAD points at (a file read when HEAD is detached)."""
    try:
        with open(os.path.join(git_dir_of(worktree), "HEAD"), encoding="ascii") as fh:
            text = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text):
        return text
    return out(["rev-parse", "HEAD"], cwd=worktree)


def remove_stale_lock(path: str) -> bool:
    """Delete a git ``*.lock`` file left by a killed git process; True when one was removed.

    Call only where no live git process can be using it (e.g. the refinery's own worktree or
    a ref it alone moves, while holding the refinery lock).
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def reset_worktree(worktree: str, commit: str) -> None:
    """Put ``worktree`` at a detached ``commit`` with no local changes and no untracked files."""
    abort_in_progress(worktree)
    run(["checkout", "--quiet", "--force", "--detach", commit], cwd=worktree)
    run(["clean", "-ffdxq"], cwd=worktree)


def conflicted_paths(worktree: str) -> list[str]:
    """Paths with unresolved conflicts in ``worktree``'s index."""
    text = run(["diff", "--name-only", "--diff-filter=U", "-z"], cwd=worktree, check=False).stdout
    return sorted({p for p in text.split("\0") if p})


def rebase_onto(worktree: str, onto: str, upstream: str, head: str, *,
                env: dict[str, str] | None = None) -> tuple[bool, list[str], str]:
    """Replay ``upstream..head`` onto ``onto`` in ``worktree`` (detached).

    Returns ``(ok, conflicted_paths, detail)``; on a conflict the rebase is aborted and the
    worktree is left at ``onto``'s parent state by the caller's next reset.
    """
    proc = run(["rebase", "--quiet", "--no-autostash", "--onto", onto, upstream, head], cwd=worktree,
               check=False, env=env)
    if proc.returncode == 0:
        return True, [], ""
    files = conflicted_paths(worktree)
    detail = (proc.stderr or proc.stdout).strip()
    abort_in_progress(worktree)
    return False, files, detail


def commit_tree(repo: str, tree: str, parents: list[str], message: str, *,
                env: dict[str, str] | None = None) -> str:
    """A new commit object with ``tree`` and ``parents`` (no ref or worktree is touched)."""
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return run(args, cwd=repo, input=message, env=env).stdout.strip()


def tree_of(repo: str, commit: str) -> str:
    return out(["rev-parse", commit + "^{tree}"], cwd=repo)


def commit_meta(repo: str, commit: str) -> dict[str, str]:
    """Author name, email and date (raw), subject and full message of one commit."""
    text = run(["show", "-s", "--format=%an%x00%ae%x00%ad%x00%s%x00%B", "--date=raw", commit], cwd=repo).stdout
    name, email, date, subject, body = (text.split("\0", 4) + [""] * 5)[:5]
    return {"author_name": name, "author_email": email, "author_date": date, "subject": subject,
            "message": body.rstrip("\n")}


def log_subjects(repo: str, revision_range: str) -> list[tuple[str, str]]:
    """``(sha, subject)`` of every commit in ``revision_range``, oldest first."""
    text = run(["log", "--reverse", "--format=%H%x00%s", revision_range], cwd=repo).stdout
    return [tuple(line.split("\0", 1)) for line in text.splitlines() if "\0" in line]  # type: ignore[misc]


def cherry_unmerged(repo: str, upstream: str, head: str) -> list[str]:
    """Commits of ``head`` with no patch-equivalent in ``upstream`` (``git cherry`` '+' lines)."""
    text = run(["cherry", upstream, head], cwd=repo).stdout
    return [line[2:].strip() for line in text.splitlines() if line.startswith("+ ")]


def ls_remote(repo: str, remote: str, ref: str, *, timeout: float = GIT_TIMEOUT) -> str | None:
    """The commit ``ref`` points at on ``remote``, or None when it does not exist there."""
    text = run(["ls-remote", remote, ref], cwd=repo, timeout=timeout).stdout
    for line in text.splitlines():
        sha, _tab, name = line.partition("\t")
        if name == ref:
            return sha
    return None


def push(repo: str, remote: str, refspec: str, *, force: bool = False, timeout: float = GIT_TIMEOUT) -> None:
    """``git push <remote> <refspec>`` (``--force`` only when asked); GitError on rejection."""
    run(["push", "--quiet", "--porcelain"] + (["--force"] if force else []) + [remote, refspec], cwd=repo,
        timeout=timeout)


def fetch_ref(repo: str, remote: str, branch: str, *, timeout: float = GIT_TIMEOUT) -> str | None:
    """Fetch ``branch`` from ``remote`` into ``refs/remotes/<remote>/<branch>``; its commit, or None."""
    local = f"refs/remotes/{remote}/{branch}"
    proc = run(["fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{local}"], cwd=repo, check=False,
               timeout=timeout)
    if proc.returncode != 0:
        return None
    return rev_parse(local, cwd=repo)


def checked_out_by(repo: str, branch: str) -> list[str]:
    """Worktree paths that have ``branch`` checked out (excluding the bare repository itself)."""
    ref = f"refs/heads/{branch}"
    return [w.get("worktree", "") for w in worktrees(repo) if w.get("branch") == ref and "bare" not in w]


def detach_head(worktree: str, commit: str) -> None:
    """Detach ``worktree``'s HEAD at ``commit`` (its current commit), leaving its files and index alone."""
    run(["update-ref", "--no-deref", "-m", "detached by the refinery after merge", "HEAD", commit], cwd=worktree)
