"""Carrying out the witness's decisions: each re-checked against the polecat's current state.

Between the snapshot and the action another process may have moved the polecat on (a sling
claimed it, a human restarted it, ``done`` finished): every action first re-reads the state
file and gives up when the incarnation (``spawn_id``) is no longer the one decided about.
Reaping and cleaning up also hold the rig's sling lock, the lock every claim takes, so an
identity is never claimed for new work while its session is killed or its worktree removed.

**Never delete work**: a worktree is removed only when it is clean and its ``HEAD`` is the
commit that merged (or already in the target); anything else is kept, recorded as
``witness.cleanup_skipped`` with the reason, and shown by ``vermas witness status``.
Restarts keep the worktree as it is (``dispatch.restart``: same hook, same worktree).
"""

from __future__ import annotations

import os
import time

from vermas import gitops
from vermas.errors import NotFoundError, VermasError
from vermas.ledger import timefmt
from vermas.roles.witness.memory import Memory
from vermas.roles.witness.rules import Action
from vermas.roles.witness.settings import WitnessSettings
from vermas.town import dispatch, hookread, mail, polecats, protocol, slingqueue, work
from vermas.town.identity import Agent
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

EVENTS = {"nudge": "witness.nudged", "restart": "witness.restarted", "respawn": "witness.respawned",
          "rework": "witness.reworked", "spawn_blocked": "witness.spawn_blocked", "reap": "witness.reaped",
          "cleanup": "witness.cleaned"}
TOTALS = {"nudge": "nudged", "restart": "restarted", "respawn": "respawned", "rework": "reworked",
          "spawn_blocked": "spawn_blocked", "reap": "reaped", "cleanup": "cleaned"}
READY_TIMEOUT = 60.0


class Skip(Exception):
    """The action no longer applies (the polecat moved on since the snapshot)."""


