"""Shared pieces of the ledger commands: value checks (exit 2) and text rendering."""

from __future__ import annotations

import argparse

from vermas.errors import UsageError
from vermas.ledger import schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from vermas.ledger.store import Ledger

STATUS_ICONS = {"open": "○", "in_progress": "◐", "blocked": "●", "deferred": "❄", "closed": "✓",
                "tombstone": "✗", "pinned": "📌", "hooked": "⚓"}


# ----------------------------------------------------------------- values
def priority(text: str) -> int:
    """argparse type: ``0``-``4`` or ``P0``-``P4`` (bd's spelling)."""
    raw = text.strip()
    body = raw[1:] if raw[:1] in "pP" else raw
    if body.isdigit() and schema.PRIORITY_MIN <= int(body) <= schema.PRIORITY_MAX:
        return int(body)
    raise argparse.ArgumentTypeError(f"invalid priority {text!r}: use 0-4 or P0-P4 (0 = critical, 4 = backlog)")


def csv(values: Iterable[str] | None) -> list[str]:
    """Flatten repeatable, comma-separated option values (``-l a,b -l c`` → ``[a, b, c]``)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def allowed_statuses(ledger: Ledger) -> tuple[str, ...]:
    from vermas.ledger import config

    return schema.STATUSES + config.custom_statuses(ledger.dir)


def allowed_types(ledger: Ledger) -> tuple[str, ...]:
    from vermas.ledger import config

    return schema.ISSUE_TYPES + config.custom_types(ledger.dir)


def check_status(ledger: Ledger, status: str, *, flag: str = "--status") -> str:
    allowed = allowed_statuses(ledger)
    if status not in allowed:
        raise UsageError(
            f"invalid {flag} value {status!r}: expected one of {', '.join(allowed)}",
            hint=f"custom statuses must be listed under 'status.custom' in {ledger.dir}/config.yaml",
        )
    return status


def check_type(ledger: Ledger, issue_type: str, *, flag: str = "--type") -> str:
    allowed = allowed_types(ledger)
    if issue_type not in allowed:
        raise UsageError(
            f"invalid {flag} value {issue_type!r}: expected one of {', '.join(allowed)}",
            hint=f"custom types must be listed under 'types.custom' in {ledger.dir}/config.yaml",
        )
    return issue_type


def check_dep_type(dep_type: str) -> str:
    if dep_type not in schema.DEPENDENCY_TYPES:
        raise UsageError(f"invalid dependency type {dep_type!r}: expected one of {', '.join(schema.DEPENDENCY_TYPES)}")
    return dep_type


def parse_dep_spec(spec: str) -> tuple[str, str]:
    """``type:id`` or a bare id (= ``blocks``), as ``bd create --deps``; ``external:…`` kept whole."""
    spec = spec.strip()
    if spec.startswith("external:"):
        return "blocks", spec
    kind, sep, target = spec.partition(":")
    if not sep:
        return "blocks", spec
    if not kind or not target:
        raise UsageError(f"invalid dependency {spec!r}: use TYPE:ID or ID (e.g. blocks:bd-a3f)")
    return check_dep_type(kind), target


# ------------------------------------------------------------------- text
def one_line(text: str) -> str:
    return " ".join(str(text).split())


def issue_line(issue: dict) -> str:
    """``bd-a3f [P1] [bug] open - Title (@alice)``"""
    status = issue.get("status") or "open"
    line = (f"{issue['id']} [P{issue.get('priority', 0)}] [{issue.get('issue_type') or 'task'}] "
            f"{status} - {one_line(issue.get('title', ''))}")
    if issue.get("assignee"):
        line += f" (@{issue['assignee']})"
    return line


def show_text(details: dict) -> list[str]:
    """The human rendering of one ``IssueDetails``."""
    status = details.get("status") or "open"
    icon = STATUS_ICONS.get(status, "?")
    out = [f"{icon} {details['id']} · {details.get('title', '')}   [P{details.get('priority', 0)} · {status.upper()}]"]
    meta = [f"Type: {details.get('issue_type') or 'task'}"]
    for key, label in (("assignee", "Assignee"), ("created_by", "Created by")):
        if details.get(key):
            meta.append(f"{label}: {details[key]}")
    out.append("  " + " · ".join(meta))
    times = [f"Created: {details.get('created_at', '')}", f"Updated: {details.get('updated_at', '')}"]
    if details.get("closed_at"):
        times.append(f"Closed: {details['closed_at']}")
    out.append("  " + " · ".join(times))
    for key, label in (("close_reason", "Close reason"), ("defer_until", "Deferred until"), ("due_at", "Due"),
                       ("external_ref", "External ref"), ("deleted_by", "Deleted by"),
                       ("delete_reason", "Delete reason"), ("parent", "Parent")):
        if details.get(key):
            out.append(f"  {label}: {details[key]}")
    for key, label in (("description", "DESCRIPTION"), ("design", "DESIGN"), ("notes", "NOTES"),
                       ("acceptance_criteria", "ACCEPTANCE CRITERIA")):
        if details.get(key):
            out += ["", label, *[f"  {line}" for line in str(details[key]).split("\n")]]
    if details.get("labels"):
        out += ["", "LABELS: " + ", ".join(details["labels"])]
    groups = (("dependencies", "DEPENDS ON", "→"), ("dependents", "DEPENDENTS", "←"))
    for key, label, arrow in groups:
        if details.get(key):
            out += ["", label]
            for other in details[key]:
                out.append(f"  {arrow} {other['id']} ({other['dependency_type']}): {one_line(other.get('title', ''))} "
                           f"[P{other.get('priority', 0)} · {(other.get('status') or 'open').upper()}]")
    missing = details.get("_missing_deps")
    if missing:
        out += ["", "DEPENDS ON (not in this ledger)"]
        out += [f"  → {target} ({kind})" for kind, target in missing]
    if details.get("comments"):
        out += ["", "COMMENTS"]
        for comment in details["comments"]:
            out.append(f"  {comment.get('created_at', '')} {comment.get('author', '')}")
            out += [f"    {line}" for line in str(comment.get("text", "")).split("\n")]
    return out
