"""The change under test (diff, files, commits), the integrity check and the safety scan.

**Integrity rule.** A change must not edit its own verification: when a criterion's command
names a file that existed at the base and that the change modifies or deletes (e.g. the
criterion runs ``sh checks/ac2.sh`` and the change rewrites ``checks/ac2.sh``), the
criterion's result cannot be trusted and the verdict cannot be PASS without a human. New
files the change adds (the deliverables) are not affected.

**Safety scan.** Lines the change adds are searched for what no task should slip in quietly:
pushing or moving git refs, recursive deletion of ``/``, ``~`` or ``..``, download-and-execute,
raw network shells, credential files and tokens. A hit cannot PASS without a human (the
panel sees the hits too). It is a tripwire, not a sandbox: the verifier's isolation (a
throw-away checkout without remotes or credentials) is what keeps criteria from reaching out.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from vermas import gitops

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.verify.criteria import Criterion

MAX_DIFF = 60_000
_SPLIT = re.compile(r"[;&|<>()`$\s]+")
_Q = r"['\"]"
SUSPICIOUS = [
    ("git-push", re.compile(r"\bgit\s+(?:-C\s+\S+\s+)?(?:push|update-ref|remote\s+(?:add|set-url))\b"
                            rf"|{_Q}git{_Q}\s*,\s*(?:{_Q}-C{_Q}\s*,\s*[^,]+,\s*)?{_Q}(?:push|update-ref|remote){_Q}")),
    ("recursive-delete", re.compile(r"\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+(?:-\S+\s+)*(?:/|~|\$HOME|\.\.)(?:\s|/|$|\*)"
                                    rf"|rmtree\(\s*{_Q}(?:/|~|\.\.)")),
    ("download-execute", re.compile(r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b")),
    ("network-shell", re.compile(r"/dev/(?:tcp|udp)/|\bnc\s+(?:-\S+\s+)*-e\b")),
    ("credentials", re.compile(r"\.ssh/|\bid_(?:rsa|ed25519)\b|\.git-credentials|\.netrc\b"
                               r"|\b(?:GITHUB_TOKEN|GH_TOKEN|AWS_SECRET_ACCESS_KEY|ANTHROPIC_API_KEY)\b")),
]


@dataclass
class Changes:
    base: str
    commit: str
    files: list[dict] = field(default_factory=list)  # {"status": "A|M|D|R…", "path", "old_path"?}
    commits: list[dict] = field(default_factory=list)  # {"sha", "subject"}
    stat: str = ""
    diff: str = ""
    diff_bytes: int = 0
    truncated: bool = False

    def to_dict(self, *, with_diff: bool = True) -> dict:
        out = {"base": self.base, "commit": self.commit, "files": self.files, "commits": self.commits,
               "stat": self.stat, "diff_bytes": self.diff_bytes, "truncated": self.truncated}
        if with_diff:
            out["diff"] = self.diff
        return out


def collect(repo: str, base: str, commit: str, *, max_diff: int = MAX_DIFF) -> Changes:
    """What ``commit`` changes relative to ``base`` (read-only git commands on the rig's repository)."""
    changes = Changes(base=base, commit=commit)
    if not base or base == commit:
        return changes
    status = gitops.run(["diff", "--name-status", "-M", "--no-color", base, commit], cwd=repo).stdout
    for line in status.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        entry = {"status": parts[0][:1], "path": parts[-1]}
        if len(parts) == 3:
            entry["old_path"] = parts[1]
        changes.files.append(entry)
    changes.commits = [{"sha": sha, "subject": subject}
                       for sha, subject in gitops.log_subjects(repo, f"{base}..{commit}")]
    changes.stat = gitops.run(["diff", "--stat", "--no-color", base, commit], cwd=repo).stdout[-4000:]
    diff = gitops.run(["diff", "--no-color", "-M", base, commit], cwd=repo).stdout
    changes.diff_bytes = len(diff.encode("utf-8"))
    if len(diff) > max_diff:
        changes.diff, changes.truncated = diff[:max_diff] + f"\n… diff truncated ({changes.diff_bytes} bytes)\n", True
    else:
        changes.diff = diff
    return changes


def suspicious(changes: Changes) -> list[dict]:
    """``[{kind, path, line}]`` for added lines matching :data:`SUSPICIOUS` (the safety scan)."""
    found: list[dict] = []
    path = ""
    for line in changes.diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else line[4:]
            continue
        if not line.startswith("+"):
            continue
        for kind, pattern in SUSPICIOUS:
            if pattern.search(line):
                found.append({"kind": kind, "path": path, "line": line[1:].strip()[:200]})
                break
    return found


def touched_existing(changes: Changes) -> set[str]:
    """Paths that existed at the base and the change modifies, deletes or renames away."""
    out: set[str] = set()
    for entry in changes.files:
        if entry["status"] in ("M", "D", "T"):
            out.add(entry["path"])
        elif entry["status"] == "R" and entry.get("old_path"):
            out.add(entry["old_path"])
    return out


def command_paths(command: str) -> set[str]:
    """Words of a shell command that could name files (``./x`` normalised to ``x``)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        words = command.split()
    out: set[str] = set()
    for word in words:
        for piece in _SPLIT.split(word):
            piece = piece.strip("'\"")
            while piece.startswith("./"):
                piece = piece[2:]
            if piece:
                out.add(piece)
    return out


def self_checks(criteria: list[Criterion], changes: Changes) -> list[dict]:
    """``[{criterion_id, path, status}]``: criteria whose command names a pre-existing file the change edits."""
    touched = touched_existing(changes)
    if not touched:
        return []
    status = {e["path"]: e["status"] for e in changes.files}
    status.update({e["old_path"]: e["status"] for e in changes.files if e.get("old_path")})
    found = []
    for c in criteria:
        for path in sorted(command_paths(c.verify_command) & touched):
            found.append({"criterion_id": c.id, "path": path, "status": status.get(path, "M")})
    return found
