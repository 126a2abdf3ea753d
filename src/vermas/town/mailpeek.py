"""Unread mail of one agent, read straight from the town JSONL (hook path: stdlib only).

Used by ``vermas prime`` and ``vermas mail check``; the full mail API is :mod:`vermas.town.mail`.
"""

from __future__ import annotations

import os

from vermas.town import fastread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.identity import Agent

_PRIORITY_NAMES = {0: "urgent", 1: "high", 2: "normal", 3: "low", 4: "low"}


def _variants(agent: Agent) -> list[str]:
    variants = [agent.mail_identity, agent.address]
    if agent.role in ("mayor", "deacon"):
        variants.append(agent.role)
    return list(dict.fromkeys(variants))


def unread(town_root: str, agent: Agent) -> list[dict]:
    """Open (unread, not archived) messages for ``agent``: urgent first, then oldest first."""
    beads_dir = os.path.join(town_root, ".beads")
    found: dict[str, dict] = {}
    for identity in _variants(agent):
        for issue in fastread.issues_containing(beads_dir, fastread.json_field("assignee", identity),
                                                '"issue_type":"message"', '"status":"open"'):
            if issue.get("assignee") == identity and issue.get("status") == "open":
                found[issue["id"]] = issue
    messages = []
    for issue in found.values():
        labels = issue.get("labels") or []
        if "archived" in labels:
            continue
        sender = next((lab[5:] for lab in labels if lab.startswith("from:")), issue.get("created_by", ""))
        messages.append({
            "id": issue["id"],
            "from": sender,
            "subject": issue.get("title", ""),
            "body": issue.get("description", ""),
            "priority": _PRIORITY_NAMES.get(issue.get("priority", 2), "normal"),
            "priority_level": issue.get("priority", 2),
            "timestamp": issue.get("created_at", ""),
        })
    messages.sort(key=lambda m: (m["priority_level"], m["timestamp"], m["id"]))
    return messages


def summary(messages: list[dict], *, limit: int = 10) -> str:
    """Human summary: one line per message (``- [urgent] hq-x1 from mayor: Subject``)."""
    if not messages:
        return ""
    lines = [f"You have {len(messages)} unread message{'s' if len(messages) != 1 else ''}:"]
    for m in messages[:limit]:
        tag = f"[{m['priority']}] " if m["priority"] != "normal" else ""
        lines.append(f"- {tag}{m['id']} from {m['from']}: {m['subject']}")
    if len(messages) > limit:
        lines.append(f"- … and {len(messages) - limit} more ('vermas mail inbox --unread')")
    lines.append("Read one with 'vermas mail read <id>'.")
    return "\n".join(lines)
