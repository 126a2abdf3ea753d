"""The witness's inbox: lifecycle mail, judged against the polecat's *current* incarnation.

* ``POLECAT_DONE <name>`` — first the stale-message rule: the message carries the sender's
  ``Spawn-Id``/``Incarnation``/``Session`` (written by ``vermas done``); a message from an
  earlier incarnation (or, without those fields, about a job other than the polecat's
  current or last one) **never touches the current one**: it is marked read, logged and
  recorded as a ``witness.stale_message`` event, nothing else. A current one: for a
  completed job whose merge request is still open, ``MERGE_READY <polecat>`` goes to
  ``<rig>/refinery`` and the refinery is woken (SIGUSR1); for an escalated/deferred job
  (no merge coming) ``SLOT_OPEN`` goes to the mayor. Either way the polecat's session is
  marked for reaping (the rules reap it once the polecat is idle and holds no work).
* ``MERGED`` and ``REWORK_REQUEST`` — read: the ledger already holds what they announce
  (the merge request closed; the bead back on the hook), and the rules act on the ledger.
* ``HELP: …`` — escalated to the mayor (an escalation bead, mailed from medium up).

Messages are marked read only after they were handled, so a witness killed mid-patrol
handles them again (a duplicate ``MERGE_READY`` is only a second wake-up).
"""

from __future__ import annotations

from vermas.errors import VermasError
from vermas.ledger.store import Ledger
from vermas.roles.witness.memory import Memory
from vermas.roles.witness.observe import PolecatView, Snapshot
from vermas.town import mail, protocol, work
from vermas.town.identity import Agent
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

OPEN_MR = ("open", "in_progress", "hooked", "blocked")


def field(record: protocol.ProtocolMessage, name: str) -> str:
    """An extra ``Key: value`` of a record, case-insensitively (``Spawn-Id``, ``spawn_id``…)."""
    wanted = name.lower().replace("_", "-")
    for key, value in record.extra.items():
        if key.lower().replace("_", "-") == wanted:
            return str(value).strip()
    return ""


def judge_done(record: protocol.PolecatDone, view: PolecatView | None, rig: str) -> tuple[bool, str]:
    """``(current, why)``: does this ``POLECAT_DONE`` speak for the polecat's current incarnation?"""
    name = record.polecat
    if view is None:
        return False, f"rig {rig} has no polecat {name!r}"
    spawn = field(record, "Spawn-Id")
    incarnation = field(record, "Incarnation")
    session = field(record, "Session")
    now_spawn = view.spawn_id
    now_incarnation = view.state.get("incarnation")
    if session and session != view.agent.session:
        return False, f"sent from session {session}, not {name}'s session {view.agent.session}"
    if spawn:
        if spawn != now_spawn:
            return False, (f"sent by incarnation {incarnation or '?'} (spawn {spawn}); {name} is now incarnation "
                           f"{now_incarnation} (spawn {now_spawn})")
        return True, f"incarnation {now_incarnation} (spawn {now_spawn})"
    if incarnation:
        if str(incarnation) != str(now_incarnation):
            return False, f"sent by incarnation {incarnation}; {name} is now incarnation {now_incarnation}"
        return True, f"incarnation {now_incarnation}"
    # An older sender without incarnation fields: judge by the job it names.
    current_bead = view.state.get("bead") if view.busy else None
    if current_bead and current_bead != record.issue:
        return False, f"about {record.issue}, but {name} now works on {current_bead}"
    last_bead = (view.state.get("last") or {}).get("bead")
    if not view.busy and last_bead and record.issue and last_bead != record.issue:
        return False, f"about {record.issue}, but {name}'s last job was {last_bead}"
    return True, "no incarnation fields; the job matches"


