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
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import signal
import sys
import threading
import time

from vermas.errors import ConflictError, NotFoundError, VermasError
from vermas.fileops import FileLock, append_line, atomic_write_text
from vermas.ledger import timefmt
from vermas.roles.refinery.journal import read_state
from vermas.roles.refinery.settings import RefineryHome
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

LOG_ROTATE_BYTES = 10 << 20
ERROR_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
SESSION_ENV_PREFIXES = ("VERMAS_", "GT_", "BD_", "GIT_", "BEADS_")
SESSION_ENV_NAMES = ("PATH", "HOME", "XDG_CONFIG_HOME", "PYTHONPATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "TMPDIR")


# ====================================================================== log
class RefineryLog:
    """Timestamped lines appended to ``refinery.log`` (and echoed, e.g. to the tmux pane)."""

    def __init__(self, path: str, echo: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.echo = echo
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            if os.path.getsize(path) > LOG_ROTATE_BYTES:
                os.replace(path, path + ".1")
        except OSError:
            pass

    def __call__(self, message: str) -> None:
        line = f"{timefmt.now_str()} {message}"
        append_line(self.path, line)
        if self.echo is not None:
            self.echo(line)


def tail(path: str, lines: int = 20) -> str:
    from vermas.roles.refinery.stages import read_tail

    return read_tail(path, lines=lines)


# =================================================================== liveness
def lock_held(path: str) -> bool:
    """Is the refinery lock held by a live process? (a shared probe that never blocks the holder)"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_pidfile(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def running_pid(home: RefineryHome) -> int | None:
    """The pid of the live refinery of this rig, or None."""
    if not lock_held(home.lock_path):
        return None
    info = read_pidfile(home.pid_path) or {}
    pid = int(info.get("pid") or 0)
    return pid if pid_alive(pid) else None


# ======================================================================= run
class _Signals:
    """Stop and wake-up flags set from signal handlers, with a self-pipe to interrupt waits."""

    def __init__(self) -> None:
        self.stop = False
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        self._old: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, handler in ((signal.SIGTERM, self._on_stop), (signal.SIGINT, self._on_stop),
                             (signal.SIGUSR1, self._on_wake)):
            self._old[sig] = signal.signal(sig, handler)

    def restore(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._old.clear()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stop = True
        self._poke()

    def _on_wake(self, signum: int, frame: object) -> None:
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._w, b"x")
        except OSError:
            pass

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; return early on a stop or wake-up signal."""
        if self.stop:
            return
        try:
            ready, _w, _x = select.select([self._r], [], [], max(0.0, seconds))
        except InterruptedError:
            return
        if ready:
            try:
                os.read(self._r, 4096)
            except OSError:
                pass


def acquire_lock(home: RefineryHome, *, timeout: float = 3.0) -> FileLock:
    """Take the rig's refinery lock or raise ConflictError naming the running refinery."""
    lock = FileLock(home.lock_path, timeout=timeout)
    try:
        lock.acquire()
    except ConflictError:
        info = read_pidfile(home.pid_path) or {}
        raise ConflictError(
            f"a refinery for rig {home.rig_name} is already running (pid {info.get('pid', '?')}, "
            f"session {info.get('session') or 'none'})",
            hint=f"'vermas refinery status --rig {home.rig_name}' shows it; 'vermas refinery stop' stops it") from None
    return lock


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
    lock = acquire_lock(home)
    signals = _Signals()
    log = RefineryLog(home.log_path, echo)
    pid_doc = {"pid": os.getpid(), "started_at": timefmt.now_str(), "rig": rig, "once": once,
               "session": environ.get("VERMAS_SESSION") or (home.session if environ.get("TMUX") else "")}
    summary: dict = {"rig": rig, "rounds": 0, "merged": [], "rework": [], "parked": [], "stale": [], "errors": []}
    try:
        atomic_write_text(home.pid_path, json.dumps(pid_doc) + "\n")
        signals.install()
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
                ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF)) - 1] if failures else 1.0
            signals.wait(delay)
            if signals.stop:
                break
        log(f"refinery for {rig} stopped")
        return summary
    finally:
        signals.restore()
        info = read_pidfile(home.pid_path)
        if info and info.get("pid") == os.getpid():
            try:
                os.unlink(home.pid_path)
            except OSError:
                pass
        lock.release()


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
    home = RefineryHome(Town(town_root), rig)
    pid = running_pid(home)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return False
    return True


