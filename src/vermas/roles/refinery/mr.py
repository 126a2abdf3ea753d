"""A merge request: a bead in the rig ledger (type ``merge-request``, label ``gt:merge-request``).

Its structured data lives in the description as Gas Town ``key: value`` lines
(``internal/beads/fields.go``): the MR fields first, a blank line, then any free text.
Keys are matched case-insensitively and with ``-`` or ``_`` (``source-issue`` = ``source_issue``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.ledger import timefmt

MR_TYPE = "merge-request"
MR_LABEL = "gt:merge-request"
PARKED_LABEL = "mq:parked"
PR_OPEN_LABEL = "mq:pr-open"
REWORK_LABEL = "rework"

# close_reason values Gas Town uses for merge requests.
MERGED, REJECTED, CONFLICT, SUPERSEDED = "merged", "rejected", "conflict", "superseded"

# Known fields in the order they are written (Gas Town's order, then ours).
FIELD_ORDER: tuple[str, ...] = (
    "branch", "target", "source_issue", "worker", "rig", "commit_sha", "merge_commit", "close_reason",
    "agent_bead", "retry_count", "last_conflict_sha", "conflict_task_id", "convoy_id", "convoy_created_at",
    "pre_verified", "pre_verified_at", "pre_verified_base",
    # VerMAS refinery additions
    "rejected_stage", "parked_stage", "parked_reason", "parked_at", "pr_url", "pr_head", "pr_opened_at",
    "bug_issue",
)  # fmt: skip
_ALIASES = {key.replace("_", ""): key for key in FIELD_ORDER}
_ALIASES["convoy"] = "convoy_id"


def canonical_key(key: str) -> str | None:
    """The known field name for a description key (``Source-Issue`` → ``source_issue``), else None."""
    compact = key.strip().lower().replace("-", "").replace("_", "")
    return _ALIASES.get(compact)


def parse_fields(description: str) -> dict[str, str]:
    """The MR fields of a description; values ``""`` and ``null`` count as absent."""
    fields: dict[str, str] = {}
    for line in (description or "").splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        name = canonical_key(key)
        value = value.strip()
        if name and value and value != "null" and name not in fields:
            fields[name] = value
    return fields


def format_fields(fields: dict[str, str]) -> str:
    """Known fields in Gas Town's order, then unknown ones sorted; empty values skipped."""
    lines = [f"{key}: {fields[key]}" for key in FIELD_ORDER if fields.get(key)]
    lines += [f"{key}: {value}" for key, value in sorted(fields.items()) if key not in FIELD_ORDER and value]
    return "\n".join(lines)


def set_fields(description: str, updates: dict[str, str | None]) -> str:
    """The description with MR fields updated (``None`` removes one); free text is kept after them."""
    fields = parse_fields(description)
    for key, value in updates.items():
        if value is None or value == "":
            fields.pop(key, None)
        else:
            fields[key] = str(value)
    other: list[str] = []
    for line in (description or "").splitlines():
        key, sep, _value = line.strip().partition(":")
        if sep and canonical_key(key):
            continue
        other.append(line)
    while other and not other[0].strip():
        other.pop(0)
    while other and not other[-1].strip():
        other.pop()
    head = format_fields(fields)
    if not other:
        return head
    return head + "\n\n" + "\n".join(other) if head else "\n".join(other)


@dataclass
class MergeRequest:
    """One merge-request bead, with its description fields parsed."""

    id: str
    title: str
    status: str
    priority: int
    created_at: str
    assignee: str
    labels: tuple[str, ...]
    description: str
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_bead(cls, issue: dict) -> MergeRequest:
        description = str(issue.get("description") or "")
        return cls(
            id=str(issue["id"]),
            title=str(issue.get("title") or ""),
            status=str(issue.get("status") or "open"),
            priority=int(issue.get("priority") or 0),
            created_at=str(issue.get("created_at") or ""),
            assignee=str(issue.get("assignee") or ""),
            labels=tuple(issue.get("labels") or ()),
            description=description,
            fields=parse_fields(description),
        )

    # description fields -----------------------------------------------------
    @property
    def branch(self) -> str:
        return self.fields.get("branch", "")

    @property
    def target(self) -> str:
        return self.fields.get("target", "")

    @property
    def source_issue(self) -> str:
        return self.fields.get("source_issue", "")

    @property
    def worker(self) -> str:
        """The submitting agent's address, e.g. ``gastown/polecats/toast``."""
        return self.fields.get("worker", "")

    @property
    def commit_sha(self) -> str:
        return self.fields.get("commit_sha", "")

    @property
    def retry_count(self) -> int:
        try:
            return int(self.fields.get("retry_count", "0"))
        except ValueError:
            return 0

    @property
    def polecat(self) -> str:
        """The worker's short name (``toast`` for ``gastown/polecats/toast``), else the whole address."""
        worker = self.worker.rstrip("/")
        return worker.rsplit("/", 1)[-1] if worker else ""

    # queue state ----------------------------------------------------------------
    @property
    def parked(self) -> bool:
        return PARKED_LABEL in self.labels

    @property
    def pr_open(self) -> bool:
        return PR_OPEN_LABEL in self.labels

    @property
    def created_ns(self) -> int:
        return timefmt.parse_ns(self.created_at) or 0

    def order_key(self) -> tuple[int, int, str]:
        """Queue order: priority first (0 = most urgent), then oldest first, then id (stable)."""
        return (self.priority, self.created_ns, self.id)

    def summary(self) -> dict:
        """A JSON-able view used by ``mq list``/``status`` and the journal."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "priority": self.priority,
            "created_at": self.created_at,
            "branch": self.branch,
            "target": self.target,
            "source_issue": self.source_issue,
            "worker": self.worker,
            "commit_sha": self.commit_sha,
            "retry_count": self.retry_count,
            "labels": list(self.labels),
            **{k: self.fields[k] for k in ("parked_stage", "parked_reason", "pr_url") if self.fields.get(k)},
        }
