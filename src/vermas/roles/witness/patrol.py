"""One witness patrol: observe → mail → decide → act → backstops → remember.

``Witness(town, rig).patrol()`` is what ``vermas witness run`` repeats every
``witness.patrol_interval`` seconds (and ``run --once`` does once). It returns a report of
what it saw and did, which is also kept as ``last_patrol`` in ``<rig>/witness/state.json``.
"""

from __future__ import annotations

import os
import time

from vermas.errors import VermasError
from vermas.ledger import timefmt
from vermas.roles.witness import mailbox, rules
from vermas.roles.witness.actions import Actor
from vermas.roles.witness.memory import Memory
from vermas.roles.witness.observe import Snapshot, observe
from vermas.roles.witness.settings import WitnessHome, WitnessSettings
from vermas.town import slingqueue, work
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class Witness:
    def __init__(self, town: Town, rig: str, *, environ: dict | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        from vermas.town import rigs

        rigs.rig_info(town, rig)
        self.town = town
        self.rig = rig
        self.home = WitnessHome(town, rig)
        self.environ = dict(os.environ) if environ is None else environ
        self.log = log or (lambda _line: None)
        self.actor = self.home.actor
        os.makedirs(self.home.dir, exist_ok=True)

    def settings(self) -> WitnessSettings:
        return WitnessSettings.load(self.town, self.rig, self.environ)

    def patrol(self, settings: WitnessSettings | None = None) -> dict:
        """One patrol; returns ``{"at", "duration_ms", "polecats", "mail", "actions", "drained", "flushed",
        "errors"}``."""
        started = time.perf_counter()
        settings = settings or self.settings()
        memory = Memory(self.home.state_path, self.rig)
        report: dict = {"at": timefmt.now_str(), "polecats": 0, "mail": {}, "actions": [], "drained": None,
                        "flushed": [], "errors": []}
        snap = observe(self.town, self.rig, environ=self.environ)
        report["polecats"] = len(snap.polecats)
        if snap.tmux_error:
            report["errors"].append(f"tmux: {snap.tmux_error}")
        try:
            report["mail"] = mailbox.process(self.town, self.rig, snap, memory, actor=self.actor, log=self.log,
                                             kick=self._kick_refinery)
        except VermasError as exc:
            report["errors"].append(f"mail: {exc.message}")
            self.log(f"mail: {exc.message}")
        actor = Actor(self.town, self.rig, memory, settings, actor=self.actor, environ=self.environ, log=self.log)
        for action in rules.decide(snap, memory, settings):
            report["actions"].append(actor.run(action))
        report["flushed"] = self._flush_queues(snap, actor)
        report["drained"] = self._drain(snap, memory)
        report["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        memory.count("patrols")
        memory.doc["last_patrol"] = {k: v for k, v in report.items() if k != "mail"} | {
            "mail": {k: len(v) for k, v in (report["mail"] or {}).items()}}
        memory.save()
        return report

    # ------------------------------------------------------------------ backstops
    def _kick_refinery(self) -> bool:
        from vermas.roles.refinery import daemon as refinery_daemon

        return refinery_daemon.kick(self.town.root, self.rig)

    def _drain(self, snap: Snapshot, memory: Memory) -> dict | None:
        """Start queued beads on free slots (``done`` spawns a drainer; this catches a lost one)."""
        paths = self.town.rig(self.rig)
        if not slingqueue.items(paths):
            return None
        from vermas.town import dispatch
        from vermas.town.sessions import town_config

        limit = town_config(self.town, self.rig, environ=self.environ).int("polecats.max")
        taken = sum(1 for v in snap.polecats if v.busy or v.hooked is not None)
        if taken >= limit:
            return None
        try:
            result = dispatch.drain(self.town, self.rig, actor=self.actor, environ=self.environ)
        except VermasError as exc:
            self.log(f"drain: {exc.message}")
            return {"error": exc.message}
        if result["started"] or result["failed"]:
            started = [s["bead"] for s in result["started"]]
            self.log(f"drained the sling queue: started {', '.join(started) or 'nothing'}"
                     + (f"; failed {len(result['failed'])}" if result["failed"] else ""))
            work.emit(paths.beads_dir, "witness.drained", self.actor, {
                "started": started, "failed": [f.get("bead") for f in result["failed"]],
                "queued": result["queued"]})
            memory.count("drained", len(started))
        return {"started": [s["bead"] for s in result["started"]], "failed": len(result["failed"]),
                "queued": result["queued"]}

    def _flush_queues(self, snap: Snapshot, actor: Actor) -> list[dict]:
        """Type pending nudges into idle agents whose runtime has no hooks to drain them."""
        from vermas.runtime import nudge_queue
        from vermas.town.sessions import runtime_dir, runtime_spec

        out: list[dict] = []
        specs: dict[str, object] = {}
        rdir = runtime_dir(self.town, self.environ)
        for view in snap.polecats:
            if not view.alive:
                continue
            name = view.state.get("runtime") or "claude"
            if name not in specs:
                try:
                    specs[name] = runtime_spec(self.town, name, self.rig, self.environ)
                except VermasError:
                    specs[name] = None
            spec = specs[name]
            if spec is None or spec.supports_hooks:  # type: ignore[attr-defined]
                continue
            if not nudge_queue.count(rdir, view.agent.session):
                continue
            try:
                count = actor.provider.flush_queue(view.agent.session)
            except VermasError as exc:
                self.log(f"flush {view.name}: {exc.message}")
                continue
            if count:
                actor.memory.count("flushed", count)
                actor.emit("witness.flushed", {"polecat": view.agent.address, "count": count})
                out.append({"polecat": view.name, "count": count})
        return out


def polecat_rows(snap: Snapshot, memory: Memory, settings: WitnessSettings) -> list[dict]:
    """What ``witness status`` shows per polecat."""
    rows = []
    for view in snap.polecats:
        bead = view.hooked or {}
        mem = memory.doc["polecats"].get(view.name) or {}
        current_mem = mem if mem.get("spawn_id") == view.spawn_id else {}
        respawns = rules.respawn_count(view, memory, bead["id"])[0] if bead else 0
        rows.append({
            "polecat": view.name, "state": view.state.get("state"), "incarnation": view.state.get("incarnation"),
            "spawn_id": view.spawn_id, "session": view.agent.session,
            "session_state": "alive" if view.alive else ("dead" if view.pane is not None else "none"),
            "hooked": bead.get("id"), "rework": "rework" in (bead.get("labels") or []),
            "inactive_s": round(view.inactive_for(snap.now), 1) if (view.alive and (view.busy or bead)) else None,
            "nudges": int(current_mem.get("nudges") or 0), "respawns": respawns,
            "max_respawns": settings.max_respawns,
            "last_job": (view.state.get("last") or {}).get("bead"),
            "cleaned": bool((view.state.get("last") or {}).get("cleaned_at")),
            "cleanup_skipped": (mem.get("cleanup_skipped") or {}).get("reason"),
        })
    return rows

