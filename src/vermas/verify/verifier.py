"""The verifier (no LLM): run every criterion's command in the snapshot, with its timeout.

Each command runs as ``bash -c <verify_command>`` (``/bin/sh`` when bash is missing) in the
snapshot's directory, in its own session/process group, stdin from ``/dev/null``, with a
scrubbed environment (:func:`criteria_env`). On timeout the whole process group gets
SIGTERM, then SIGKILL after 2 s; after a normal exit the group is SIGKILLed too, so
background leftovers die and the pipes close. stdout and stderr are captured bounded (the
first 4 KiB and the last 12 KiB of each, with the total byte count).

Statuses: ``pass`` (exit code as expected), ``fail``, ``timeout``, ``error`` (could not run),
``flaky`` (failed, then passed when re-run once on the same commit: the evidence is
inconsistent), ``pending`` (a subjective criterion: its command only gathers evidence and the
auditor decides).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from vermas.verify.criteria import Criterion

HEAD_BYTES = 4096
TAIL_BYTES = 12288
KILL_GRACE = 2.0
PASS, FAIL, TIMEOUT, ERROR, FLAKY, PENDING = "pass", "fail", "timeout", "error", "flaky", "pending"
ENV_KEEP = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
            "VIRTUAL_ENV", "JAVA_HOME", "GOROOT", "GOPATH", "CARGO_HOME", "RUSTUP_HOME", "NODE_PATH", "SHELL",
            "USER", "LOGNAME")


class Interrupted(Exception):
    """The run was asked to stop (the refinery is stopping)."""


@dataclass
class CriterionResult:
    criterion_id: str
    description: str
    objective: bool
    command: str
    expected_exit_code: int
    timeout_seconds: float
    status: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    duration_ms: float = 0.0
    error: str = ""
    hint: str = ""
    attempts: list[dict] = field(default_factory=list)
    audit: dict | None = None  # the auditor's finding (subjective criteria)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict:
        out = {"id": self.criterion_id, "description": self.description, "objective": self.objective,
               "verify_command": self.command, "expected_exit_code": self.expected_exit_code,
               "timeout_seconds": self.timeout_seconds, "status": self.status, "exit_code": self.exit_code,
               "stdout": self.stdout, "stderr": self.stderr, "stdout_bytes": self.stdout_bytes,
               "stderr_bytes": self.stderr_bytes, "duration_ms": round(self.duration_ms, 1)}
        for key in ("error", "hint"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if len(self.attempts) > 1:
            out["attempts"] = self.attempts
        if self.audit is not None:
            out["audit"] = self.audit
        return out

    @classmethod
    def from_dict(cls, data: dict) -> CriterionResult:
        return cls(criterion_id=data["id"], description=data.get("description", ""),
                   objective=bool(data.get("objective", True)), command=data.get("verify_command", ""),
                   expected_exit_code=int(data.get("expected_exit_code", 0)),
                   timeout_seconds=float(data.get("timeout_seconds", 60)), status=data.get("status", ERROR),
                   exit_code=data.get("exit_code"), stdout=data.get("stdout", ""), stderr=data.get("stderr", ""),
                   stdout_bytes=int(data.get("stdout_bytes", 0)), stderr_bytes=int(data.get("stderr_bytes", 0)),
                   duration_ms=float(data.get("duration_ms", 0.0)), error=data.get("error", ""),
                   hint=data.get("hint", ""), attempts=list(data.get("attempts") or []), audit=data.get("audit"))


class _Capture(threading.Thread):
    """Read a pipe to EOF keeping the first and last bytes only."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.total = 0

    def run(self) -> None:
        read = self.stream.read1 if hasattr(self.stream, "read1") else self.stream.read
        try:
            while True:
                chunk = read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = HEAD_BYTES - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    self.tail.append(chunk)
                    self.tail_size += len(chunk)
                    while self.tail_size - len(self.tail[0]) >= TAIL_BYTES:
                        self.tail_size -= len(self.tail.popleft())
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        tail = b"".join(self.tail)[-TAIL_BYTES:]
        omitted = self.total - len(self.head) - len(tail)
        data = bytes(self.head) + (f"\n… [{omitted} bytes omitted] …\n".encode() if omitted > 0 else b"") + tail
        return data.decode("utf-8", "replace")


def shell() -> list[str]:
    bash = shutil.which("bash")
    return [bash, "-c"] if bash else ["/bin/sh", "-c"]


