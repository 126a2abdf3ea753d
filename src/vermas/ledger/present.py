"""bd's ``--json`` shapes (not the JSONL shape): IssueWithCounts, IssueDetails, tree nodes.

* ``list``/``ready`` → ``IssueWithCounts``: the issue plus ``dependency_count`` and
  ``dependent_count``.
* ``show`` → an array of ``IssueDetails``: the issue's own fields, then ``labels``,
  ``dependencies`` and ``dependents`` (full issue objects with ``dependency_type``, without
  their own labels/dependencies/comments, as bd's JOIN returns them), ``comments`` and
  ``parent`` (the first parent-child target).
* ``blocked`` → ``BlockedIssue``: the issue plus ``blocked_by_count`` and ``blocked_by``
  (built by :func:`vermas.ledger.queries.blocked`).
"""

from __future__ import annotations

from vermas.ledger import index, queries

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from vermas.ledger.store import Ledger

_NESTED_DROP = ("labels", "dependencies", "comments")


def with_counts(conn: sqlite3.Connection, issues: list[dict]) -> list[dict]:
    """``IssueWithCounts`` for each issue (same order)."""
    counts = queries.dependency_counts(conn, [i["id"] for i in issues])
    out = []
    for issue in issues:
        deps, dependents = counts.get(issue["id"], (0, 0))
        out.append({**issue, "dependency_count": deps, "dependent_count": dependents})
    return out


def nested(issue: dict, dependency_type: str) -> dict:
    """A related issue inside ``show --json`` (``IssueWithDependencyMetadata``)."""
    body = {k: v for k, v in issue.items() if k not in _NESTED_DROP}
    body["dependency_type"] = dependency_type
    return body


def details(ledger: Ledger, issue: dict) -> dict:
    """``IssueDetails`` for one issue of ``ledger``."""
    conn = ledger.conn
    deps = [d for d in issue.get("dependencies") or () if isinstance(d, dict)]
    targets = [str(d.get("depends_on_id")) for d in deps]
    dependents = index.dependents(conn, issue["id"])
    related = ledger.get_many(sorted(set(targets) | {i for i, _t in dependents}))
    out = {k: v for k, v in issue.items() if k not in _NESTED_DROP}
    if issue.get("labels"):
        out["labels"] = list(issue["labels"])
    dep_objs = [nested(related[t], str(d.get("type") or "blocks"))
                for d, t in zip(deps, targets, strict=True) if t in related]
    if dep_objs:
        out["dependencies"] = dep_objs
    dependent_objs = [nested(related[i], t) for i, t in dependents if i in related]
    if dependent_objs:
        out["dependents"] = dependent_objs
    if issue.get("comments"):
        out["comments"] = list(issue["comments"])
    for dep in deps:
        if dep.get("type") == "parent-child":
            out["parent"] = dep.get("depends_on_id")
            break
    return out


def brief(issue: dict) -> dict:
    """The few fields a summary needs (used by trees and reports)."""
    return {
        "id": issue["id"],
        "title": issue.get("title", ""),
        "status": issue.get("status") or "open",
        "priority": issue.get("priority", 0),
        "issue_type": issue.get("issue_type") or "task",
    }
