"""What the refinery tells the town: protocol mail, hooks, bug beads and convoys.

* ``MERGED <polecat>`` → the polecat, the rig's witness (it cleans the polecat up) and the mayor.
* ``REWORK_REQUEST <polecat>`` → the polecat and the rig's witness; the source bead goes back
  on the polecat's hook (``status=hooked``, ``assignee=<address>``, the ``.hook-<agent>``
  file) with a ``rework`` label and a comment holding the failure context, so the polecat's
  prime shows it. A polecat that already holds other work (or no longer exists) cannot take
  it back: the bead is left open and unassigned for the mayor to re-sling, and the mayor is told.
* ``NEEDS_HUMAN <mr>`` → the mayor (a parked request waits for a human decision).
* A gate that fails on the target itself → a ``bug`` bead in the rig ledger (one per
  target and gate while open), and the mayor is told once.

Mail to an address that no longer exists (a polecat removed meanwhile) goes to the other
recipients and is logged, never dropped silently.
"""

from __future__ import annotations

import os

from vermas.errors import ConflictError, NotFoundError, VermasError
from vermas.ledger import queries, timefmt
from vermas.ledger.store import Ledger
from vermas.town import addresses, hookfile, mail, protocol
from vermas.town.identity import Agent, try_parse_address

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

BUG_LABEL = "refinery:target-failure"
REWORK_MARK = "[refinery] REWORK"


def _recipients(town_root: str, wanted: list[str], log: Callable[[str], None]) -> list[str]:
    """The addresses of ``wanted`` that exist in the town (unknown ones are logged)."""
    out: list[str] = []
    for address in wanted:
        if not address or address in out:
            continue
        try:
            addresses.resolve(town_root, address)
        except NotFoundError as exc:
            log(f"mail: skipping recipient {address}: {exc.message}")
            continue
        out.append(address)
    return out


def already_sent(town_root: str, kind: str, mr_id: str, recipient: str) -> bool:
    """Was a ``kind`` protocol message about ``mr_id`` already sent to ``recipient``? (recovery)"""
    agent = try_parse_address(recipient)
    for _message, record in mail.protocol_messages(town_root, kind, to=agent, unread_only=False):
        if getattr(record, "mr", "") == mr_id:
            return True
    return False


def send(town_root: str, sender: str, to: list[str], record: protocol.ProtocolMessage, *, mr_id: str,
         log: Callable[[str], None], dedupe: bool = False, priority: str = "normal") -> list[str]:
    """Send a protocol record to every existing recipient; returns the message ids."""
    targets = _recipients(town_root, to, log)
    if dedupe:
        targets = [t for t in targets if not already_sent(town_root, record.TYPE, mr_id, t)]
    if not targets:
        return []
    sent = mail.send(town_root, sender, targets, record.subject(), record.body(), priority=priority)
    return [m["id"] for m in sent]


def merged(town_root: str, sender: str, *, rig: str, mr: dict, target: str, merge_commit: str,
           log: Callable[[str], None], dedupe: bool = False, notes: str = "") -> list[str]:
    record = protocol.Merged(polecat=mr.get("polecat", ""), branch=mr.get("branch", ""), issue=mr.get("source", ""),
                             rig=rig, target=target, mr=mr["mr"], merged_at=timefmt.now_str(),
                             merge_commit=merge_commit)
    record.notes = notes
    return send(town_root, sender, [mr.get("worker", ""), f"{rig}/witness", "mayor"], record, mr_id=mr["mr"],
                log=log, dedupe=dedupe)


def rework(town_root: str, sender: str, *, rig: str, item: dict, target: str, log: Callable[[str], None],
           dedupe: bool = False, to_mayor: bool = False) -> list[str]:
    record = protocol.ReworkRequest(
        polecat=item.get("polecat", ""), branch=item.get("branch", ""), issue=item.get("source", ""), rig=rig,
        target=target, mr=item["mr"], requested_at=timefmt.now_str(),
        conflict_files=", ".join(item.get("files") or []), failed_criteria=item.get("failed_criteria", ""))
    record.extra = {k: v for k, v in (("Failure-Type", item.get("kind", "")), ("Failed-Gate", item.get("stage", "")),
                                      ("Evidence", item.get("evidence", ""))) if v}
    record.notes = rework_text(item, target)
    wanted = [item.get("worker", ""), f"{rig}/witness"] + (["mayor"] if to_mayor else [])
    return send(town_root, sender, wanted, record, mr_id=item["mr"], log=log, dedupe=dedupe, priority="high")