def criteria_env(workdir: str, home: str, *, extra: dict[str, str] | None = None,
                 environ: dict[str, str] | None = None) -> dict[str, str]:
    """What a criterion sees: a kept subset of the environment (``ENV_KEEP``, ``LC_*``), a private HOME,
    the venv's bin first on PATH; never the town's identity, ledger, tmux, git or ssh variables."""
    import sys

    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k in ENV_KEEP or k.startswith("LC_")}
    bindir = os.path.dirname(sys.executable)
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if bindir not in path.split(os.pathsep):
        path = bindir + os.pathsep + path
    env.update({"PATH": path, "HOME": home, "PWD": workdir, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                "VERMAS_VERIFY": "1"})
    env.update(extra or {})
    return env


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class _ExitWaiter:
    """``wait(seconds) -> exited?``: a pidfd wakes the moment the process ends (polling where there is none)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        try:
            self.fd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self.fd = None

    def wait(self, seconds: float) -> bool:
        if self.fd is None:
            try:
                self.proc.wait(timeout=seconds)
                return True
            except subprocess.TimeoutExpired:
                return False
        import select

        select.select([self.fd], [], [], max(0.0, seconds))
        return self.proc.poll() is not None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def run_command(command: str, *, cwd: str, env: dict[str, str], timeout: float,
                should_stop: Callable[[], bool] = lambda: False) -> dict:
    """One run: ``{exit_code, timed_out, stdout, stderr, stdout_bytes, stderr_bytes, duration_ms, error}``."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen([*shell(), command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        return {"exit_code": None, "timed_out": False, "stdout": "", "stderr": "", "stdout_bytes": 0,
                "stderr_bytes": 0, "duration_ms": (time.monotonic() - started) * 1000, "error": str(exc)}
    out, err = _Capture(proc.stdout), _Capture(proc.stderr)
    out.start()
    err.start()
    timed_out = stopped = False
    deadline = started + timeout
    waiter = _ExitWaiter(proc)
    while True:
        if waiter.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
            break
        if time.monotonic() >= deadline:
            timed_out = True
        elif should_stop():
            stopped = True
        if timed_out or stopped:
            _kill_group(proc.pid, signal.SIGTERM)
            grace = time.monotonic() + KILL_GRACE
            while time.monotonic() < grace and proc.poll() is None:
                time.sleep(0.02)
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
            break
    duration = (time.monotonic() - started) * 1000
    waiter.close()
    _kill_group(proc.pid, signal.SIGKILL)  # background leftovers hold the pipes open
    for reader in (out, err):
        reader.join(timeout=5.0)
    for pipe in (proc.stdout, proc.stderr):
        try:
            pipe.close()
        except OSError:
            pass
    if stopped:
        raise Interrupted(f"stopped while running {command!r}")
    return {"exit_code": None if timed_out else proc.returncode, "timed_out": timed_out, "stdout": out.text(),
            "stderr": err.text(), "stdout_bytes": out.total, "stderr_bytes": err.total, "duration_ms": duration,
            "error": ""}


def _status(c: Criterion, run: dict) -> str:
    if run["error"]:
        return ERROR
    if run["timed_out"]:
        return TIMEOUT
    if not c.objective:
        return PENDING
    return PASS if run["exit_code"] == c.expected_exit_code else FAIL


def verify_one(c: Criterion, *, cwd: str, env: dict[str, str], retry: bool = True,
               should_stop: Callable[[], bool] = lambda: False) -> CriterionResult:
    """Run one criterion (a plain failure is re-run once: passing then means ``flaky``)."""
    base = dict(criterion_id=c.id, description=c.description, objective=c.objective, command=c.verify_command,
                expected_exit_code=c.expected_exit_code, timeout_seconds=c.timeout_seconds, hint=c.hint)
    if not c.verify_command:
        return CriterionResult(status=PENDING, **base)
    env = {**env, "VERMAS_CRITERION": c.id}
    attempts: list[dict] = []
    run = run_command(c.verify_command, cwd=cwd, env=env, timeout=c.timeout_seconds, should_stop=should_stop)
    status = _status(c, run)
    attempts.append({"exit_code": run["exit_code"], "status": status, "duration_ms": round(run["duration_ms"], 1)})
    if status == FAIL and retry:
        again = run_command(c.verify_command, cwd=cwd, env=env, timeout=c.timeout_seconds, should_stop=should_stop)
        second = _status(c, again)
        attempts.append({"exit_code": again["exit_code"], "status": second,
                         "duration_ms": round(again["duration_ms"], 1)})
        if second == PASS:
            status = FLAKY
        else:
            run = again
    error = run["error"] or (f"timed out after {c.timeout_seconds:g}s (process group killed)"
                             if run["timed_out"] else "")
    if status == FLAKY:
        error = f"failed (exit {attempts[0]['exit_code']}) then passed on a re-run of the same commit"
    return CriterionResult(status=status, exit_code=run["exit_code"], stdout=run["stdout"], stderr=run["stderr"],
                           stdout_bytes=run["stdout_bytes"], stderr_bytes=run["stderr_bytes"],
                           duration_ms=sum(a["duration_ms"] for a in attempts), error=error, attempts=attempts,
                           **base)


def verify_all(criteria: list[Criterion], *, cwd: str, env: dict[str, str], retry: bool = True,
               should_stop: Callable[[], bool] = lambda: False,
               on_result: Callable[[CriterionResult], None] | None = None) -> list[CriterionResult]:
    """Every criterion in order (they may share files, so never in parallel)."""
    results = []
    for c in criteria:
        if should_stop():
            raise Interrupted("stopped before " + c.id)
        result = verify_one(c, cwd=cwd, env=env, retry=retry, should_stop=should_stop)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
