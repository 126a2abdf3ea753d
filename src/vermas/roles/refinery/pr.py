"""Pull-request mode (``merge.mode = pr``), for targets that only change through reviewed PRs.

After the gates pass on the rebased candidate, the refinery pushes it to the rig's upstream
(``origin``) as the request's branch (forced: it is the rebased branch) and runs
``merge.pr_command`` (default ``gh pr create --fill --head {branch} --base {target}``). The
command is split like a shell would (``shlex``) but never run by a shell: placeholders
``{branch}``, ``{target}``, ``{mr}``, ``{source}``, ``{title}``, ``{body}``, ``{rig}``,
``{commit}``, ``{worker}`` are replaced inside each argument, so a title with quotes, ``;``
or ``$()`` stays one literal argument. The first ``http(s)://`` word of its output is
recorded as the PR URL.

The request then waits with label ``mq:pr-open``. Each round the refinery fetches the
upstream target; the PR has landed when its head commit is in it, when every commit has a
patch-equivalent there (rebase merges), or when every file the PR changed has the PR's
content there (squash merges). Then the request is finished like a direct merge (MR and
source closed, branch deleted, ``MERGED`` mail, convoys), and the local target is
fast-forwarded to the upstream one.
"""

from __future__ import annotations

import shlex
import subprocess

from vermas import gitops
from vermas.errors import VermasError

PR_TIMEOUT = 300.0
REMOTE = "origin"


class PullRequestError(VermasError):
    """Pushing the branch or running the PR command failed."""


def command_argv(template: str, values: dict[str, str]) -> list[str]:
    """The PR command as argv with placeholders filled in (no shell involved)."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise PullRequestError(f"merge.pr_command cannot be split into words: {exc}",
                               hint="check the quoting of merge.pr_command") from None
    if not words:
        raise PullRequestError("merge.pr_command is empty",
                               hint="vermas config set --rig <rig> merge.pr_command "
                                    "'gh pr create --fill --head {branch} --base {target}'")
    out = []
    for word in words:
        for key, value in values.items():
            word = word.replace("{" + key + "}", value)
        out.append(word)
    return out


def open_pull_request(repo: str, *, template: str, values: dict[str, str], head: str, branch: str,
                      environ: dict[str, str], cwd: str) -> tuple[str, str]:
    """Push ``head`` as ``branch`` upstream and run the PR command; ``(url, output)``."""
    try:
        gitops.push(repo, REMOTE, f"{head}:refs/heads/{branch}", force=True)
    except gitops.GitError as exc:
        raise PullRequestError(f"pushing {branch} to {REMOTE} failed: {exc.message}") from None
    pushed = gitops.ls_remote(repo, REMOTE, f"refs/heads/{branch}")
    if pushed != head:
        raise PullRequestError(f"push of {branch} did not land on {REMOTE} (remote has {pushed or 'nothing'})")
    argv = command_argv(template, values)
    try:
        proc = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=PR_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PullRequestError(f"PR command not found: {argv[0]}",
                               hint="install it or change merge.pr_command") from None
    except subprocess.TimeoutExpired:
        raise PullRequestError(f"PR command timed out after {PR_TIMEOUT:.0f}s: {' '.join(argv)}") from None
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise PullRequestError(f"PR command exited {proc.returncode}: {output[-500:]}")
    url = next((w for w in proc.stdout.split() if w.startswith(("http://", "https://"))), "")
    return url, output


def landed(repo: str, head: str, upstream: str) -> bool:
    """Has the PR whose head is ``head`` landed in ``upstream`` (merge, rebase or squash)?"""
    if not head or not upstream or not gitops.commit_exists(repo, head):
        return False
    if gitops.is_ancestor(repo, head, upstream):
        return True
    base = gitops.merge_base(repo, head, upstream)
    if base is None:
        return False
    if not gitops.cherry_unmerged(repo, upstream, head):
        return True
    changed = [p for p in gitops.run(["diff", "--name-only", "-z", base, head], cwd=repo).stdout.split("\0") if p]
    if not changed:
        return False
    return gitops.run(["diff", "--quiet", head, upstream, "--", *changed], cwd=repo, check=False).returncode == 0
