"""Writing hooks: put a bead on an agent's hook (file + bead), take it off, events.

Putting work on a hook is one ledger transaction that re-checks the bead under the ledger
lock, so two dispatchers can never hook the same bead to two agents: the second one sees
``status=hooked`` with another assignee and gets a :class:`ConflictError` (exit 5).
"""

from __future__ import annotations

import os

from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.ledger import events as event_log
from vermas.ledger import routes
from vermas.ledger.store import Ledger
from vermas.town import hookfile
from vermas.town.identity import Agent

# Types that are records, not work: never hooked or slung.
NOT_WORK_TYPES = ("message", "merge-request", "molecule", "convoy", "agent", "gate", "role", "rig", "event")


def ledger_dir_for(town_root: str, bead_id: str, default: str | None = None) -> str:
    """The ``.beads`` owning ``bead_id`` (routes by prefix), else ``default``; exit 3 when neither."""
    found = routes.beads_dir_for_id(bead_id, default, town_root)
    if found:
        return found
    if default:
        return default
    raise NotFoundError(f"cannot tell which ledger holds {bead_id!r}: its prefix is not in "
                        f"{os.path.join(town_root, '.beads', 'routes.jsonl')}",
                        hint="use a full id (<prefix>-<hash>); 'vermas rig list' shows the prefixes")


def check_hookable(bead: dict, agent: Agent, *, force: bool) -> None:
    """Raise unless ``bead`` may go on ``agent``'s hook now."""
    kind = bead.get("issue_type") or "task"
    if kind in NOT_WORK_TYPES:
        raise UsageError(f"{bead['id']} is a {kind}, not work that can be hooked",
                         hint="sling tasks, features, bugs or chores")
    status = bead.get("status") or "open"
    assignee = bead.get("assignee") or ""
    if status in ("closed", "tombstone"):
        raise ConflictError(f"{bead['id']} is {status}", hint=f"reopen it first: vermas reopen {bead['id']}")
    if status in ("hooked", "in_progress") and assignee and assignee != agent.address and not force:
        raise ConflictError(f"{bead['id']} is already {status} by {assignee}",
                            hint="wait for it, or take it over with --force --reason '…'")


def hook_in_tx(tx, bead_id: str, agent: Agent, *, force: bool = False, reason: str | None = None,
               dispatched_by: str = "", extra_event: dict | None = None) -> dict:
    """Inside an open transaction: mark the bead ``hooked`` for ``agent`` (checks first)."""
    ledger = tx.ledger
    bead = ledger.get(bead_id)
    check_hookable(bead, agent, force=force)
    previous = bead.get("assignee") or ""
    updated = tx.update(bead["id"], status="hooked", assignee=agent.address)
    if force and reason:
        tx.add_comment(bead["id"], f"hooked to {agent.address} with --force by {tx.actor}: {reason}"
                       + (f" (was {bead.get('status')} by {previous})" if previous else ""))
    data = {"bead_id": bead["id"], "agent": agent.address, "hook_path": None, "dispatched_by": dispatched_by,
            "previous_assignee": previous, "forced": bool(force)}
    data.update(extra_event or {})
    tx.emit("bead.hooked", data)
    return updated


def write_hook_file(town_root: str, agent: Agent, bead_id: str, ref_type: str = "bead") -> str:
    path = agent.hook_path(town_root)
    hookfile.write(path, ref_type, bead_id)
    return path


def set_hook(town_root: str, agent: Agent, bead_id: str, *, actor: str, force: bool = False,
             reason: str | None = None) -> dict:
    """Hook a bead to an agent without starting anything (``vermas hook set``)."""
    beads_dir = ledger_dir_for(town_root, bead_id, agent.beads_dir(town_root))
    with Ledger.open(beads_dir) as ledger:
        real = ledger.resolve(bead_id)
        with ledger.transaction(actor) as tx:
            bead = hook_in_tx(tx, real, agent, force=force, reason=reason, dispatched_by=actor)
            path = write_hook_file(town_root, agent, bead["id"])
            tx.emit("hook.set", {"agent": agent.address, "ref_type": "bead", "ref_id": bead["id"], "hook_path": path})
    return bead


def attach_mail(town_root: str, agent: Agent, message_id: str, *, actor: str) -> dict:
    """Hook a mail message (a handoff) to the agent: the hook file says ``mail:<id>``."""
    with Ledger.open(os.path.join(town_root, ".beads")) as ledger:
        message = ledger.get(message_id)
        if message.get("issue_type") != "message":
            raise UsageError(f"{message['id']} is not a message", hint="attach a mail id from 'vermas mail inbox'")
        path = write_hook_file(town_root, agent, message["id"], "mail")
        event_log.append(ledger.dir, [event_log.new_event(
            "hook.set", actor, {"agent": agent.address, "ref_type": "mail", "ref_id": message["id"],
                                "hook_path": path})])
    return message


def clear_hook(town_root: str, agent: Agent, *, actor: str, release_to: str | None = "open") -> dict | None:
    """Remove the hook file and (when the bead is still hooked to the agent) set the bead to ``release_to``.

    ``release_to="open"`` gives the bead back (assignee cleared); ``"in_progress"`` keeps the
    assignee (work submitted, waiting for merge); ``None`` leaves the bead alone.
    Returns the bead that was on the hook, if any.
    """
    from vermas.town import hookread

    info = hookread.read(town_root, agent, with_molecule=False)
    bead = info.get("bead")
    path = agent.hook_path(town_root)
    removed_ref = (info.get("hook") or {}).get("id")
    if bead is not None and release_to is not None:
        with Ledger.open(info["bead_ledger"]) as ledger, ledger.transaction(actor) as tx:
            current = ledger.get(bead["id"])
            if current.get("status") in ("hooked", "in_progress") and current.get("assignee") in (agent.address, ""):
                fields: dict = {"status": release_to}
                if release_to == "open":
                    fields["assignee"] = None
                bead = tx.update(current["id"], **fields)
            hookfile.clear(path)
            tx.emit("hook.cleared", {"agent": agent.address, "previous_ref": removed_ref, "bead_status": release_to})
        return bead
    existed = hookfile.clear(path)
    if existed:
        event_log.append(agent.beads_dir(town_root), [event_log.new_event(
            "hook.cleared", actor, {"agent": agent.address, "previous_ref": removed_ref})])
    return bead


def emit(beads_dir: str, event_type: str, actor: str, data: dict, *, correlation_id: str | None = None) -> None:
    """Append one event to a ledger's ``events.jsonl`` (for facts that change no bead)."""
    event_log.append(beads_dir, [event_log.new_event(event_type, actor, data, correlation_id=correlation_id)])
