"""Boot: the deacon's watchdog (``vermas boot check|run|start|stop|status``).

Who watches the watcher? The deacon restarts witnesses, refineries and boot; boot restarts
the deacon. Gas Town's daemon logged a stale deacon for 155 hours without restarting it
(gastown#3638); boot is a few lines of deterministic code that does exactly one thing:

* the deacon is wanted (``vermas up`` / ``vermas deacon start`` wrote ``deacon.want``) but no
  process holds its lock → start it;
* it runs but its heartbeat (``<town>/deacon/heartbeat.json``, written every patrol) is older
  than ``deacon.heartbeat_stale`` → it is hung: stop it (SIGTERM, then SIGKILL) and start it;
* restarts follow the deacon's own policy (first at once, then exponential backoff; 5 in 15
  minutes = a crash loop → stop and escalate to the mayor).

``vermas boot check`` does this once (for cron or a systemd timer: ``*/5 * * * * vermas
--town ~/town boot check``); ``vermas boot start`` runs it every ``min(deacon.patrol_interval,
deacon.heartbeat_stale / 2)`` seconds in tmux session ``vm-boot`` (what ``vermas up`` starts).
"""

from __future__ import annotations

import os
import time

from vermas.fileops import FileLock
from vermas.ledger import timefmt
from vermas.roles import daemonkit
from vermas.roles.deacon.settings import BootHome, DeaconHome, DeaconSettings, heartbeat_age, read_json, write_json
from vermas.roles.deacon.tracker import new_entry
from vermas.town import work
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ACTOR = "deacon/boot"
HINT = "'vermas boot status' shows it; 'vermas boot stop' stops it"
HUNG_STOP_GRACE = 5.0  # seconds a silent deacon gets to honour SIGTERM before SIGKILL
START_WAIT = 60.0  # a loaded machine may take a while to bring a daemon up; slower is not failed


def deacon_target(town: Town, environ: dict[str, str]):
    from vermas.roles.deacon import daemon as deacon_daemon
    from vermas.roles.deacon.targets import Target

    home = DeaconHome(town)
    return Target("deacon", home.daemon.label, home.daemon,
                  lambda: deacon_daemon.start(town, environ=environ, by=ACTOR, wait=START_WAIT))


def check(town: Town, *, environ: dict[str, str] | None = None, log: Callable[[str], None] | None = None) -> dict:
    """Look at the deacon once and restart it if it is dead or silent; returns what was seen and done."""
    from vermas.roles.deacon import daemon as deacon_daemon
    from vermas.roles.deacon.supervise import supervise

    environ = dict(os.environ) if environ is None else environ
    log = log or (lambda _line: None)
    settings = DeaconSettings.load(town, environ)
    deacon = DeaconHome(town)
    boot = BootHome(town)
    os.makedirs(boot.dir, exist_ok=True)
    with FileLock(boot.state_path + ".lock", timeout=120.0):
        doc = read_json(boot.state_path)
        entry = doc.setdefault("targets", {}).setdefault("deacon", new_entry())
        pid = daemonkit.running_pid(deacon.daemon)
        age = heartbeat_age(deacon)
        info = daemonkit.read_pidfile(deacon.daemon.pid_path) or {}
        since = timefmt.parse_epoch(info.get("started_at")) if pid else None
        silent_for = age if age is not None else (time.time() - since if since else None)
        wanted = daemonkit.is_wanted(deacon.daemon)
        # only a deacon boot is responsible for (a foreground 'deacon run' is its owner's business)
        stale = wanted and pid is not None and silent_for is not None and silent_for > settings.heartbeat_stale
        seen = {"running": pid is not None, "pid": pid, "wanted": wanted,
                "heartbeat_age_s": round(age, 1) if age is not None else None, "stale": stale,
                "stale_after_s": settings.heartbeat_stale}
        result: dict = {"at": timefmt.now_str(), "deacon": seen, "action": "none", "detail": None}
        if stale:
            log(f"the deacon (pid {pid}) has been silent for {silent_for:.0f}s "
                f"(deacon.heartbeat_stale {settings.heartbeat_stale:g}s): stopping it")
            work.emit(town.beads_dir, "boot.deacon_stale", ACTOR, {"pid": pid, "silent_s": round(silent_for, 1)})
            deacon_daemon.stop(town, environ=environ, timeout=HUNG_STOP_GRACE, forget=False)
        outcome = supervise(deacon_target(town, environ), entry, base=settings.backoff_base, town_root=town.root,
                            actor=ACTOR, log=log)
        if outcome is not None:
            result["action"] = outcome["action"]
            result["detail"] = outcome
        elif pid is None:
            result["action"] = "none"
            result["detail"] = {"reason": "the deacon is not wanted (stopped, or never started): nothing to do"}
        else:
            result["action"] = "ok"
        doc["last_check"] = result
        totals = doc.setdefault("totals", {})
        totals["checks"] = int(totals.get("checks") or 0) + 1
        if result["action"] == "restarted":
            totals["restarts"] = int(totals.get("restarts") or 0) + 1
        write_json(boot.state_path, doc)
    return result


