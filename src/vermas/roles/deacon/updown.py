"""``vermas up`` / ``vermas down``: every supervision daemon of the town, in order, idempotently.

``up``: boot → deacon → for each rig: witness, refinery → (``--mayor``) the mayor. Each start
is idempotent (a running daemon is reported, a dead session replaced) and marks the daemon
wanted, so from then on the deacon (and boot, for the deacon) keep it running.

``down``: boot first (so it does not restart the deacon), then the deacon (so it does not
restart the others), then every rig's witness and refinery, then (``--mayor``) the mayor and
(``--polecats``) every polecat session — their hooks, worktrees and branches stay, so
``vermas up`` later respawns them where they were. Stopping clears the wanted markers.

Both go on after a failure and report every component; the command exits non-zero if any
component failed.
"""

from __future__ import annotations

import os

from vermas.errors import ConflictError, VermasError
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _row(component: str, status: str, **extra: object) -> dict:
    return {"component": component, "status": status, **extra}


def _started(component: str, fn: Callable[[], dict]) -> dict:
    try:
        result = fn()
    except VermasError as exc:
        return _row(component, "failed", error=exc.message, hint=exc.hint)
    status = "already running" if result.get("already_running") else "started"
    return _row(component, status, pid=result.get("pid"), session=result.get("session"))


def up(town: Town, *, environ: dict[str, str] | None = None, mayor: bool = False, rigs: list[str] | None = None,
       before: Callable[[str], None] | None = None, progress: Callable[[dict], None] | None = None,
       wait: float = 20.0) -> list[dict]:
    """Start everything (see the module docstring); ``before(component)`` / ``progress(row)`` report as it goes."""
    from vermas.roles import boot
    from vermas.roles.deacon import daemon as deacon_daemon
    from vermas.roles.refinery import daemon as refinery_daemon
    from vermas.roles.witness import daemon as witness_daemon
    from vermas.town import rigs as rigs_mod

    environ = dict(os.environ) if environ is None else environ
    by = environ.get("BD_ACTOR") or "overseer"
    names = rigs if rigs is not None else rigs_mod.rig_names(town)
    for name in names:
        rigs_mod.rig_info(town, name)  # an unknown rig fails before anything starts
    steps: list[tuple[str, Callable[[], dict]]] = [
        ("boot", lambda: boot.start(town, environ=environ, wait=wait, by=by)),
        ("deacon", lambda: deacon_daemon.start(town, environ=environ, wait=wait, by=by)),
    ]
    for name in names:
        steps.append((f"{name}/witness", lambda n=name: witness_daemon.start(town, n, environ=environ, wait=wait,
                                                                             by=by)))
        steps.append((f"{name}/refinery", lambda n=name: refinery_daemon.start(town, n, environ=environ, wait=wait,
                                                                               by=by)))
    if mayor:
        steps.append(("mayor", lambda: _start_mayor(town, environ, by)))
    rows = []
    for component, fn in steps:
        if before is not None:
            before(component)
        row = _started(component, fn)
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def _start_mayor(town: Town, environ: dict[str, str], by: str) -> dict:
    from vermas.town import mayor

    try:
        result = mayor.start(town, actor=by, environ=environ)
    except ConflictError:
        status = mayor.status(town, environ)
        return {"already_running": True, "pid": status.get("pid"), "session": status.get("session")}
    return {"started": True, "session": result.get("session")}


def down(town: Town, *, environ: dict[str, str] | None = None, mayor: bool = False, polecats: bool = False,
         rigs: list[str] | None = None, before: Callable[[str], None] | None = None,
         progress: Callable[[dict], None] | None = None, timeout: float = 30.0) -> list[dict]:
    """Stop everything (see the module docstring); ``before(component)`` / ``progress(row)`` report as it goes."""
    from vermas.roles import boot
    from vermas.roles.deacon import daemon as deacon_daemon
    from vermas.roles.refinery import daemon as refinery_daemon
    from vermas.roles.witness import daemon as witness_daemon
    from vermas.town import rigs as rigs_mod

    environ = dict(os.environ) if environ is None else environ
    names = rigs if rigs is not None else rigs_mod.rig_names(town)
    for name in names:
        rigs_mod.rig_info(town, name)
    steps: list[tuple[str, Callable[[], dict]]] = []
    if rigs is None:  # the town daemons only when the whole town goes down
        steps += [("boot", lambda: boot.stop(town, environ=environ, timeout=timeout)),
                  ("deacon", lambda: deacon_daemon.stop(town, environ=environ, timeout=timeout))]
    for name in names:
        steps.append((f"{name}/witness", lambda n=name: witness_daemon.stop(town, n, environ=environ,
                                                                            timeout=timeout)))
        steps.append((f"{name}/refinery", lambda n=name: refinery_daemon.stop(town, n, environ=environ,
                                                                              timeout=timeout)))
    rows: list[dict] = []
    for component, fn in steps:
        if before is not None:
            before(component)
        try:
            result = fn()
        except VermasError as exc:
            row = _row(component, "failed", error=exc.message, hint=exc.hint)
        else:
            if not result.get("was_running"):
                row = _row(component, "not running", session_removed=bool(result.get("session_killed")))
            else:
                row = _row(component, "killed" if result.get("forced") else "stopped", pid=result.get("pid"))
        rows.append(row)
        if progress is not None:
            progress(row)
    if mayor:
        rows.append(_stop_mayor(town, environ))
        if progress is not None:
            progress(rows[-1])
    if polecats:
        for row in _stop_polecats(town, names, environ):
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def _stop_mayor(town: Town, environ: dict[str, str]) -> dict:
    from vermas.town import mayor

    try:
        stopped = mayor.stop(town, actor=environ.get("BD_ACTOR") or "overseer", environ=environ)
    except VermasError as exc:
        return _row("mayor", "failed", error=exc.message)
    return _row("mayor", "stopped" if stopped else "not running")


def _stop_polecats(town: Town, rigs: list[str], environ: dict[str, str]) -> list[dict]:
    """Stop every polecat session; hooks, worktrees and branches stay (the witness respawns them)."""
    from vermas.town import polecats, sessions

    rows = []
    for rig in rigs:
        for state in polecats.all_states(town.rig(rig)):
            session = state.get("session") or f"vm-{rig}-{state['name']}"
            try:
                stopped = sessions.stop_agent(town, session, environ)
            except VermasError as exc:
                rows.append(_row(f"{rig}/polecats/{state['name']}", "failed", error=exc.message))
                continue
            if stopped:
                rows.append(_row(f"{rig}/polecats/{state['name']}", "stopped", bead=state.get("bead")))
    return rows