def parked(town_root: str, sender: str, *, rig: str, item: dict, log: Callable[[str], None],
           dedupe: bool = False) -> list[str]:
    record = protocol.Escalation(summary=f"NEEDS_HUMAN on merge request {item['mr']} ({item.get('stage', '')})",
                                 severity="medium", source=sender, issue=item.get("source", ""),
                                 agent=item.get("worker", ""), reason=item.get("summary", ""))
    record.extra = {"MR": item["mr"], "Stage": item.get("stage", ""), "Evidence": item.get("evidence", "")}
    record.notes = (f"The refinery parked {item['mr']}: stage {item.get('stage')} needs a human decision.\n"
                    f"Resolve it, then run: vermas mq retry {item['mr']} --rig {rig}\n"
                    f"or reject it: vermas mq reject {item['mr']} --rig {rig} --reason '…'")
    targets = _recipients(town_root, ["mayor"], log)
    if not targets or (dedupe and _escalation_sent(town_root, item["mr"])):
        return []
    return [m["id"] for m in mail.send(town_root, sender, targets, record.subject(), record.body(),
                                       msg_type="escalation", priority="high")]


def _escalation_sent(town_root: str, mr_id: str) -> list[str]:
    return [m["id"] for m, r in mail.protocol_messages(town_root, "ESCALATION", unread_only=False)
            if r.extra.get("MR") == mr_id]


def rework_text(item: dict, target: str) -> str:
    """The failure context a polecat needs, as free text (mail body and bead comment)."""
    lines = []
    if item.get("kind") == "conflict":
        files = item.get("files") or []
        lines.append(f"Your branch {item.get('branch')} conflicts with {target}"
                     + (f" in: {', '.join(files)}" if files else f": {item.get('summary', '')}"))
        lines.append(f"Rebase onto {target}, resolve the conflicts, commit, and run `vermas done` again.")
    elif item.get("kind") == "manual":
        lines.append(f"Your merge request {item['mr']} ({item.get('branch')}) was rejected by "
                     f"{item.get('rejected_by') or 'a human'}: {item.get('summary', '')}")
        lines.append("Address it on your branch, commit, and run `vermas done` again.")
    else:
        lines.append(f"Gate {item.get('stage')} failed on your branch {item.get('branch')} rebased onto {target}: "
                     f"{item.get('summary', '')}")
        if item.get("required_fixes"):
            lines.append("Required fixes:")
            lines.extend(f"- {fix}" for fix in item["required_fixes"])
        if item.get("evidence"):
            lines.append(f"Evidence: {item['evidence']}")
        if item.get("tail"):
            lines.append("Output (last lines):")
            lines.append("```")
            lines.append(str(item["tail"]).rstrip())
            lines.append("```")
        lines.append(f"Fix it on your branch (rebased onto {target}), commit, and run `vermas done` again.")
    return "\n".join(lines)


def rehook(town_root: str, ledger: Ledger, actor: str, item: dict, target: str) -> str:
    """Give the source bead back to its polecat with the failure context; returns what was done.

    ``"hooked"`` (back on the polecat's hook), ``"unassigned"`` (left open for re-sling) or
    ``"skipped"`` (no source bead, or it is closed). Idempotent: the context comment is
    added once per merge request.
    """
    source_id = item.get("source", "")
    issue = ledger.find(source_id) if source_id else None
    if issue is None or issue.get("status") in ("closed", "tombstone"):
        return "skipped"
    agent = try_parse_address(item.get("worker", ""))
    holder = agent if agent is not None and agent.role == "polecat" and _can_take(town_root, agent, source_id) \
        else None
    marker = f"{REWORK_MARK} {item['mr']}"
    context = f"{marker}: {item.get('summary', '')}\n\n{rework_text(item, target)}"
    from vermas.town import work

    with ledger.transaction(actor) as tx:
        if not any(str(c.get("text", "")).startswith(marker) for c in issue.get("comments") or ()):
            tx.add_comment(source_id, context)
        tx.add_label(source_id, "rework")
        if holder is not None:
            try:
                work.hook_in_tx(tx, source_id, holder, dispatched_by=actor,
                                extra_event={"rework": True, "mr_id": item["mr"]})
            except ConflictError:  # someone else took the bead meanwhile: leave it to them
                holder = None
        if holder is None and issue.get("status") in ("hooked", "in_progress") and \
                issue.get("assignee", "") in ("", item.get("worker", "")):
            tx.update(source_id, status="open", assignee=None)  # still the submitter's: free it for a re-sling
        tx.emit("refinery.rework", {"bead_id": source_id, "mr_id": item["mr"], "kind": item.get("kind"),
                                    "stage": item.get("stage"), "hooked_to": holder.address if holder else None})
    if holder is not None:
        work.write_hook_file(town_root, holder, source_id)
        return "hooked"
    return "unassigned"