def run(town: Town, *, once: bool = False, environ: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None, max_checks: int | None = None) -> dict:
    """The watchdog loop (``once``: a single check while holding boot's lock)."""
    environ = dict(os.environ) if environ is None else environ
    home = BootHome(town)
    summary: dict = {"checks": 0, "actions": [], "errors": [], "last": None}
    with daemonkit.hold(home.daemon, environ=environ, once=once, hint=HINT) as signals:
        log = daemonkit.RoleLog(home.log_path, echo)
        log(f"boot started (pid {os.getpid()})")

        def patrol() -> float:
            interval = DeaconSettings.load(town, environ).boot_interval
            result = check(town, environ=environ, log=log)
            summary["checks"] += 1
            summary["last"] = result
            if result["action"] not in ("ok", "none"):
                summary["actions"].append(result)
            return interval

        daemonkit.patrol_loop(signals, log, patrol, once=once, interval=60.0, label="check", limit=max_checks,
                              errors=summary["errors"])
        log("boot stopped")
    return summary


def session_env(town: Town, environ: dict[str, str]) -> dict[str, str]:
    return daemonkit.session_env(environ, {"VERMAS_TOWN": town.root, "BD_ACTOR": ACTOR, "GT_ROLE": ACTOR,
                                           "VERMAS_ROLE": "boot", "VERMAS_SESSION": "vm-boot"})


def start(town: Town, *, environ: dict[str, str] | None = None, wait: float = 20.0, by: str = "") -> dict:
    """Start the watchdog in tmux session ``vm-boot`` unless it already runs (idempotent)."""
    environ = dict(os.environ) if environ is None else environ
    home = BootHome(town)
    argv = daemonkit.cli_argv(town.root, "boot", "run")
    result = daemonkit.start(home.daemon, argv, environ=environ, env=session_env(town, environ), wait=wait,
                             by=by or environ.get("BD_ACTOR", ""),
                             hint=f"see {home.log_path}, or run 'vermas boot run' in the foreground")
    return {**status(town, environ=environ), "started": result["started"],
            "already_running": result["already_running"]}


def stop(town: Town, *, environ: dict[str, str] | None = None, timeout: float = 30.0, forget: bool = True) -> dict:
    environ = dict(os.environ) if environ is None else environ
    return daemonkit.stop(BootHome(town).daemon, environ=environ, timeout=timeout, forget=forget)


def status(town: Town, *, environ: dict[str, str] | None = None) -> dict:
    environ = dict(os.environ) if environ is None else environ
    home = BootHome(town)
    doc = read_json(home.state_path)
    return {**daemonkit.process_view(home.daemon, environ), "last_check": doc.get("last_check"),
            "totals": doc.get("totals") or {},
            "deacon_restarts": (doc.get("targets") or {}).get("deacon") or new_entry()}
