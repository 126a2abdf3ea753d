"""Routing a verdict: PASS merges, FAIL goes back as rework, NEEDS_HUMAN goes to the mayor.

In the refinery (``refinery_stage``) the stage's status does most of it: the refinery merges
on PASS, and on FAIL closes the merge request ``rejected``, puts the bead back on its
polecat's hook with a ``[refinery] REWORK <mr>:`` comment (failed criteria, required fixes,
evidence) and the ``rework`` label, and mails ``REWORK_REQUEST``. This module adds:

* **re-sling with rework** (:func:`schedule_rework` → :func:`rework_after`): a detached
  ``vermas inspect rework <bead> --after <mr>`` waits until the refinery has sent the request
  back, then runs ``sling --rework`` (a fresh session of the polecat on its hook, so its
  prime shows the failure context — no human involved);
* **escalation** (:func:`escalate`): NEEDS_HUMAN opens an escalation bead routed to the
  mayor (one per bead and merge request), telling how to resolve it; the refinery parks the
  merge request meanwhile;
* **human resolution** (:func:`resolve`): ``vermas inspect resolve <bead> --verdict
  PASS|FAIL --reason …`` records the ruling as a ``verification-result`` bead and routes it
  like a verdict: PASS unparks the request (the stage then honours the ruling, the objective
  criteria still run); FAIL rejects it through the refinery's rework path and re-slings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from vermas.errors import ConflictError, NotFoundError, UsageError, VermasError
from vermas.ledger.store import Ledger
from vermas.verify import records, targets
from vermas.verify import settings as verify_settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from vermas.town.layout import Town
    from vermas.verify.pipeline import RunResult

ESCALATION_SOURCE = "inspector"
LOG_FILE = "inspect.log"


# ------------------------------------------------------------------ NEEDS_HUMAN
def escalate(town: Town, run: RunResult, *, actor: str) -> str | None:
    """An escalation to the mayor for a NEEDS_HUMAN verdict; returns its id (None when one is open already)."""
    from vermas.town import escalations

    bead, mr = run.target.bead_id, run.target.mr_id
    source = f"{ESCALATION_SOURCE}:{mr or run.target.commit[:12]}"
    for open_one in escalations.list_escalations(town.root):
        if open_one["related_bead"] == bead and open_one["source"] == source:
            return None
    verdict = run.verdict
    body = "\n".join([
        f"The Inspector could not decide {bead}" + (f" (merge request {mr}, parked)" if mr else "") + ":",
        f"  rule {verdict.rule}: {verdict.reasoning[:1500]}",
        f"Evidence: {run.evidence_dir}  (vermas inspect show {bead})",
        f"Decide, then: vermas inspect resolve {bead} --verdict PASS|FAIL --reason '…'",
    ])
    issue = escalations.escalate(town.root, actor, f"Inspector needs a human for {bead} ({verdict.rule})",
                                 severity="medium", body=body, source=source, related=bead)
    return issue["id"]


def close_escalations(town: Town, bead_id: str, *, actor: str, reason: str,
                      keep_source: str | None = None) -> list[str]:
    """Close the open Inspector escalations about ``bead_id`` (except ``keep_source``); returns their ids."""
    from vermas.town import escalations

    closed = []
    for row in escalations.list_escalations(town.root):
        if row["related_bead"] == bead_id and row["source"].startswith(ESCALATION_SOURCE + ":") and \
                row["source"] != keep_source:
            escalations.close(town.root, actor, row["id"], reason)
            closed.append(row["id"])
    return closed


# ------------------------------------------------------------------ FAIL → re-sling
def schedule_rework(town: Town, rig: str, bead_id: str, mr_id: str, *, actor: str,
                    environ: dict | None = None, timeout: float = 900.0) -> int | None:
    """Start the detached re-sling waiter (see the module docstring); returns its pid."""
    env = dict(os.environ if environ is None else environ)
    for var in ("VERMAS_SESSION", "TMUX", "TMUX_PANE", "BEAD_ID", "GT_POLECAT", "VERMAS_SPAWN_ID"):
        env.pop(var, None)
    env["VERMAS_TOWN"] = town.root
    log_dir = os.path.join(town.rig(rig).root, ".runtime")
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, LOG_FILE), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vermas.cli", "--actor", actor, "inspect", "rework", bead_id, "--after", mr_id,
             "--rig", rig, "--timeout", str(timeout)],
            cwd=town.root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    return proc.pid


def _mr_state(town: Town, rig: str, mr_id: str) -> tuple[str, str]:
    """``(status, close_reason)`` of a merge request ('' when gone)."""
    from vermas.roles.refinery.mr import parse_fields

    with Ledger.open(town.rig(rig).beads_dir) as ledger:
        issue = ledger.find(mr_id)
    if issue is None:
        return "", ""
    reason = str(issue.get("close_reason") or parse_fields(str(issue.get("description") or "")).get(
        "close_reason") or "")
    return str(issue.get("status") or "open"), reason


def rework_after(town: Town, rig: str, bead_id: str, mr_id: str, *, actor: str, environ: dict | None = None,
                 timeout: float = 900.0, poll: float = 0.25, log: Callable[[str], None] = lambda m: None) -> dict:
    """Wait until ``mr_id`` is closed; if it was rejected, re-sling ``bead_id`` with ``--rework``."""
    deadline = time.monotonic() + timeout
    while True:
        status, reason = _mr_state(town, rig, mr_id)
        if status == "closed" or status == "":
            break
        if time.monotonic() > deadline:
            log(f"{mr_id} still {status} after {timeout:.0f}s; not re-slinging {bead_id}")
            return {"bead": bead_id, "mr": mr_id, "action": "timeout", "status": status}
        time.sleep(poll)
    if reason not in ("rejected", "conflict"):
        log(f"{mr_id} closed ({reason or 'gone'}): nothing to rework")
        return {"bead": bead_id, "mr": mr_id, "action": "none", "close_reason": reason}
    limit = verify_settings.load(town, rig, environ).max_reworks
    failures = _failures(town, bead_id)
    if failures >= limit:
        _escalate_limit(town, bead_id, failures, actor=actor)
        log(f"{bead_id} failed verification {failures} times: not re-slung, escalated to the mayor")
        return {"bead": bead_id, "mr": mr_id, "action": "escalated", "failures": failures}
    return rework(town, rig, bead_id, actor=actor, environ=environ, log=log, mr_id=mr_id)


def _failures(town: Town, bead_id: str) -> int:
    with Ledger.open(targets.ledger_of(town, bead_id)) as ledger:
        return sum(1 for r in records.results_for(ledger, bead_id) if r["verdict"] == "FAIL" and not r["human"])


def _escalate_limit(town: Town, bead_id: str, failures: int, *, actor: str) -> None:
    from vermas.town import escalations

    source = f"{ESCALATION_SOURCE}:rework-limit"
    if any(e["related_bead"] == bead_id and e["source"] == source for e in escalations.list_escalations(town.root)):
        return
    escalations.escalate(town.root, actor, f"{bead_id} failed verification {failures} times", severity="medium",
                         body=f"The Inspector rejected {bead_id} {failures} times; it is not re-slung again.\n"
                              f"See: vermas inspect status {bead_id}; re-sling by hand with "
                              f"'vermas sling {bead_id} <rig> --rework', or fix the spec (vermas spec reopen).",
                         source=source, related=bead_id)


def rework(town: Town, rig: str, bead_id: str, *, actor: str, environ: dict | None = None,
           log: Callable[[str], None] = lambda m: None, mr_id: str = "", polecat: str | None = None) -> dict:
    """``sling --rework``: back to the polecat holding it (fresh session), or to a free polecat.

    Skipped when the polecat already runs the bead again (the witness respawns an idle polecat
    whose bead came back with the ``rework`` label; whoever is first wins, nobody restarts twice).
    """
    from vermas.town.sling import sling

    running = _already_running(town, rig, bead_id)
    if running:
        log(f"{bead_id}: {running} already works on it again; not re-slinging")
        return {"bead": bead_id, "mr": mr_id or None, "action": "already-running", "polecat": running}
    target = f"{rig}/polecats/{polecat}" if polecat else rig
    try:
        outcome = sling(town, [bead_id], target, actor=actor, environ=environ, rework=True, wait_ready=True)
    except VermasError as exc:
        log(f"re-sling of {bead_id} failed: {exc.message}")
        return {"bead": bead_id, "mr": mr_id or None, "action": "failed", "error": exc.message}
    row = outcome["results"][0] if outcome["results"] else {}
    log(f"{bead_id}: rework {row.get('status')} on {row.get('polecat')}")
    return {"bead": bead_id, "mr": mr_id or None, "action": row.get("status"), "polecat": row.get("polecat"),
            "session": row.get("session"), "error": row.get("error")}


def _already_running(town: Town, rig: str, bead_id: str) -> str | None:
    """The address of a polecat of ``rig`` that holds ``bead_id`` in a busy state, if any."""
    from vermas.town import polecats

    for state in polecats.all_states(town.rig(rig)):
        if state.get("bead") == bead_id and state.get("state") in polecats.BUSY_STATES:
            return str(state.get("address") or f"{rig}/polecats/{state.get('name')}")
    return None


# ------------------------------------------------------------------ human resolution
def resolve(town: Town, bead_ref: str, verdict: str, reason: str, *, actor: str, fixes: list[str] | None = None,
            default_beads_dir: str | None = None, environ: dict | None = None, resling: bool = True,
            log: Callable[[str], None] = lambda m: None) -> dict:
    """A human's ruling on a bead (see the module docstring); returns what was done."""
    verdict = verdict.upper()
    if verdict not in ("PASS", "FAIL"):
        raise UsageError(f"--verdict must be PASS or FAIL, got {verdict!r}")
    if not reason.strip():
        raise UsageError("--reason must say why", hint="the reason is recorded and sent with a FAIL")
    beads_dir = targets.ledger_of(town, bead_ref, default_beads_dir)
    with Ledger.open(beads_dir) as ledger:
        bead = ledger.get(bead_ref)
        bead_id = bead["id"]
        previous = records.latest(ledger, bead_id)
    open_mrs = [(issue, d) for issue, d in targets.merge_requests_for(town, bead_id, beads_dir)
                if issue.get("status") != "closed"]
    mr, mr_dir = open_mrs[-1] if open_mrs else (None, "")
    fields = targets.mr_fields(mr) if mr else {}
    rig = fields.get("rig") or targets.rig_of_beads_dir(town, mr_dir or beads_dir) or ""
    if mr is not None and mr.get("status") == "in_progress" and str(mr.get("assignee", "")).endswith("/refinery"):
        raise ConflictError(f"merge request {mr['id']} is being processed by the refinery right now",
                            hint="wait for the round to finish (vermas refinery status), then resolve")
    failed = (previous or {}).get("failed_criteria") or []
    record = {"verdict": verdict, "confidence": 1.0, "reasoning": f"resolved by {actor}: {reason.strip()}",
              "required_fixes": list(fixes or ([reason.strip()] if verdict == "FAIL" else [])),
              "failed_criteria": failed if verdict == "FAIL" else [],
              "criteria_passed": (previous or {}).get("criteria_passed"),
              "criteria_total": (previous or {}).get("criteria_total"), "rule": "human", "decided_by": "human"}
    with Ledger.open(beads_dir) as ledger:
        issue = records.create(ledger, actor, bead_id=bead_id, verdict=record, human=True, fields={
            "spec": (previous or {}).get("spec"), "mr": mr["id"] if mr else "", "commit": fields.get("commit_sha"),
            "resolves": (previous or {}).get("id"), "evidence": (previous or {}).get("evidence"),
            "reviewed_by": f"human={actor}"})
        with ledger.transaction(actor) as tx:
            tx.emit("verify.resolved", {"bead_id": bead_id, "verdict": verdict, "reason": reason.strip(),
                                        "by": actor, "result_bead": issue["id"], "mr_id": mr["id"] if mr else None,
                                        "resolves": (previous or {}).get("id")})
    out: dict = {"bead": bead_id, "verdict": verdict, "result_bead": issue["id"], "mr": mr["id"] if mr else None,
                 "escalations_closed": close_escalations(town, bead_id, actor=actor,
                                                         reason=f"resolved {verdict}: {reason.strip()}")}
    if mr is None:
        out["action"] = "recorded"
        return out
    if verdict == "PASS":
        out["action"] = _release(town, rig, mr, actor=actor, note=f"Inspector resolved PASS by {actor}: {reason}")
    else:
        out.update(_reject(town, rig, mr, record, actor=actor, environ=environ, resling=resling, log=log))
    return out


