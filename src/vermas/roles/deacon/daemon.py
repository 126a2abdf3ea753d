"""The deacon as a long-running process: ``vermas deacon run|start|stop|status|clear-backoff``.

One deacon per town: ``<town>/deacon/deacon.lock`` is held for the process's life. It patrols
every ``deacon.patrol_interval`` seconds (or at once on SIGUSR1). ``start`` runs it in tmux
session ``vm-deacon`` and marks it wanted (boot restarts a wanted deacon that died or whose
heartbeat went stale); ``stop`` clears the marker.
"""

from __future__ import annotations

import os

from vermas.errors import NotFoundError, VermasError
from vermas.ledger import timefmt
from vermas.roles import daemonkit
from vermas.roles.deacon.settings import DeaconHome, DeaconSettings, heartbeat_age, read_json, write_json
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

HINT = "'vermas deacon status' shows it; 'vermas deacon stop' stops it"


def run(town: Town, *, once: bool = False, environ: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None, max_patrols: int | None = None) -> dict:
    """Patrol the town in this process (``once``: one patrol, then return its report)."""
    from vermas.roles.deacon.patrol import Deacon

    environ = dict(os.environ) if environ is None else environ
    home = DeaconHome(town)
    summary: dict = {"patrols": 0, "actions": [], "errors": [], "last": None}
    with daemonkit.hold(home.daemon, environ=environ, once=once, hint=HINT) as signals:
        log = daemonkit.RoleLog(home.log_path, echo)
        log(f"deacon started (pid {os.getpid()}{', once' if once else ''})")
        deacon = Deacon(town, environ=environ, log=log)

        def patrol() -> float:
            settings = deacon.settings()
            report = deacon.patrol(settings)
            summary["patrols"] += 1
            summary["last"] = report
            summary["actions"].extend(report["actions"])
            summary["errors"].extend(report["errors"])
            return settings.patrol_interval

        daemonkit.patrol_loop(signals, log, patrol, once=once, interval=60.0, limit=max_patrols,
                              errors=summary["errors"], on_error=lambda m, _h: _record_error(home, m))
        log("deacon stopped")
    return summary


def _record_error(home: DeaconHome, message: str) -> None:
    doc = read_json(home.state_path)
    doc["last_error"] = {"at": timefmt.now_str(), "message": message}
    try:
        write_json(home.state_path, doc)
    except OSError:
        pass


def session_env(town: Town, environ: dict[str, str]) -> dict[str, str]:
    return daemonkit.session_env(environ, {"VERMAS_TOWN": town.root, "BD_ACTOR": "deacon", "GT_ROLE": "deacon",
                                           "VERMAS_ROLE": "deacon", "VERMAS_SESSION": "vm-deacon"})


def start(town: Town, *, environ: dict[str, str] | None = None, wait: float = 20.0, by: str = "") -> dict:
    """Start the deacon in tmux session ``vm-deacon`` unless it already runs (idempotent)."""
    environ = dict(os.environ) if environ is None else environ
    home = DeaconHome(town)
    DeaconSettings.load(town, environ)
    argv = daemonkit.cli_argv(town.root, "deacon", "run")
    result = daemonkit.start(home.daemon, argv, environ=environ, env=session_env(town, environ), wait=wait,
                             by=by or environ.get("BD_ACTOR", ""),
                             hint=f"see {home.log_path}, or run 'vermas deacon run' in the foreground")
    return {**status(town, environ=environ), "started": result["started"],
            "already_running": result["already_running"]}


def stop(town: Town, *, environ: dict[str, str] | None = None, timeout: float = 30.0, forget: bool = True) -> dict:
    environ = dict(os.environ) if environ is None else environ
    return daemonkit.stop(DeaconHome(town).daemon, environ=environ, timeout=timeout, forget=forget)


def kick(town: Town) -> bool:
    return daemonkit.wake(DeaconHome(town).daemon)


def status(town: Town, *, environ: dict[str, str] | None = None) -> dict:
    """Process, heartbeat, settings, supervised daemons with their restart records, last patrol."""
    from vermas.roles.deacon.targets import all_targets
    from vermas.roles.deacon.tracker import WINDOW, new_entry, prune

    environ = dict(os.environ) if environ is None else environ
    home = DeaconHome(town)
    doc = read_json(home.state_path)
    out: dict = {"town": town.root, **daemonkit.process_view(home.daemon, environ)}
    try:
        settings = DeaconSettings.load(town, environ)
        out["settings"] = settings.as_dict()
        stale_after = settings.heartbeat_stale
    except VermasError as exc:
        out["settings"] = {"error": exc.message}
        stale_after = None
    age = heartbeat_age(home)
    out["heartbeat"] = {"path": home.heartbeat_path, "age_s": round(age, 1) if age is not None else None,
                        "stale": bool(stale_after and (age is None or age > stale_after)) if out["running"] else None}
    import time

    now = time.time()
    rows = []
    for target in all_targets(town, environ):
        entry = dict((doc.get("targets") or {}).get(target.key) or new_entry())
        recent = prune(entry, now)
        rows.append({"target": target.key, "running": daemonkit.running_pid(target.home) is not None,
                     "pid": daemonkit.running_pid(target.home), "wanted": daemonkit.is_wanted(target.home),
                     "restarts_recent": len(recent), "window_s": WINDOW, "crash_loop": bool(entry.get("crash_loop")),
                     "escalation": entry.get("escalation"), "last_error": entry.get("last_error"),
                     "last_restart": entry.get("last_restart")})
    out["supervised"] = rows
    out["last_patrol"] = doc.get("last_patrol")
    out["last_error"] = doc.get("last_error")
    out["totals"] = doc.get("totals") or {}
    return out


def clear_backoff(town: Town, target: str | None = None) -> list[str]:
    """Forget restart records (all, or one target's), so crash-looped daemons are restarted again."""
    from vermas.fileops import FileLock

    home = DeaconHome(town)
    with FileLock(home.state_path + ".lock", timeout=300.0):
        doc = read_json(home.state_path)
        targets = doc.setdefault("targets", {})
        if target is not None and target not in targets:
            known = ", ".join(sorted(targets)) or "none"
            raise NotFoundError(f"the deacon has no restart record for {target!r} (records: {known})",
                                hint="'vermas deacon status' lists the supervised daemons")
        cleared = [target] if target else sorted(targets)
        for key in cleared:
            targets.pop(key, None)
        write_json(home.state_path, doc)
    return cleared