class Actor:
    """Executes witness actions for one rig."""

    def __init__(self, town: Town, rig: str, memory: Memory, settings: WitnessSettings, *, actor: str,
                 environ: dict | None, log: Callable[[str], None]) -> None:
        self.town = town
        self.rig = rig
        self.paths = town.rig(rig)
        self.memory = memory
        self.settings = settings
        self.actor = actor
        self.environ = environ
        self.log = log
        self._provider = None

    @property
    def provider(self):
        if self._provider is None:
            from vermas.town import sessions

            self._provider = sessions.provider(self.town, self.environ, self.rig)
        return self._provider

    def emit(self, event: str, data: dict) -> None:
        work.emit(self.paths.beads_dir, event, self.actor, data)

    # ------------------------------------------------------------------ dispatch
    def run(self, action: Action) -> dict:
        """Carry out ``action``; returns ``{"action", "status": done|skipped|failed, …}``."""
        handler = getattr(self, "_" + action.kind)
        try:
            result = handler(action) or {}
        except Skip as why:
            self.log(f"{action.kind} {action.polecat}: skipped ({why})")
            return {**action.as_dict(), "status": "skipped", "why": str(why)}
        except VermasError as exc:
            self.memory.count("errors")
            self.log(f"{action.kind} {action.polecat} failed: {exc.message}")
            self.emit("witness.error", {"action": action.kind, "polecat": action.polecat, "bead": action.bead,
                                        "error": exc.message})
            return {**action.as_dict(), "status": "failed", "error": exc.message}
        self.memory.count(TOTALS[action.kind])
        self.log(f"{action.kind} {action.polecat}" + (f" ({action.bead})" if action.bead else "")
                 + f": {action.reason}")
        self.emit(EVENTS[action.kind], {"polecat": f"{self.rig}/polecats/{action.polecat}", "bead_id": action.bead,
                                        "reason": action.reason, **result})
        return {**action.as_dict(), "status": "done", **result}

    def _current(self, action: Action) -> dict:
        state = polecats.try_load(self.paths, action.polecat)
        if state is None:
            raise Skip("its state file is gone")
        if state.get("spawn_id") != action.spawn_id:
            raise Skip(f"it was respawned meanwhile (spawn {state.get('spawn_id')})")
        return state

    # ------------------------------------------------------------------ hooked work
    def _nudge(self, action: Action) -> dict:
        from vermas.runtime.errors import AgentExitedError, SessionNotFoundError

        state = self._current(action)
        agent = Agent("polecat", self.rig, action.polecat)
        title = ""
        info = hookread.read(self.town.root, agent, with_molecule=False)
        if info.get("bead"):
            title = info["bead"].get("title", "")
        text = (f"Work is on your hook: {action.bead} \"{title}\". Run it now, without asking; when it is "
                f"committed, run 'vermas done'. ('vermas prime' shows the full context.)")
        try:
            report = self.provider.nudge(agent.session, text, mode="wait-idle", sender=self.actor, wait=0)
        except (AgentExitedError, SessionNotFoundError) as exc:
            raise Skip(f"its session ended: {exc.message}") from None
        entry = self.memory.polecat(action.polecat, state.get("spawn_id"))
        entry["nudges"] = int(entry.get("nudges") or 0) + 1
        entry["nudged_at"] = time.time()
        return {"status_of_nudge": report.get("status"), "nudges": entry["nudges"],
                "inactive": action.details.get("inactive")}

    def _respawn(self, action: Action) -> dict:
        return self._spawn(action)

    def _restart(self, action: Action) -> dict:
        return self._spawn(action)

    def _rework(self, action: Action) -> dict:
        return self._spawn(action)

    def _spawn(self, action: Action) -> dict:
        """A fresh session on the same hook and worktree (``dispatch.restart``), counted per bead."""
        before = self._current(action)
        try:
            result = dispatch.restart(self.town, self.rig, action.polecat, actor=self.actor, environ=self.environ,
                                      wait_ready=True, timeout=READY_TIMEOUT)
        except NotFoundError as exc:  # e.g. its worktree is gone: no session can resume it, a human must look
            blocked = Action("spawn_blocked", action.polecat, f"cannot {action.kind} it: {exc.message}",
                             bead=action.bead, spawn_id=action.spawn_id,
                             details={"respawns": action.details.get("respawns", 0), "wanted": action.kind,
                                      "previous_status": "hooked"})
            outcome = self._spawn_blocked(blocked)
            self.memory.count("spawn_blocked")
            self.emit("witness.spawn_blocked", {"polecat": f"{self.rig}/polecats/{action.polecat}",
                                                "bead_id": action.bead, "reason": blocked.reason, **outcome})
            raise Skip(f"SPAWN_BLOCKED: {exc.message}") from None
        except VermasError:
            after = polecats.try_load(self.paths, action.polecat) or {}
            if after.get("spawn_id") != before.get("spawn_id"):  # a session was attempted: it counts
                self.memory.record_spawn(action.bead or "", action.kind, action.reason, after.get("spawn_id"))
            raise
        entry = self.memory.record_spawn(action.bead or result["bead"], action.kind, action.reason,
                                         result["spawn_id"])
        return {"incarnation": result["incarnation"], "spawn_id": result["spawn_id"],
                "previous_spawn_id": before.get("spawn_id"), "respawns": entry["respawns"],
                "worktree": result["worktree"]}

    def _spawn_blocked(self, action: Action) -> dict:
        self._current(action)
        respawns = int(action.details.get("respawns") or 0)
        record = protocol.SpawnBlocked(bead=action.bead or "", polecat=f"{self.rig}/polecats/{action.polecat}",
                                       previous_status=str(action.details.get("previous_status") or ""),
                                       respawns=str(respawns), reason=action.reason)
        record.notes = (f"The witness of {self.rig} stopped respawning {action.polecat} for {action.bead}. "
                        f"Look at it (vermas polecat status {self.rig}/{action.polecat}; vermas peek "
                        f"{self.rig}/polecats/{action.polecat}), then restart it (vermas polecat restart "
                        f"{self.rig}/{action.polecat}) or release the bead (vermas polecat kill "
                        f"{self.rig}/{action.polecat} --release) and sling it again.")
        sent = mail.send_protocol(self.town.root, self.actor, "mayor", record, priority="high")
        entry = self.memory.bead(action.bead or "")
        entry["blocked"] = True
        entry["last_spawn_id"] = action.spawn_id
        return {"respawns": respawns, "message_id": sent[0]["id"] if sent else None,
                "wanted": action.details.get("wanted")}

    # ------------------------------------------------------------------ finished polecats
    def _idle_state(self, action: Action) -> tuple[dict, Agent]:
        state = self._current(action)
        if state.get("state") in polecats.BUSY_STATES and state.get("bead"):
            raise Skip(f"it took new work ({state.get('bead')})")
        agent = Agent("polecat", self.rig, action.polecat)
        info = hookread.read(self.town.root, agent, with_molecule=False)
        if info.get("bead") is not None:
            raise Skip(f"{info['bead']['id']} is on its hook again")
        return state, agent

    def _reap(self, action: Action) -> dict:
        from vermas.town import sessions

        with slingqueue.sling_lock(self.paths):
            _state, agent = self._idle_state(action)
            stopped = sessions.stop_agent(self.town, agent.session, self.environ)
        return {"session": agent.session, "stopped": stopped}

    def _cleanup(self, action: Action) -> dict:
        from vermas.town import sessions

        with slingqueue.sling_lock(self.paths):
            state, agent = self._idle_state(action)
            last = dict(state.get("last") or {})
            if last.get("cleaned_at"):
                raise Skip("already cleaned up")
            stopped = sessions.stop_agent(self.town, agent.session, self.environ)
            worktree = state.get("worktree") or self.paths.polecat_worktree(action.polecat)
            problem = self._unsafe_to_remove(worktree, last)
            if problem:
                entry = self.memory.polecat(action.polecat, state.get("spawn_id"))
                entry["cleanup_skipped"] = {"mr": action.details.get("mr"), "spawn_id": state.get("spawn_id"),
                                            "reason": problem, "worktree": worktree, "at": timefmt.now_str()}
                self.log(f"cleanup {action.polecat}: keeping {worktree}: {problem}")
                self.emit("witness.cleanup_skipped", {"polecat": agent.address, "bead_id": action.bead,
                                                      "worktree": worktree, "reason": problem})
                raise Skip(f"kept its worktree: {problem}")
            removed = False
            if os.path.isdir(worktree):
                gitops.worktree_remove(self.paths.repo, worktree)
                removed = True
            branch_deleted = self._delete_branch(last)
            # the mail first, then the mark: a witness killed in between says it twice, never not at all
            slot = protocol.SlotOpen(polecat=action.polecat, rig=self.rig, exit=last.get("exit") or "COMPLETED",
                                     issue=last.get("bead") or "")
            mail.send_protocol(self.town.root, self.actor, "mayor", slot)
            with polecats.lock(self.paths, action.polecat):
                current = polecats.load(self.paths, action.polecat)
                if current.get("spawn_id") == state.get("spawn_id"):
                    current["last"] = {**(current.get("last") or {}), "cleaned_at": timefmt.now_str()}
                    current["branch"] = None
                    polecats.save(self.paths, current)
        if last.get("bead"):
            self.memory.forget_bead(last["bead"])
        self.memory.polecat(action.polecat, state.get("spawn_id"))["cleanup_skipped"] = None
        return {"mr_id": action.details.get("mr"), "session_stopped": stopped, "worktree_removed": removed,
                "worktree": worktree, "branch": last.get("branch"), "branch_deleted": branch_deleted}

    def _unsafe_to_remove(self, worktree: str, last: dict) -> str | None:
        """Why removing ``worktree`` could lose work (None when it is safe or already gone)."""
        if not os.path.isdir(worktree):
            return None
        if not gitops.is_repo(worktree):
            return f"{worktree} is not a git worktree any more"
        dirty = gitops.dirty_paths(worktree)
        if dirty:
            return "uncommitted changes: " + ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
        head = gitops.rev_parse("HEAD", cwd=worktree)
        submitted = last.get("commit")
        if head is None or head == submitted:
            return None
        target = last.get("target") or "main"
        if gitops.is_ancestor(self.paths.repo, head, f"refs/heads/{target}"):
            return None
        return f"HEAD {head[:12]} is not the submitted commit {str(submitted)[:12]} and not in {target}"

    def _delete_branch(self, last: dict) -> bool:
        branch = last.get("branch")
        if not branch:
            return False
        sha = gitops.rev_parse(f"refs/heads/{branch}", cwd=self.paths.repo)
        if sha is None or sha != last.get("commit") or gitops.checked_out_by(self.paths.repo, branch):
            return False  # gone already (the refinery deletes merged branches), moved on, or in use
        return gitops.delete_ref(self.paths.repo, f"refs/heads/{branch}", sha)
