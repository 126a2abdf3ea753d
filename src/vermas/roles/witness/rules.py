"""The witness's rules: a snapshot in, a list of actions out (pure: no I/O, no clock).

For a polecat **with hooked work** (a bead ``hooked`` to it in a ledger):

============================================  ==============================================
what the witness sees                         action
============================================  ==============================================
``spawning`` for less than the spawn grace    nothing (a launch is under way)
the polecat is idle (it ran ``done``) and     ``rework``: respawn it in its existing worktree
the bead came back (label ``rework``)         (another re-hook of an idle polecat: ``respawn``)
no session, or the pane is dead               ``respawn``: a new session resumes from the hook
no activity for ``stuck_after``               ``restart``: new session, same worktree
``MAX_NUDGES`` nudges and still no progress   ``restart``
no activity for ``idle_after``, no nudge      ``nudge`` ("work is on your hook: run it")
since the last sign of life
============================================  ==============================================

Every (re)start of a bead's session counts against ``witness.max_respawns``; past it the
witness stops and sends ``SPAWN_BLOCKED`` to the mayor (once). A count is reset when
someone else (a human, a new sling) started the polecat since the witness's last spawn.

For a polecat **without hooked work**: its last merge request merged → ``cleanup``
(session, worktree, branch; ``SLOT_OPEN``); its incarnation sent a current ``POLECAT_DONE``,
its session has been idle for ``idle_after``, or its pane is dead → ``reap`` (the session
only; the worktree stays until the merge).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.ledger import timefmt
from vermas.roles.witness.memory import Memory
from vermas.roles.witness.observe import PolecatView, Snapshot
from vermas.roles.witness.settings import MAX_NUDGES, WitnessSettings

RESPAWNING = ("respawn", "restart", "rework")
NUDGE_ECHO = 2.0  # seconds of pane output after a nudge that are the nudge itself, not the agent reacting


@dataclass
class Action:
    kind: str                 # nudge | restart | respawn | rework | spawn_blocked | reap | cleanup
    polecat: str
    reason: str
    bead: str | None = None
    spawn_id: str | None = None   # the incarnation the decision is about (re-checked before acting)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "polecat": self.polecat, "bead": self.bead, "reason": self.reason,
                "spawn_id": self.spawn_id, **({"details": self.details} if self.details else {})}


def decide(snap: Snapshot, memory: Memory, settings: WitnessSettings) -> list[Action]:
    actions: list[Action] = []
    for view in snap.polecats:
        action = _with_work(view, snap, memory, settings) if view.hooked is not None \
            else _without_work(view, snap, memory, settings)
        if action is not None:
            actions.append(action)
    return actions


def respawn_count(view: PolecatView, memory: Memory, bead_id: str) -> tuple[int, bool]:
    """``(respawns, blocked)`` of ``bead_id`` that still apply to the polecat's current incarnation."""
    record = memory.peek_bead(bead_id)
    respawns = int(record.get("respawns") or 0)
    if (respawns or record.get("blocked")) and record.get("last_spawn_id") not in (None, view.spawn_id):
        return 0, False  # someone else started it since the witness's last spawn: a fresh count
    return respawns, bool(record.get("blocked"))


