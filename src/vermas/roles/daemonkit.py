"""What every supervision daemon shares: lock, pidfile, signals, log, tmux session, wanted marker.

The refinery, the witness, the deacon and boot are long-running Python processes, each in
its own tmux session. They all follow one pattern, implemented here once:

* **One instance**: the daemon holds ``<name>.lock`` (``flock``) for its whole life; the
  kernel releases it when the process dies, so a SIGKILL never leaves a stale lock. The
  pidfile ``<name>.pid`` only says who holds it; "running" means *the lock is held and the
  pid is alive*.
* **Signals**: ``SIGTERM``/``SIGINT`` ask for a graceful stop, ``SIGUSR1`` wakes the loop
  (:func:`wake`). Handlers are installed *before* the lock is taken, so a process that can
  be seen running can always take a wake-up (SIGUSR1's default action would kill it).
* **Sessions**: :func:`start` launches ``argv`` in tmux session ``vm-…`` (``remain-on-exit``,
  so a crash leaves its last output) and waits until the daemon holds its lock; concurrent
  starters are serialised by ``<name>.start.lock``, so ``vermas up``, the deacon and boot
  never race each other into duplicate sessions. :func:`stop` sends SIGTERM, waits, then
  SIGKILLs, and removes the session.
* **Wanted marker** ``<name>.want``: written by :func:`start`, removed by :func:`stop`. The
  deacon restarts only daemons that are wanted but not running — a daemon a human stopped
  stays stopped; one that died (SIGKILL, crash) comes back.
* **Log**: timestamped lines in ``<name>.log`` (echoed to the pane), rotated above 10 MB.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import signal
import sys
import threading
import time

from vermas.errors import ConflictError, VermasError
from vermas.fileops import FileLock, append_line, atomic_write_text
from vermas.ledger import timefmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

LOG_ROTATE_BYTES = 10 << 20
SESSION_ENV_PREFIXES = ("VERMAS_", "GT_", "BD_", "GIT_", "BEADS_")
SESSION_ENV_NAMES = ("PATH", "HOME", "XDG_CONFIG_HOME", "PYTHONPATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "TMPDIR")
# Identity variables of the *caller* that must not leak into a daemon started on its behalf
# (a polecat running 'vermas up' must not start a witness that believes it is that polecat).
_CALLER_IDENTITY = ("BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW", "GT_SESSION", "GT_DOG_NAME", "BEAD_ID",
                    "BEADS_DIR", "VERMAS_AGENT", "VERMAS_SESSION", "VERMAS_SPAWN_ID", "VERMAS_INCARNATION",
                    "VERMAS_SESSION_ID", "VERMAS_RUNTIME", "VERMAS_ROLE")


# ====================================================================== home
class DaemonHome:
    """Where one daemon keeps its files, what it is called, and which tmux session it runs in."""

    def __init__(self, *, kind: str, label: str, directory: str, session: str, actor: str,
                 rig: str | None = None, basename: str | None = None) -> None:
        base = basename or kind
        self.kind = kind          # refinery | witness | deacon | boot
        self.label = label        # "the witness of app"
        self.dir = directory
        self.session = session
        self.actor = actor        # the daemon's agent address (ledger actor, mail sender)
        self.rig = rig
        self.lock_path = os.path.join(directory, f"{base}.lock")
        self.pid_path = os.path.join(directory, f"{base}.pid")
        self.log_path = os.path.join(directory, f"{base}.log")
        self.want_path = os.path.join(directory, f"{base}.want")
        self.start_lock_path = os.path.join(directory, f"{base}.start.lock")

    def __repr__(self) -> str:
        return f"DaemonHome({self.kind!r}, {self.dir!r})"


# ====================================================================== log
class RoleLog:
    """Timestamped lines appended to a log file (and echoed, e.g. to the tmux pane)."""

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


def tail_file(path: str, lines: int = 20, max_bytes: int = 64 << 10) -> str:
    """The last ``lines`` lines of a text file ('' when missing)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


# =================================================================== liveness
def lock_held(path: str) -> bool:
    """Is this lock file held by a live process? (a shared probe that never blocks the holder)"""
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
    """The process exists and is not a zombie (killed, not yet reaped by its parent)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def running_pid(home: DaemonHome) -> int | None:
    """The pid of the live daemon of ``home``, or None."""
    if not lock_held(home.lock_path):
        return None
    info = read_pidfile(home.pid_path) or {}
    try:
        pid = int(info.get("pid") or 0)
    except (TypeError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def cmdline_mentions(pid: int, word: str) -> bool:
    """Does the process's command line contain ``word``? (True when /proc cannot tell)"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return word.encode() in fh.read()
    except OSError:
        return True