def _release(town: Town, rig: str, mr: dict, *, actor: str, note: str) -> str:
    from vermas.roles.refinery import daemon, queue
    from vermas.roles.refinery import mr as mrmod

    with Ledger.open(town.rig(rig).beads_dir) as ledger:
        item = mrmod.MergeRequest.from_bead(ledger.get(mr["id"]))
        if item.parked:
            queue.unpark(ledger, actor, item.id, note=note)
            action = "unparked"
        else:
            action = "queued"
    daemon.kick(town.root, rig)
    return action


def _reject(town: Town, rig: str, mr: dict, record: dict, *, actor: str, environ: dict | None, resling: bool,
            log: Callable[[str], None]) -> dict:
    """The refinery's rework path for a human FAIL: close the request, re-hook with context, mail, re-sling."""
    from vermas.roles.refinery import daemon, notify
    from vermas.roles.refinery import mr as mrmod
    from vermas.roles.refinery.outcomes import Outcomes
    from vermas.roles.refinery.settings import RefineryHome

    home = RefineryHome(town, rig)
    with Ledger.open(home.rig.beads_dir) as ledger:
        item = mrmod.MergeRequest.from_bead(ledger.get(mr["id"]))
        summary = "Inspector: FAIL (human ruling): " + record["reasoning"]
        entry = {"mr": item.id, "source": item.source_issue, "branch": item.branch, "commit": item.commit_sha,
                 "worker": item.worker, "polecat": item.polecat, "title": item.title, "kind": "gate",
                 "stage": "inspector", "summary": summary, "rejected_by": actor,
                 "required_fixes": record["required_fixes"],
                 "failed_criteria": ", ".join(record["failed_criteria"])}
        plan = {"target": item.target, "base": "", "tip": "", "rework": [entry]}
        outcomes = Outcomes(home, ledger, None, log)
        outcomes.close_rejected(entry, plan)
        source_ledger, _source = outcomes.open_source(item.source_issue)
        try:
            entry["hooked"] = notify.rehook(town.root, source_ledger, home.actor, entry, item.target) \
                if source_ledger is not None else "skipped"
        finally:
            outcomes.done_with(source_ledger)
        notify.rework(town.root, home.actor, rig=rig, item=entry, target=item.target, log=log,
                      to_mayor=entry["hooked"] == "unassigned")
    daemon.kick(town.root, rig)
    out = {"action": "rejected", "source": entry["hooked"]}
    if resling and entry["hooked"] in ("hooked", "unassigned"):
        out["rework"] = rework(town, rig, item.source_issue, actor=actor, environ=environ, log=log, mr_id=item.id)
    return out


def find_rig(town: Town, bead_id: str, beads_dir: str) -> str:
    rig = targets.rig_of_beads_dir(town, beads_dir)
    if rig is None:
        raise NotFoundError(f"{bead_id} is not in a rig's ledger", hint="pass --rig NAME")
    return rig