def process(town: Town, rig: str, snap: Snapshot, memory: Memory, *, actor: str, log: Callable[[str], None],
            kick: Callable[[], bool]) -> dict:
    """Handle the witness's unread lifecycle mail; returns what was done."""
    me = Agent("witness", rig)
    out: dict = {"merge_ready": [], "slot_open": [], "stale": [], "read": [], "escalated": []}
    with mail.town_ledger(town.root) as ledger:
        batches = {kind: mail.protocol_messages(town.root, kind, to=me, ledger=ledger)
                   for kind in ("POLECAT_DONE", "MERGED", "REWORK_REQUEST", "HELP")}
    if not any(batches.values()):
        return out
    wake = False
    for message, record in batches["POLECAT_DONE"]:
        assert isinstance(record, protocol.PolecatDone)
        view = snap.get(record.polecat)
        current, why = judge_done(record, view, rig)
        if not current:
            log(f"ignoring stale POLECAT_DONE {message['id']} for {record.polecat}: {why}")
            work.emit(town.rig(rig).beads_dir, "witness.stale_message", actor, {
                "message_id": message["id"], "type": "POLECAT_DONE", "polecat": record.polecat,
                "issue": record.issue, "message_spawn_id": field(record, "Spawn-Id") or None,
                "message_incarnation": field(record, "Incarnation") or None,
                "current_spawn_id": view.spawn_id if view else None, "reason": why})
            memory.count("stale_messages")
            out["stale"].append(message["id"])
            out["read"].append(message["id"])
            continue
        assert view is not None
        entry = memory.polecat(view.name, view.spawn_id)
        entry["done_message"] = message["id"]  # the rules reap this incarnation's session once it is idle
        if (record.exit or "COMPLETED").upper() == "COMPLETED":
            if record.mr and _mr_open(town, rig, record.mr):
                ready = protocol.MergeReady(polecat=record.polecat, branch=record.branch, issue=record.issue,
                                            rig=rig, mr=record.mr, verified="")
                sent = mail.send_protocol(town.root, actor, f"{rig}/refinery", ready)
                wake = True
                memory.count("merge_ready")
                out["merge_ready"].append(record.mr)
                work.emit(town.rig(rig).beads_dir, "witness.merge_ready", actor, {
                    "polecat": record.polecat, "issue": record.issue, "mr_id": record.mr, "branch": record.branch,
                    "message_id": sent[0]["id"] if sent else None, "done_message_id": message["id"]})
        else:
            slot = protocol.SlotOpen(polecat=record.polecat, rig=rig, exit=record.exit, issue=record.issue)
            mail.send_protocol(town.root, actor, "mayor", slot)
            out["slot_open"].append(record.polecat)
            work.emit(town.rig(rig).beads_dir, "witness.slot_open", actor, {
                "polecat": record.polecat, "issue": record.issue, "exit": record.exit})
        out["read"].append(message["id"])
    for kind in ("MERGED", "REWORK_REQUEST"):
        out["read"].extend(m["id"] for m, _r in batches[kind])
    for message, record in batches["HELP"]:
        assert isinstance(record, protocol.Help)
        try:
            from vermas.town import escalations

            bead = escalations.escalate(town.root, actor, f"HELP from {record.agent or message['from']}: "
                                        f"{record.summary or message['subject']}", severity="medium",
                                        body=message.get("body", ""), source="witness", related=record.issue)
            out["escalated"].append(bead["id"])
        except VermasError as exc:
            log(f"could not escalate HELP {message['id']}: {exc.message}")
            continue
        out["read"].append(message["id"])
    if wake:
        try:
            kick()
        except Exception as exc:  # a wake-up is best effort: the refinery also polls
            log(f"could not wake the refinery: {exc}")
    if out["read"]:
        mail.mark_read(town.root, out["read"], actor)
    return out


def _mr_open(town: Town, rig: str, mr_id: str) -> bool:
    try:
        with Ledger.open(town.rig(rig).beads_dir) as ledger:
            mr = ledger.find(mr_id)
    except VermasError:
        return True  # cannot tell: a wake-up is harmless
    return mr is not None and mr.get("status") in OPEN_MR