def wake(home: DaemonHome) -> bool:
    """Wake the running daemon's loop now (SIGUSR1); False when none runs.

    The pid must belong to a process holding the lock whose command line names the
    daemon's kind, so a recycled pid from a stale pidfile is never signalled.
    """
    pid = running_pid(home)
    if pid is None or not cmdline_mentions(pid, home.kind):
        return False
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return False
    return True


# ====================================================================== signals
class Signals:
    """Stop and wake-up flags set from signal handlers, with a self-pipe to interrupt waits."""

    def __init__(self) -> None:
        self.stop = False
        self.woken = False
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
        self.woken = True
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
        self.woken = False


def acquire_lock(home: DaemonHome, *, timeout: float = 3.0, hint: str = "") -> FileLock:
    """Take the daemon's lock or raise ConflictError (exit 5) naming the running instance."""
    os.makedirs(home.dir, exist_ok=True)
    lock = FileLock(home.lock_path, timeout=timeout)
    try:
        lock.acquire()
    except ConflictError:
        info = read_pidfile(home.pid_path) or {}
        raise ConflictError(f"{home.label} is already running (pid {info.get('pid', '?')}, "
                            f"session {info.get('session') or 'none'})", hint=hint or None) from None
    return lock


@contextlib.contextmanager
def hold(home: DaemonHome, *, environ: dict[str, str], once: bool = False, hint: str = "",
         extra: dict | None = None) -> Iterator[Signals]:
    """Be the daemon of ``home`` for the duration: signals, lock, pidfile (removed on the way out)."""
    signals = Signals()
    signals.install()  # before the lock: whoever sees us running may send SIGUSR1 at once
    try:
        lock = acquire_lock(home, hint=hint)
    except BaseException:
        signals.restore()
        raise
    try:
        doc = {"pid": os.getpid(), "started_at": timefmt.now_str(), "kind": home.kind, "once": once,
               "session": environ.get("VERMAS_SESSION") or (home.session if environ.get("TMUX") else "")}
        if home.rig:
            doc["rig"] = home.rig
        doc.update(extra or {})
        atomic_write_text(home.pid_path, json.dumps(doc) + "\n")
        yield signals
    finally:
        signals.restore()
        info = read_pidfile(home.pid_path)
        if info and info.get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(home.pid_path)
        lock.release()


