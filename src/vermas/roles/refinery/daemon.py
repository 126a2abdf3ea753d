"""The refinery as a long-running process: lock, pidfile, loop, signals; start/stop/status in tmux.

``vermas refinery run --rig R`` is the process; ``vermas refinery start`` launches it in the
tmux session ``vm-<rig>-refinery`` (idempotent) and waits until it holds its lock.

* **One refinery per rig**: ``<rig>/refinery/refinery.lock`` is held (``flock``) for the
  process's lifetime; the kernel releases it when the process dies, so a SIGKILL never
  leaves a stale lock. The pidfile only says who holds it.
* **Loop**: recover the journal's attempt (if any), drain the queue, wait
  ``merge.poll_interval`` seconds or until woken (``SIGUSR1``, sent by :func:`kick`).
  Settings and stages are re-read every pass, so ``vermas config set`` needs no restart.
* **Stop**: ``SIGTERM``/``SIGINT`` ask for a graceful stop: a running gate is killed and its
  attempt discarded (nothing moved), outcomes already under way finish. :func:`stop` sends
  SIGTERM, waits, then SIGKILLs (safe: the journal makes any point of death recoverable).
* **Supervision**: ``start`` marks the refinery *wanted* (``refinery.want``) and ``stop``
  clears it; the deacon restarts a wanted refinery that died. Lock, pidfile, signals and
  the tmux session come from :mod:`vermas.roles.daemonkit`, shared with the witness,
  deacon and boot.
"""

from __future__ import annotations

import os

from vermas.errors import NotFoundError, VermasError
from vermas.ledger import timefmt
from vermas.roles import daemonkit
from vermas.roles.daemonkit import RoleLog, Signals, lock_held, pid_alive, read_pidfile  # noqa: F401 (re-exported)
from vermas.roles.refinery.journal import read_state
from vermas.roles.refinery.settings import RefineryHome
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ERROR_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
RefineryLog = RoleLog  # the refinery's log is the shared daemon log
_Signals = Signals


def tail(path: str, lines: int = 20) -> str:
    from vermas.roles.refinery.stages import read_tail

    return read_tail(path, lines=lines)


def daemon_home(home: RefineryHome) -> daemonkit.DaemonHome:
    """The refinery's files in the shared daemon layout (``refinery.lock``/``.pid``/``.log``/``.want``)."""
    return daemonkit.DaemonHome(kind="refinery", label=f"the refinery of rig {home.rig_name}", directory=home.dir,
                                session=session_name(home.rig_name), actor=home.actor, rig=home.rig_name)


def running_pid(home: RefineryHome) -> int | None:
    """The pid of the live refinery of this rig, or None."""
    return daemonkit.running_pid(daemon_home(home))


def _hint(rig: str) -> str:
    return f"'vermas refinery status --rig {rig}' shows it; 'vermas refinery stop --rig {rig}' stops it"


def acquire_lock(home: RefineryHome, *, timeout: float = 3.0):
    """Take the rig's refinery lock or raise ConflictError naming the running refinery."""
    return daemonkit.acquire_lock(daemon_home(home), timeout=timeout, hint=_hint(home.rig_name))


