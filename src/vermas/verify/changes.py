"""The change under test (diff, files, commits) and the integrity check.

**Integrity rule.** A change must not edit its own verification: when a criterion's command
names a file that existed at the base and that the change modifies or deletes (e.g. the
criterion runs ``sh checks/ac2.sh`` and the change rewrites ``checks/ac2.sh``), the
criterion's result cannot be trusted and the verdict cannot be PASS without a human. New
files the change adds (the deliverables) are not affected.
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