def _can_take(town_root: str, agent: Agent, bead_id: str) -> bool:
    """The polecat still exists and its hook is free (or already holds this bead)."""
    if not os.path.isdir(agent.home(town_root)):
        return False
    current = hookfile.read(agent.hook_path(town_root))
    if current is None or current[1] == bead_id:
        return True
    other = None
    try:
        with Ledger.open(agent.beads_dir(town_root)) as ledger:
            other = ledger.find(current[1])
    except NotFoundError:
        return True
    return other is None or other.get("status") in ("closed", "tombstone")


def file_target_bug(rig_ledger: Ledger, actor: str, *, rig: str, target: str, target_sha: str, stage: str,
                    summary: str, evidence: str, tail: str) -> tuple[str, bool]:
    """A bug bead for a gate failing on the target itself; ``(id, created)`` (deduplicated while open)."""
    labels = (BUG_LABEL, f"gate:{stage}", f"target:{target}")
    existing = queries.list_issues(rig_ledger.conn, status=("open", "in_progress", "hooked", "blocked"),
                                   labels=labels)
    with rig_ledger.transaction(actor) as tx:
        if existing:
            bug = existing[0]
            if not any(target_sha in str(c.get("text", "")) for c in bug.get("comments") or ()):
                tx.add_comment(bug["id"], f"[refinery] still failing on {target} at {target_sha}: {summary}\n"
                                          f"Evidence: {evidence}")
            return bug["id"], False
        description = "\n".join([
            f"target: {target}", f"target_commit: {target_sha}", f"gate: {stage}", f"evidence: {evidence}", "",
            f"Gate `{stage}` fails on `{target}` itself (at {target_sha}), so the refinery no longer blames "
            f"merge requests for it and merges them anyway.", "", "Output (last lines):", "```",
            tail.rstrip(), "```",
        ])
        bug = tx.create(f"Gate '{stage}' fails on {target}", description=description, issue_type="bug",
                        priority=1, labels=[*labels, "gt:bug"])
        tx.emit("refinery.target_failure", {"bead_id": bug["id"], "rig": rig, "target": target, "stage": stage,
                                            "target_commit": target_sha})
    return bug["id"], True


def bug_filed(town_root: str, sender: str, *, rig: str, bug_id: str, stage: str, target: str,
              log: Callable[[str], None]) -> None:
    record = protocol.Escalation(summary=f"gate {stage} fails on {rig}/{target} ({bug_id})", severity="high",
                                 source=sender, issue=bug_id, reason=f"gate {stage} fails on the target itself")
    record.notes = ("Merge requests are no longer blamed for this failure and merge anyway; fix the target and "
                    f"close {bug_id}.")
    targets = _recipients(town_root, ["mayor"], log)
    if targets:
        mail.send(town_root, sender, targets, record.subject(), record.body(), msg_type="escalation",
                  priority="high")


def convoys_after_close(town_root: str, bead_id: str, actor: str, log: Callable[[str], None]) -> list[str]:
    """Land convoys tracking ``bead_id`` that are now complete."""
    from vermas.town import convoys

    try:
        return convoys.on_bead_closed(town_root, bead_id, actor=actor)
    except VermasError as exc:  # a convoy problem must not stall the merge queue; 'vermas convoy check' retries
        log(f"convoys: {exc.message}")
        return []