def _with_work(view: PolecatView, snap: Snapshot, memory: Memory, settings: WitnessSettings) -> Action | None:
    bead = view.hooked or {}
    bead_id = bead.get("id")
    state = view.state.get("state")
    if state == "spawning":
        started = timefmt.parse_epoch(view.state.get("started_at"))
        if started is not None and snap.now - started < settings.spawn_grace:
            return None
    kind = reason = None
    inactive = view.inactive_for(snap.now)
    if not view.busy:
        if "rework" in (bead.get("labels") or []):
            kind, reason = "rework", f"{bead_id} came back for rework"
        else:
            kind, reason = "respawn", f"{bead_id} is hooked to it but it is idle"
    elif not view.alive:
        if snap.tmux_error:
            return None  # tmux did not answer: never take "no answer" for "dead"
        if view.pane is None:
            kind, reason = "respawn", "its session is gone"
        else:
            status = view.pane.exit_status
            kind, reason = "respawn", "its agent died" + (f" (exit {status})" if status is not None else "")
    else:
        mem = memory.doc["polecats"].get(view.name) or {}
        if mem.get("spawn_id") != view.spawn_id:
            mem = {}
        nudges = int(mem.get("nudges") or 0)
        if inactive >= settings.stuck_after:
            kind, reason = "restart", f"stuck: no activity for {inactive:.0f}s"
        elif nudges >= MAX_NUDGES and inactive >= settings.idle_after:
            kind, reason = "restart", f"no progress after {nudges} nudges"
        elif inactive >= settings.idle_after:
            nudged_at = mem.get("nudged_at")
            if nudged_at is None or _reacted_since(view, float(nudged_at)):
                return Action("nudge", view.name, f"no activity for {inactive:.0f}s with {bead_id} hooked",
                              bead=bead_id, spawn_id=view.spawn_id,
                              details={"inactive": round(inactive, 1), "nudges": nudges})
    if kind is None:
        return None
    respawns, blocked = respawn_count(view, memory, bead_id)
    if blocked:
        return None  # SPAWN_BLOCKED was sent for this incarnation: the mayor decides
    if respawns >= settings.max_respawns:
        return Action("spawn_blocked", view.name, f"{reason}; respawn limit reached ({respawns} of "
                                                  f"witness.max_respawns {settings.max_respawns})",
                      bead=bead_id, spawn_id=view.spawn_id,
                      details={"respawns": respawns, "wanted": kind, "previous_status": bead.get("status")})
    return Action(kind, view.name, reason, bead=bead_id, spawn_id=view.spawn_id,
                  details={"respawns": respawns, "inactive": round(inactive, 1)})


def _reacted_since(view: PolecatView, nudged_at: float) -> bool:
    """A sign of life after the last nudge: a hook event, or pane output after the nudge's own echo."""
    hook_ts = float((view.activity or {}).get("ts") or 0.0)
    pane_ts = view.pane.activity if view.pane is not None and view.pane.activity else 0.0
    return hook_ts > nudged_at or pane_ts > nudged_at + NUDGE_ECHO


def _without_work(view: PolecatView, snap: Snapshot, memory: Memory, settings: WitnessSettings) -> Action | None:
    if view.busy:
        return None  # its state names a bead the ledgers no longer show hooked: 'done' is finishing
    last = view.state.get("last") or {}
    mr = view.last_mr
    if mr is not None and mr.get("status") == "closed" and _merged(mr) and not last.get("cleaned_at"):
        mem = memory.doc["polecats"].get(view.name) or {}
        skipped = mem.get("cleanup_skipped") or {}
        if skipped.get("mr") == mr.get("id") and skipped.get("spawn_id") == view.spawn_id:
            return None  # already found unsafe to clean for this job; 'witness status' shows why
        return Action("cleanup", view.name, f"its merge request {mr.get('id')} merged", bead=last.get("bead"),
                      spawn_id=view.spawn_id, details={"mr": mr.get("id")})
    if view.pane is not None and view.pane.dead and not snap.tmux_error:
        return Action("reap", view.name, "its session is dead and it holds no work", bead=last.get("bead"),
                      spawn_id=view.spawn_id)
    if view.alive:
        mem = memory.doc["polecats"].get(view.name) or {}
        if mem.get("done_message") and mem.get("spawn_id") == view.spawn_id:
            return Action("reap", view.name, f"it finished its job ({mem['done_message']}: POLECAT_DONE)",
                          bead=last.get("bead"), spawn_id=view.spawn_id)
        inactive = view.inactive_for(snap.now)
        if inactive >= settings.idle_after:
            return Action("reap", view.name, f"idle for {inactive:.0f}s after its job", bead=last.get("bead"),
                          spawn_id=view.spawn_id, details={"inactive": round(inactive, 1)})
    return None


def _merged(mr: dict) -> bool:
    reason = str(mr.get("close_reason") or "").strip().lower()
    if reason:
        return reason == "merged"
    from vermas.town.fields import parse_fields

    return bool(parse_fields(mr.get("description") or "")[0].get("merge_commit"))
