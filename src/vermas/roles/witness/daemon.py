"""The witness as a long-running process: ``vermas witness run|start|stop|status``.

``run`` holds ``<rig>/witness/witness.lock`` (one witness per rig; ``run --once`` too: exit 5
while a daemon runs), writes the pidfile, then patrols every ``witness.patrol_interval``
seconds, or at once when woken with SIGUSR1 (:func:`kick`). Settings are re-read every
patrol. A failing patrol is logged, recorded as ``last_error`` and retried with backoff.
``start`` runs it in tmux session ``vm-<rig>-witness`` and marks it wanted (the deacon
restarts a wanted witness that died); ``stop`` sends SIGTERM (a patrol under way finishes),
then SIGKILL after ``--timeout``, and clears the wanted marker.
"""

from __future__ import annotations

import os

from vermas.errors import VermasError
from vermas.ledger import timefmt
from vermas.roles import daemonkit
from vermas.roles.witness.memory import Memory, read
from vermas.roles.witness.settings import WitnessHome, WitnessSettings
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _hint(rig: str) -> str:
    return f"'vermas witness status --rig {rig}' shows it; 'vermas witness stop --rig {rig}' stops it"


def run(town: Town, rig: str, *, once: bool = False, environ: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None, max_patrols: int | None = None) -> dict:
    """Patrol the rig in this process (``once``: one patrol, then return its report)."""
    from vermas.roles.witness.patrol import Witness
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = WitnessHome(town, rig)
    os.makedirs(home.dir, exist_ok=True)
    summary: dict = {"rig": rig, "patrols": 0, "actions": [], "errors": [], "last": None}
    with daemonkit.hold(home.daemon, environ=environ, once=once, hint=_hint(rig)) as signals:
        log = daemonkit.RoleLog(home.log_path, echo)
        log(f"witness for {rig} started (pid {os.getpid()}{', once' if once else ''})")
        witness = Witness(town, rig, environ=environ, log=log)

        def patrol() -> float:
            settings = witness.settings()
            report = witness.patrol(settings)
            summary["patrols"] += 1
            summary["last"] = report
            summary["actions"].extend(a for a in report["actions"] if a.get("status") == "done")
            summary["errors"].extend(report["errors"])
            _clear_error(home)
            return settings.patrol_interval

        daemonkit.patrol_loop(signals, log, patrol, once=once, interval=30.0, limit=max_patrols,
                              errors=summary["errors"], on_error=lambda m, h: _record_error(home, m, h))
        log(f"witness for {rig} stopped")
    return summary


def _record_error(home: WitnessHome, message: str, hint: str | None) -> None:
    try:
        memory = Memory(home.state_path, home.rig_name)
        memory.doc["last_error"] = {"at": timefmt.now_str(), "message": message, "hint": hint}
        memory.count("errors")
        memory.save()
    except VermasError:
        pass


def _clear_error(home: WitnessHome) -> None:
    doc = read(home.state_path) or {}
    if doc.get("last_error"):
        memory = Memory(home.state_path, home.rig_name)
        memory.doc.pop("last_error", None)
        memory.save()


def kick(town_root: str, rig: str) -> bool:
    """Make the rig's running witness patrol now; False if none runs."""
    return daemonkit.wake(WitnessHome(Town(town_root), rig).daemon)


def running_pid(town: Town, rig: str) -> int | None:
    return daemonkit.running_pid(WitnessHome(town, rig).daemon)


def session_env(town: Town, rig: str, environ: dict[str, str]) -> dict[str, str]:
    home = WitnessHome(town, rig)
    return daemonkit.session_env(environ, {"VERMAS_TOWN": town.root, "BD_ACTOR": home.actor, "GT_ROLE": home.actor,
                                           "VERMAS_ROLE": "witness", "GT_RIG": rig,
                                           "VERMAS_SESSION": home.daemon.session})


def start(town: Town, rig: str, *, environ: dict[str, str] | None = None, wait: float = 20.0, by: str = "") -> dict:
    """Start the witness in its tmux session unless it already runs (idempotent); returns its status."""
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = WitnessHome(town, rig)
    WitnessSettings.load(town, rig, environ)  # a bad setting is reported here, not in a dying session
    argv = daemonkit.cli_argv(town.root, "witness", "run", "--rig", rig)
    result = daemonkit.start(home.daemon, argv, environ=environ, env=session_env(town, rig, environ), wait=wait,
                             by=by or environ.get("BD_ACTOR", ""),
                             hint=f"see {home.log_path}, or run 'vermas witness run --rig {rig}' in the foreground")
    return {**status(town, rig, environ=environ, observe_now=False), "started": result["started"],
            "already_running": result["already_running"]}


def stop(town: Town, rig: str, *, environ: dict[str, str] | None = None, timeout: float = 30.0,
         forget: bool = True) -> dict:
    """Stop the witness (SIGTERM, then SIGKILL after ``timeout``); ``forget`` clears the wanted marker."""
    environ = dict(os.environ) if environ is None else environ
    return {"rig": rig, **daemonkit.stop(WitnessHome(town, rig).daemon, environ=environ, timeout=timeout,
                                         forget=forget)}


def status(town: Town, rig: str, *, environ: dict[str, str] | None = None, observe_now: bool = True) -> dict:
    """Process, settings, last patrol, totals, and (``observe_now``) what the witness sees right now."""
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = WitnessHome(town, rig)
    doc = read(home.state_path) or {}
    out: dict = {"rig": rig, **daemonkit.process_view(home.daemon, environ)}
    try:
        settings = WitnessSettings.load(town, rig, environ)
        out["settings"] = settings.as_dict()
    except VermasError as exc:
        settings = None
        out["settings"] = {"error": exc.message}
    out["last_patrol"] = doc.get("last_patrol")
    out["last_error"] = doc.get("last_error")
    out["totals"] = doc.get("totals") or {}
    out["blocked"] = sorted(b for b, rec in (doc.get("beads") or {}).items() if rec.get("blocked"))
    if observe_now and settings is not None:
        from vermas.roles.witness.observe import observe
        from vermas.roles.witness.patrol import polecat_rows

        try:
            snap = observe(town, rig, environ=environ)
            out["polecats"] = polecat_rows(snap, Memory(home.state_path, rig), settings)
        except VermasError as exc:
            out["polecats"] = {"error": exc.message}
    return out
