"""bd v0.43's Issue schema: field order, omitempty rules, enums and readiness constants.

``encoding/json`` writes struct fields in declaration order, so ``ISSUE_FIELDS`` *is* the
key order of every line bd writes (beads.md §1). Keys from later bd versions and keys we do
not know are kept; ``KEY_RANK`` places the known later keys where bd puts them.
"""

from __future__ import annotations

# The 55 fields of bd v0.43's Issue, in struct order.
ISSUE_FIELDS: tuple[str, ...] = (
    "id", "title", "description", "design", "acceptance_criteria", "notes", "status",
    "priority", "issue_type", "assignee", "estimated_minutes", "created_at", "created_by",
    "updated_at", "closed_at", "close_reason", "closed_by_session", "due_at", "defer_until",
    "external_ref", "compaction_level", "compacted_at", "compacted_at_commit", "original_size",
    "labels", "dependencies", "comments", "deleted_at", "deleted_by", "delete_reason",
    "original_type", "sender", "ephemeral", "pinned", "is_template", "bonded_from", "creator",
    "validations", "await_type", "await_id", "timeout", "waiters", "source_formula",
    "source_location", "hook_bead", "role_bead", "agent_state", "last_activity", "role_type",
    "rig", "mol_type", "event_kind", "actor", "target", "payload",
)  # fmt: skip

# Superset order: v0.43 plus keys added by later bd versions (v0.47.2 struct, v1.x export).
KEY_ORDER: tuple[str, ...] = (
    "_type", "id", "title", "description", "design", "acceptance_criteria", "notes",
    "spec_id", "status", "priority", "issue_type", "assignee", "owner", "estimated_minutes",
    "created_at", "created_by", "updated_at", "started_at", "closed_at", "close_reason",
    "closed_by_session", "due_at", "defer_until", "external_ref", "source_system",
    "compaction_level", "compacted_at", "compacted_at_commit", "original_size", "labels",
    "dependencies", "comments", "deleted_at", "deleted_by", "delete_reason", "original_type",
    "sender", "ephemeral", "pinned", "is_template", "bonded_from", "creator", "validations",
    "quality_score", "crystallizes", "await_type", "await_id", "timeout", "waiters", "holder",
    "source_formula", "source_location", "hook_bead", "role_bead", "agent_state",
    "last_activity", "role_type", "rig", "mol_type", "work_type", "event_kind", "actor",
    "target", "payload", "metadata", "no_history", "wisp_type", "dependency_count",
    "dependent_count", "comment_count",
)  # fmt: skip
KEY_RANK: dict[str, int] = {k: i for i, k in enumerate(KEY_ORDER)}

# Keys written even when empty/zero (no omitempty in bd's struct tags).
ALWAYS_WRITTEN = frozenset({"id", "title", "priority", "created_at", "updated_at"})
# Pointer fields: omitted only when nil, so "" / 0 are written (e.g. ``"external_ref":""``).
POINTER_FIELDS = frozenset({
    "estimated_minutes", "closed_at", "due_at", "defer_until", "external_ref", "compacted_at",
    "compacted_at_commit", "deleted_at", "creator", "last_activity",
})  # fmt: skip
TIME_FIELDS = frozenset({
    "created_at", "updated_at", "closed_at", "due_at", "defer_until", "compacted_at",
    "deleted_at", "last_activity",
})  # fmt: skip
INT_FIELDS = frozenset({"priority", "estimated_minutes", "compaction_level", "original_size", "timeout"})
BOOL_FIELDS = frozenset({"ephemeral", "pinned", "is_template"})
LIST_FIELDS = frozenset({"labels", "dependencies", "comments", "bonded_from", "validations", "waiters"})

DEPENDENCY_KEYS = ("issue_id", "depends_on_id", "type", "created_at", "created_by", "metadata", "thread_id")
COMMENT_KEYS = ("id", "issue_id", "author", "text", "created_at")

# Enums (types.go). Others are kept when read; the CLI refuses them unless told otherwise.
STATUSES = ("open", "in_progress", "blocked", "deferred", "closed", "tombstone", "pinned", "hooked")
ISSUE_TYPES = (
    "bug", "feature", "task", "epic", "chore", "message", "merge-request", "molecule", "gate",
    "agent", "role", "convoy", "event",
    # later bd / Gas Town / VerMAS types we create or meet in real data
    "rig", "slot", "test-spec", "verification-result",
)  # fmt: skip
DEPENDENCY_TYPES = (
    "blocks", "parent-child", "conditional-blocks", "waits-for", "related", "discovered-from",
    "replies-to", "relates-to", "duplicates", "supersedes", "authored-by", "assigned-to",
    "approved-by", "tracks", "until", "caused-by", "validates",
)  # fmt: skip
AFFECTS_READY = frozenset({"blocks", "parent-child", "conditional-blocks", "waits-for"})

# Readiness (ready.go / blocked_cache.go, v0.43).
READY_STATUSES = ("open", "in_progress")
READY_EXCLUDED_TYPES = ("merge-request", "gate", "molecule", "message", "agent")
BLOCKER_STATUSES = ("open", "in_progress", "blocked", "deferred", "hooked")
CONDITIONAL_BLOCKER_STATUSES = ("open", "in_progress", "blocked", "deferred")
BLOCKED_CANDIDATE_STATUSES = ("open", "in_progress", "blocked", "deferred", "hooked")
FAILURE_WORDS = (
    "failed", "rejected", "wontfix", "won't fix", "canceled", "cancelled", "abandoned",
    "blocked", "error", "timeout", "aborted",
)  # fmt: skip
PARENT_CHILD_MAX_DEPTH = 50

PRIORITY_MIN, PRIORITY_MAX, PRIORITY_DEFAULT = 0, 4, 2
TITLE_MAX = 500


def is_failure_reason(reason: str | None) -> bool:
    """bd's conditional-blocks rule: the close reason names a failure."""
    text = (reason or "").lower()
    return any(word in text for word in FAILURE_WORDS)


def is_empty(key: str, value: object) -> bool:
    """Would bd's omitempty drop this key/value?"""
    if key in ALWAYS_WRITTEN:
        return False
    if key in POINTER_FIELDS:
        return value is None
    return value is None or value == "" or value is False or value == 0 or value == [] or value == {}