# ==================================================================== tmux
def session_name(rig: str) -> str:
    try:
        from vermas.runtime.naming import session_for_address

        return session_for_address(f"{rig}/refinery")
    except ImportError:  # pragma: no cover - the runtime package is part of the product
        return f"vm-{rig}-refinery"


def _server(environ: dict[str, str]):
    from vermas.runtime.tmux import Server

    return Server(environ=environ)


def session_env(town: Town, rig: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment of the daemon's tmux session (identity plus what git and Python need)."""
    env = {k: v for k, v in environ.items()
           if k in SESSION_ENV_NAMES or k.startswith(SESSION_ENV_PREFIXES)}
    env.update({"VERMAS_TOWN": town.root, "BD_ACTOR": f"{rig}/refinery", "GT_ROLE": f"{rig}/refinery",
                "GT_RIG": rig, "VERMAS_SESSION": session_name(rig)})
    return env


def start(town: Town, rig: str, *, environ: dict[str, str] | None = None, wait: float = 20.0) -> dict:
    """Start the daemon in its tmux session unless it already runs; returns its status."""
    from vermas.town import rigs

    rigs.rig_info(town, rig)
    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)
    pid = running_pid(home)
    if pid is not None:
        return {**status(town, rig, environ=environ), "started": False, "already_running": True}
    os.makedirs(home.dir, exist_ok=True)
    server = _server(environ)
    name = session_name(rig)
    if server.has_session(name):  # a dead pane (remain-on-exit) or a foreign process: no refinery holds the lock
        server.kill_session(name)
    log_size = os.path.getsize(home.log_path) if os.path.exists(home.log_path) else 0
    argv = [sys.executable, "-m", "vermas.cli", "--town", town.root, "refinery", "run", "--rig", rig]
    server.new_session(name, argv, cwd=home.dir, env=session_env(town, rig, environ))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if running_pid(home) is not None:
            return {**status(town, rig, environ=environ), "started": True, "already_running": False}
        if not _session_alive(server, name):
            break
        time.sleep(0.05)
    detail = _new_log_text(home.log_path, log_size) or _pane_text(server, name)
    raise VermasError(f"the refinery for {rig} did not start in session {name}"
                      + (f":\n{detail.strip()[-2000:]}" if detail.strip() else ""),
                      hint=f"see {home.log_path}, or run 'vermas refinery run --rig {rig}' in the foreground")


def _session_alive(server: object, name: str) -> bool:
    try:
        panes = server.list_panes(("pane_dead",), session=name)  # type: ignore[attr-defined]
    except VermasError:
        return False
    return any(p.get("pane_dead") not in (True, "1", 1) for p in panes)


def _pane_text(server: object, name: str) -> str:
    try:
        return server.session(name).pane().capture()  # type: ignore[attr-defined]
    except (VermasError, AttributeError):
        return ""


def _new_log_text(path: str, offset: int) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            return fh.read()
    except OSError:
        return ""


def stop(town: Town, rig: str, *, environ: dict[str, str] | None = None, timeout: float = 30.0) -> dict:
    """Stop the daemon: SIGTERM, wait up to ``timeout``, then SIGKILL; remove its tmux session."""
    from vermas.roles.refinery.stages import kill_leftover_gate

    environ = dict(os.environ) if environ is None else environ
    home = RefineryHome(town, rig)
    info = read_pidfile(home.pid_path) or {}
    pid = int(info.get("pid") or 0)
    result = {"rig": rig, "pid": pid or None, "was_running": lock_held(home.lock_path), "forced": False,
              "session_killed": False}
    if result["was_running"] and pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        if not _wait_released(home, timeout):
            os.kill(pid, signal.SIGKILL)
            result["forced"] = True
            state = read_state(home.state_path) or {}
            attempt = state.get("attempt") or {}
            kill_leftover_gate(int(attempt.get("gate_pgid") or 0), str(attempt.get("gate_marker") or ""))
            if not _wait_released(home, 10.0):
                raise VermasError(f"refinery pid {pid} of rig {rig} did not die after SIGKILL")
    try:
        server = _server(environ)
        name = session_name(rig)
        if server.has_session(name):
            result["session_killed"] = server.kill_session(name)
    except VermasError:
        pass
    if not lock_held(home.lock_path):
        info = read_pidfile(home.pid_path)
        if info is not None:
            try:
                os.unlink(home.pid_path)
            except OSError:
                pass
    return result


def _wait_released(home: RefineryHome, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_held(home.lock_path):
            return True
        time.sleep(0.05)
    return not lock_held(home.lock_path)


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
    try:
        session_exists = _server(environ).has_session(name)
    except (VermasError, ImportError):
        session_exists = False
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
