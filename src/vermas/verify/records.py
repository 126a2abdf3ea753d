"""``verification-result`` beads: one per verification run (and per human resolution).

In the work bead's ledger, id ``<prefix>-vr-<hash>`` (routed like the work bead), type
``verification-result``, created closed (a record, never work), a ``validates`` dependency
on the work bead, labels ``gt:verification`` and ``verdict:<pass|fail|needs-human>``
(``resolution:human`` for a human's ruling; ``human:correct``/``human:incorrect`` once
labelled for accuracy). Title ``Verification of <bead>: <VERDICT> (<confidence>)``;
description = ``key: value`` fields, a blank line, the reasoning and required fixes::

    bead: ca-x7k
    spec: ca-spec-x7k
    merge_request: ca-q2c
    commit: 4f3c…
    base: 9a1b…
    verdict: FAIL
    confidence: 0.9
    criteria_passed: 7
    criteria_total: 8
    failed_criteria: AC-2
    rule: objective
    decided_by: rules
    reviewed_by: verifier=vermas auditor=- advocate=sim critic=sim judge=sim
    run_id: 20260101T100000.123Z-4f3c2a1b
    evidence: /town/app/.beads/evidence/ca-x7k/runs/…
    duration_ms: 812
"""

from __future__ import annotations

from vermas.ledger import index, timefmt
from vermas.town.fields import format_fields, parse_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger

RESULT_TYPE = "verification-result"
RESULT_LABEL = "gt:verification"
HUMAN_LABEL = "resolution:human"
LABEL_CORRECT, LABEL_INCORRECT = "human:correct", "human:incorrect"
LINK = "validates"


def verdict_label(verdict: str) -> str:
    return "verdict:" + verdict.lower().replace("_", "-")


def create(ledger: Ledger, actor: str, *, bead_id: str, verdict: dict, fields: dict, human: bool = False,
           correlation_id: str | None = None) -> dict:
    """Record a verdict as a closed ``verification-result`` bead; returns it."""
    text = format_fields({
        "bead": bead_id, "spec": fields.get("spec"), "merge_request": fields.get("mr"),
        "commit": fields.get("commit"), "base": fields.get("base"), "verdict": verdict["verdict"],
        "confidence": verdict.get("confidence"), "criteria_passed": verdict.get("criteria_passed"),
        "criteria_total": verdict.get("criteria_total"),
        "failed_criteria": ", ".join(verdict.get("failed_criteria") or []), "rule": verdict.get("rule"),
        "decided_by": verdict.get("decided_by"), "reviewed_by": fields.get("reviewed_by"),
        "resolves": fields.get("resolves"), "run_id": fields.get("run_id"), "evidence": fields.get("evidence"),
        "duration_ms": fields.get("duration_ms")})
    fixes = verdict.get("required_fixes") or []
    body = f"Reasoning: {verdict.get('reasoning') or '-'}"
    if fixes:
        body += "\n\nRequired fixes:\n" + "\n".join(f"- {f}" for f in fixes)
    title = f"Verification of {bead_id}: {verdict['verdict']} ({float(verdict.get('confidence') or 0):.2f})"
    labels = [RESULT_LABEL, verdict_label(verdict["verdict"])] + ([HUMAN_LABEL] if human else [])
    with ledger.transaction(actor, correlation_id=correlation_id) as tx:
        issue = tx.create(title, description=f"{text}\n\n{body}", issue_type=RESULT_TYPE, priority=3,
                          labels=labels, deps=[(LINK, bead_id)], id_prefix=f"{ledger.prefix}-vr")
        return tx.close(issue["id"], verdict["verdict"])


def describe(issue: dict) -> dict:
    fields, rest = parse_fields(str(issue.get("description") or ""))
    labels = issue.get("labels") or []
    fixes = [line[2:] for line in rest.splitlines() if line.startswith("- ")]
    reasoning = rest.split("\n\n", 1)[0].removeprefix("Reasoning: ")
    try:
        confidence = float(fields.get("confidence") or 0)
    except ValueError:
        confidence = 0.0
    label = "correct" if LABEL_CORRECT in labels else "incorrect" if LABEL_INCORRECT in labels else None
    return {"id": issue["id"], "bead": fields.get("bead", ""), "verdict": fields.get("verdict", ""),
            "confidence": confidence, "spec": fields.get("spec") or None, "mr": fields.get("merge_request") or None,
            "commit": fields.get("commit") or None, "base": fields.get("base") or None,
            "criteria_passed": _int(fields.get("criteria_passed")),
            "criteria_total": _int(fields.get("criteria_total")),
            "failed_criteria": [x.strip() for x in fields.get("failed_criteria", "").split(",") if x.strip()],
            "rule": fields.get("rule", ""), "decided_by": fields.get("decided_by", ""),
            "reviewed_by": fields.get("reviewed_by", ""), "run_id": fields.get("run_id") or None,
            "evidence": fields.get("evidence") or None, "duration_ms": _int(fields.get("duration_ms")),
            "resolves": fields.get("resolves") or None, "human": HUMAN_LABEL in labels, "label": label,
            "reasoning": reasoning, "required_fixes": fixes, "created_at": issue.get("created_at", ""),
            "created_by": issue.get("created_by", "")}


def _int(text: str | None) -> int | None:
    try:
        return int(str(text)) if text not in (None, "") else None
    except ValueError:
        return None


def results_for(ledger: Ledger, bead_id: str) -> list[dict]:
    """Every verification-result bead of ``bead_id``, oldest first (described)."""
    ids = [i for i, _t in index.dependents(ledger.conn, bead_id, LINK)]
    issues = ledger.get_many(ids)
    found = [i for i in issues.values() if i.get("issue_type") == RESULT_TYPE and i.get("status") != "tombstone"]
    found.sort(key=lambda i: (timefmt.parse_ns(i.get("created_at")) or 0, i["id"]))
    return [describe(i) for i in found]


def latest(ledger: Ledger, bead_id: str, *, human: bool | None = None) -> dict | None:
    rows = [r for r in results_for(ledger, bead_id) if human is None or r["human"] == human]
    return rows[-1] if rows else None


def human_resolution(ledger: Ledger, bead_id: str, mr_id: str) -> dict | None:
    """The newest human ruling on ``bead_id`` about merge request ``mr_id`` (a new submission needs a new one)."""
    for row in reversed(results_for(ledger, bead_id)):
        if row["human"] and (row["mr"] or "") == (mr_id or ""):
            return row
    return None


def set_label(ledger: Ledger, actor: str, result_id: str, correct: bool, note: str = "") -> dict:
    """Label a verdict correct or incorrect (for ``vermas eval verify-accuracy``)."""
    add, drop = (LABEL_CORRECT, LABEL_INCORRECT) if correct else (LABEL_INCORRECT, LABEL_CORRECT)
    with ledger.transaction(actor) as tx:
        issue = ledger.get(result_id)
        if drop in (issue.get("labels") or []):
            tx.remove_label(result_id, drop)
        tx.add_label(result_id, add)
        tx.add_comment(result_id, f"[inspect] labelled {'correct' if correct else 'incorrect'} by {actor}"
                       + (f": {note}" if note else ""))
        tx.emit("verify.labeled", {"result_id": result_id, "bead_id": describe(issue)["bead"],
                                   "verdict": describe(issue)["verdict"], "label": add.split(":", 1)[1],
                                   "by": actor, "note": note})
        return ledger.get(result_id)