def run(town: Town, rig: str, *, once: bool = False, environ: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None, max_rounds: int | None = None) -> dict:
    """Run the refinery of ``rig`` in this process (``once``: drain the queue and return)."""
    from vermas.roles.refinery.engine import Refinery
    from vermas.roles.refinery.stages import StageInterrupted
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)
    os.makedirs(home.dir, exist_ok=True)
    summary: dict = {"rig": rig, "rounds": 0, "merged": [], "rework": [], "parked": [], "stale": [], "errors": []}
    with daemonkit.hold(daemon_home(home), environ=environ, once=once, hint=_hint(rig)) as signals:
        log = RefineryLog(home.log_path, echo)
        log(f"refinery for {rig} started (pid {os.getpid()}{', once' if once else ''})")
        failures = 0
        while True:
            refinery = None
            try:
                refinery = Refinery(town, rig, environ=environ, log=log, should_stop=lambda: signals.stop)
                if refinery.journal.attempt:
                    refinery.recover()
                for report in refinery.drain(max_rounds=max_rounds):
                    summary["rounds"] += 1
                    for key, values in (("merged", report.merged), ("rework", report.rework),
                                        ("parked", report.parked), ("stale", report.stale)):
                        summary[key].extend(values)
                    if report.error:
                        summary["errors"].append(report.error)
                failures = 0
                if refinery.journal.doc.pop("last_error", None) is not None:  # this pass went through
                    refinery.journal.write()
            except StageInterrupted:
                pass
            except VermasError as exc:
                failures += 1
                summary["errors"].append(exc.message)
                log(f"error: {exc.message}" + (f" (hint: {exc.hint})" if exc.hint else ""))
                _record_error(home, exc.message, exc.hint)
                if once:
                    raise
            except Exception as exc:
                import traceback

                failures += 1
                summary["errors"].append(f"{type(exc).__name__}: {exc}")
                log(f"unexpected error: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                _record_error(home, f"{type(exc).__name__}: {exc}", None)
                if once:
                    raise
            finally:
                if refinery is not None:
                    refinery.close()
            if once or signals.stop:
                break
            delay = refinery.settings.poll_interval if (refinery is not None and failures == 0) else \
                daemonkit.backoff_delay(failures, ERROR_BACKOFF) if failures else 1.0
            signals.wait(delay)
            if signals.stop:
                break
        log(f"refinery for {rig} stopped")
        return summary


def _record_error(home: RefineryHome, message: str, hint: str | None) -> None:
    """Make a failing pass visible in ``refinery status`` (not only in the log)."""
    from vermas.roles.refinery.journal import Journal

    try:
        journal = Journal(home.state_path, home.rig_name)
        journal.doc["last_error"] = {"at": timefmt.now_str(), "message": message, "hint": hint}
        journal.write()
    except VermasError:
        pass


def kick(town_root: str, rig: str) -> bool:
    """Wake the rig's running refinery now (e.g. right after ``vermas done``); False if none runs."""
    return daemonkit.wake(daemon_home(RefineryHome(Town(town_root), rig)))


# ==================================================================== tmux
def session_name(rig: str) -> str:
    try:
        from vermas.runtime.naming import session_for_address

        return session_for_address(f"{rig}/refinery")
    except ImportError:  # pragma: no cover - the runtime package is part of the product
        return f"vm-{rig}-refinery"


def session_env(town: Town, rig: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment of the daemon's tmux session (identity plus what git and Python need)."""
    return daemonkit.session_env(environ, {"VERMAS_TOWN": town.root, "BD_ACTOR": f"{rig}/refinery",
                                           "GT_ROLE": f"{rig}/refinery", "GT_RIG": rig,
                                           "VERMAS_SESSION": session_name(rig)})


def start(town: Town, rig: str, *, environ: dict[str, str] | None = None, wait: float = 20.0,
          by: str = "") -> dict:
    """Start the daemon in its tmux session unless it already runs; returns its status.

    Marks the refinery *wanted*, so the deacon restarts it if it dies.
    """
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)
    argv = daemonkit.cli_argv(town.root, "refinery", "run", "--rig", rig)
    result = daemonkit.start(daemon_home(home), argv, environ=environ, env=session_env(town, rig, environ),
                             wait=wait, by=by or environ.get("BD_ACTOR", ""),
                             hint=f"see {home.log_path}, or run 'vermas refinery run --rig {rig}' in the foreground")
    return {**status(town, rig, environ=environ), "started": result["started"],
            "already_running": result["already_running"]}


def stop(town: Town, rig: str, *, environ: dict[str, str] | None = None, timeout: float = 30.0,
         forget: bool = True) -> dict:
    """Stop the daemon: SIGTERM, wait up to ``timeout``, then SIGKILL; remove its tmux session.

    ``forget`` (default) also clears the wanted marker, so the deacon leaves it stopped.
    """
    from vermas.roles.refinery.stages import kill_leftover_gate

    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)

    def after_kill() -> None:
        state = read_state(home.state_path) or {}
        attempt = state.get("attempt") or {}
        kill_leftover_gate(int(attempt.get("gate_pgid") or 0), str(attempt.get("gate_marker") or ""))

    result = daemonkit.stop(daemon_home(home), environ=environ, timeout=timeout, forget=forget, on_force=after_kill)
    return {"rig": rig, **result}


def status(town: Town, rig: str, *, environ: dict[str, str] | None = None) -> dict:
    """Everything ``refinery status`` shows: process, session, queue, current attempt, last result."""
    from vermas.ledger.store import Ledger
    from vermas.roles.refinery import queue
    from vermas.roles.refinery.settings import RefinerySettings
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)
    info = read_pidfile(home.pid_path) or {}
    pid = running_pid(home)
    state = read_state(home.state_path) or {}
    attempt = state.get("attempt")
    name = session_name(rig)
    session_exists = daemonkit.session_exists(daemon_home(home), environ)
    settings_doc: dict = {}
    try:
        settings = RefinerySettings.load(town, rig, environ)
        settings_doc = {"strategy": settings.strategy, "batch_size": settings.batch_size, "mode": settings.mode,
                        "push_upstream": settings.push_upstream, "poll_interval": settings.poll_interval,
                        "gates": [n for n, _c in settings.gates]}
    except VermasError as exc:
        settings_doc = {"error": exc.message}
    try:
        with Ledger.open(home.rig.beads_dir) as ledger:
            view = queue.scan(ledger, home.repo, actor=home.actor, town_root=town.root,
                              in_flight=tuple((attempt or {}).get("mrs", []) if pid is not None else ()))
        queue_doc = {"depth": view.depth, "ready": len(view.ready), "in_progress": len(view.in_progress),
                     "parked": [m.id for m in view.parked], "pr_open": [m.id for m in view.pr_open],
                     "blocked": len(view.blocked), "stale": len(view.stale)}
    except NotFoundError as exc:
        queue_doc = {"error": exc.message}
    return {
        "rig": rig,
        "running": pid is not None,
        "pid": pid,
        "started_at": info.get("started_at") if pid is not None else None,
        "session": name,
        "session_exists": session_exists,
        "wanted": daemonkit.is_wanted(daemon_home(home)),
        "queue": queue_doc,
        "current": _attempt_view(attempt),
        "interrupted": pid is None and bool(attempt),
        "last_result": state.get("last_result"),
        "last_error": state.get("last_error"),
        "totals": state.get("totals") or {},
        "settings": settings_doc,
        "log": home.log_path,
    }


def _attempt_view(attempt: dict | None) -> dict | None:
    if not attempt:
        return None
    return {k: attempt.get(k) for k in ("id", "phase", "target", "mrs", "stage", "base", "tip", "started_at")}
