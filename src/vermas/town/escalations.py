"""Escalations: problems an agent or engine cannot solve alone, tracked and routed.

An escalation is a bead in the town ledger (type task, labels ``gt:escalation`` and
``severity:<level>``, Gas Town's ``key: value`` description fields) so it is visible in the
ledger, survives crashes and closes like any bead. Routing (Gas Town's default routes):
``low`` → the bead only; ``medium`` and up → also ``ESCALATION`` mail to the mayor.
"""

from __future__ import annotations

from vermas.errors import NotFoundError, UsageError
from vermas.ledger import timefmt
from vermas.ledger.store import Ledger
from vermas.town import mail, protocol
from vermas.town.fields import format_fields, parse_fields, set_fields
from vermas.town.layout import Town

SEVERITIES = ("low", "medium", "high", "critical")
PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}
LABEL = "gt:escalation"
MAIL_FROM = "medium"  # this severity and above mail the mayor


def escalate(town_root: str, actor: str, summary: str, *, severity: str = "medium", body: str = "",
             source: str = "", related: str = "") -> dict:
    """Create the escalation bead and route it; returns the bead (with ``mailed`` recipients)."""
    severity = severity.lower()
    if severity not in SEVERITIES:
        raise UsageError(f"unknown severity {severity!r}", hint="use one of: " + ", ".join(SEVERITIES))
    if not summary.strip():
        raise UsageError("an escalation needs a message")
    now = timefmt.now_str()
    fields = {"severity": severity, "reason": summary.strip(), "source": source, "escalated_by": actor,
              "escalated_at": now, "related_bead": related}
    description = format_fields(fields) + (("\n\n" + body.strip()) if body.strip() else "")
    town = Town(town_root)
    with Ledger.open(town.beads_dir) as ledger, ledger.transaction(actor) as tx:
        bead = tx.create(f"[{severity.upper()}] {summary.strip()}"[:500], description=description,
                         issue_type="task", priority=PRIORITY[severity],
                         labels=[LABEL, f"severity:{severity}"])
        tx.emit("escalation.created", {"bead_id": bead["id"], "severity": severity, "source": source,
                                       "related_bead": related})
    mailed: list[str] = []
    if SEVERITIES.index(severity) >= SEVERITIES.index(MAIL_FROM):
        record = protocol.Escalation(summary=summary.strip(), severity=severity, source=source or actor,
                                     issue=related, agent=actor, reason=body.strip() or summary.strip())
        mail.send(town_root, actor, "mayor", record.subject(), record.body() + f"\nEscalation: {bead['id']}\n",
                  msg_type="escalation", priority=PRIORITY[severity])
        mailed.append("mayor")
    return {**bead, "mailed": mailed}


def list_escalations(town_root: str, *, include_closed: bool = False) -> list[dict]:
    from vermas.ledger import queries

    with Ledger.open(Town(town_root).beads_dir) as ledger:
        status = () if include_closed else ("open", "in_progress")
        issues = queries.list_issues(ledger.conn, labels=(LABEL,), status=status, order="priority")
    return [describe(issue) for issue in issues]


def describe(issue: dict) -> dict:
    fields, text = parse_fields(issue.get("description", ""))
    return {"id": issue["id"], "title": issue.get("title", ""), "status": issue.get("status", "open"),
            "severity": fields.get("severity", ""), "source": fields.get("source", ""),
            "escalated_by": fields.get("escalated_by", ""), "escalated_at": fields.get("escalated_at", ""),
            "related_bead": fields.get("related_bead", ""), "acked_by": fields.get("acked_by", ""),
            "details": text.strip()}


def get_escalation(ledger: Ledger, escalation_id: str) -> dict:
    issue = ledger.get(escalation_id)
    if LABEL not in (issue.get("labels") or []):
        raise NotFoundError(f"{issue['id']} is not an escalation")
    return issue


def acknowledge(town_root: str, actor: str, escalation_id: str) -> dict:
    with Ledger.open(Town(town_root).beads_dir) as ledger, ledger.transaction(actor) as tx:
        issue = get_escalation(ledger, escalation_id)
        text = set_fields(issue.get("description", ""), {"acked_by": actor, "acked_at": timefmt.now_str()})
        updated = tx.update(issue["id"], description=text, status="in_progress")
        tx.emit("escalation.acked", {"bead_id": issue["id"]})
    return describe(updated)


def close(town_root: str, actor: str, escalation_id: str, reason: str = "") -> dict:
    with Ledger.open(Town(town_root).beads_dir) as ledger, ledger.transaction(actor) as tx:
        issue = get_escalation(ledger, escalation_id)
        text = set_fields(issue.get("description", ""), {"closed_by": actor, "closed_reason": reason})
        tx.update(issue["id"], description=text)
        closed = tx.close(issue["id"], reason or "resolved")
        tx.emit("escalation.closed", {"bead_id": issue["id"], "reason": reason})
    return describe(closed)