# ====================================================================== wanted marker
def set_wanted(home: DaemonHome, wanted: bool, *, by: str = "") -> None:
    """Record whether the daemon should be running (the deacon restarts only wanted ones)."""
    if wanted:
        os.makedirs(home.dir, exist_ok=True)
        atomic_write_text(home.want_path, json.dumps({"since": timefmt.now_str(), "by": by}) + "\n", durable=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(home.want_path)


def is_wanted(home: DaemonHome) -> bool:
    return os.path.exists(home.want_path)


# ====================================================================== tmux
def server(environ: dict[str, str]):
    from vermas.runtime.tmux import Server

    return Server(environ=environ)


def session_env(environ: dict[str, str], identity: dict[str, str]) -> dict[str, str]:
    """The environment of a daemon's tmux session: what git and Python need, plus its identity."""
    env = {k: v for k, v in environ.items()
           if (k in SESSION_ENV_NAMES or k.startswith(SESSION_ENV_PREFIXES)) and k not in _CALLER_IDENTITY}
    env.update(identity)
    return env


def session_alive(srv: object, name: str) -> bool:
    try:
        panes = srv.list_panes(("pane_dead",), session=name)  # type: ignore[attr-defined]
    except VermasError:
        return False
    return any(p.get("pane_dead") not in (True, "1", 1) for p in panes)


def session_exists(home: DaemonHome, environ: dict[str, str]) -> bool:
    try:
        return server(environ).has_session(home.session)
    except (VermasError, ImportError):
        return False


def _pane_text(srv: object, name: str) -> str:
    try:
        return srv.session(name).pane().capture()  # type: ignore[attr-defined]
    except (VermasError, AttributeError):
        return ""


def _new_log_text(path: str, offset: int) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            return fh.read()
    except OSError:
        return ""


def cli_argv(town_root: str, *args: str) -> list[str]:
    """``python -m vermas.cli --town <town> <args>``: how a daemon session runs its command."""
    return [sys.executable, "-m", "vermas.cli", "--town", town_root, *args]


def start(home: DaemonHome, argv: list[str], *, environ: dict[str, str], env: dict[str, str],
          wait: float = 20.0, remember: bool = True, by: str = "", hint: str = "") -> dict:
    """Start ``argv`` in the daemon's tmux session unless it already runs (idempotent).

    Returns ``{"pid", "session", "started", "already_running"}``; raises VermasError with
    the log or the pane's last output when the daemon does not come up within ``wait``.
    """
    os.makedirs(home.dir, exist_ok=True)
    if remember:
        set_wanted(home, True, by=by)
    with FileLock(home.start_lock_path, timeout=wait + 10.0):
        pid = running_pid(home)
        if pid is not None:
            return {"pid": pid, "session": home.session, "started": False, "already_running": True}
        srv = server(environ)
        if srv.has_session(home.session):  # a dead pane (remain-on-exit) or a foreign process: no lock holder
            srv.kill_session(home.session)
        log_size = os.path.getsize(home.log_path) if os.path.exists(home.log_path) else 0
        srv.new_session(home.session, argv, cwd=home.dir, env=env)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            pid = running_pid(home)
            if pid is not None:
                return {"pid": pid, "session": home.session, "started": True, "already_running": False}
            if not session_alive(srv, home.session):
                # it may have taken the lock and died in the same breath: one last look
                break
            time.sleep(0.05)
        pid = running_pid(home)
        if pid is not None:
            return {"pid": pid, "session": home.session, "started": True, "already_running": False}
        detail = _new_log_text(home.log_path, log_size) or _pane_text(srv, home.session)
    raise VermasError(f"{home.label} did not start in session {home.session}"
                      + (f":\n{detail.strip()[-2000:]}" if detail.strip() else ""),
                      hint=hint or f"see {home.log_path}")


def stop(home: DaemonHome, *, environ: dict[str, str], timeout: float = 30.0, forget: bool = True,
         on_force: Callable[[], None] | None = None) -> dict:
    """Stop the daemon: SIGTERM, wait up to ``timeout``, then SIGKILL; remove its tmux session.

    Returns ``{"pid", "was_running", "forced", "session_killed"}``. ``on_force`` runs after a
    SIGKILL (e.g. to kill a gate process group the daemon left behind).
    """
    if forget:
        set_wanted(home, False)
    info = read_pidfile(home.pid_path) or {}
    try:
        pid = int(info.get("pid") or 0)
    except (TypeError, ValueError):
        pid = 0
    result = {"pid": pid or None, "was_running": lock_held(home.lock_path), "forced": False, "session_killed": False}
    if result["was_running"] and pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        if not wait_released(home, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            result["forced"] = True
            if on_force is not None:
                on_force()
            if not wait_released(home, 10.0):
                raise VermasError(f"{home.label} (pid {pid}) did not die after SIGKILL")
    try:
        srv = server(environ)
        if srv.has_session(home.session):
            result["session_killed"] = srv.kill_session(home.session)
    except VermasError:
        pass
    if not lock_held(home.lock_path) and read_pidfile(home.pid_path) is not None:
        with contextlib.suppress(OSError):
            os.unlink(home.pid_path)
    return result


def wait_released(home: DaemonHome, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_held(home.lock_path):
            return True
        time.sleep(0.05)
    return not lock_held(home.lock_path)


def process_view(home: DaemonHome, environ: dict[str, str]) -> dict:
    """The process part of every daemon's ``status``: running, pid, since, session, wanted, log."""
    info = read_pidfile(home.pid_path) or {}
    pid = running_pid(home)
    return {"running": pid is not None, "pid": pid,
            "started_at": info.get("started_at") if pid is not None else None,
            "session": home.session, "session_exists": session_exists(home, environ),
            "wanted": is_wanted(home), "log": home.log_path}


# ====================================================================== loop
def backoff_delay(failures: int, steps: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)) -> float:
    """Wait after ``failures`` consecutive failed passes (1, 2, 5, 10, 30, 60 s)."""
    return steps[min(failures, len(steps)) - 1] if failures > 0 else 0.0


def patrol_loop(signals: Signals, log: RoleLog, patrol: Callable[[], float], *, once: bool,
                interval: float, label: str = "patrol", limit: int | None = None,
                errors: list[str] | None = None,
                on_error: Callable[[str, str | None], None] | None = None) -> int:
    """Run ``patrol`` (it returns the seconds until the next one) until stopped; return the passes done.

    A failing pass is logged, appended to ``errors``, handed to ``on_error(message, hint)`` and
    retried after an exponential backoff capped at the patrol interval; with ``once`` the error
    propagates. ``limit`` stops after that many successful passes (tests).
    """
    failures = passes = 0
    while True:
        try:
            interval = patrol()
            passes += 1
            failures = 0
        except Exception as exc:
            if isinstance(exc, VermasError):
                message, hint = exc.message, exc.hint
                log(f"{label} failed: {message}" + (f" (hint: {hint})" if hint else ""))
            else:
                import traceback

                message, hint = f"{type(exc).__name__}: {exc}", None
                log(f"{label} failed: {message}\n{traceback.format_exc()}")
            failures += 1
            if errors is not None:
                errors.append(message)
            if on_error is not None:
                on_error(message, hint)
            if once:
                raise
        if once or signals.stop or (limit is not None and passes >= limit):
            return passes
        signals.wait(min(interval, backoff_delay(failures)) if failures else interval)
        if signals.stop:
            return passes
