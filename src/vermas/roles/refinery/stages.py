"""Gate stages: what must say PASS before the refinery moves a target branch.

A stage is any object with a ``name`` and ``run(ctx) -> StageResult``::

    class Stage(Protocol):
        name: str
        def run(self, ctx: StageContext) -> StageResult: ...

``StageResult.status`` is ``PASS``, ``FAIL`` or ``NEEDS_HUMAN``:

* ``PASS``        — go on to the next stage; all stages passing lets the request merge.
* ``FAIL``        — the request goes back to its polecat as rework, carrying ``summary``,
  ``details`` and ``evidence_path`` (unless the same stage also fails on the target itself:
  then a bug bead is filed and the request is not blamed).
* ``NEEDS_HUMAN`` — the request is parked: neither merged nor rejected, shown by
  ``vermas mq status``, until ``vermas mq retry <mr>`` (or ``queue.unpark``) re-queues it.

Optional attributes a stage may set (defaults in brackets):

* ``retry_on_fail`` [True] — run once more after a FAIL before believing it (flaky gates).
* ``check_target_on_fail`` [True] — after a confirmed FAIL, run the stage on the target
  commit; if it fails there too the failure is pre-existing (a bug bead, not rework).

The rig's command gates (``gates.setup``, ``gates.lint``, ``gates.build``, ``gates.test``)
are :class:`CommandStage` objects. Further stages come from providers, each a
``"module:function"`` called as ``function(host: StageHost)`` and returning a stage, a list
of stages or None:

* ``vermas.verify.refinery_stage:refinery_stages`` — the Inspector pipeline, used when that
  module exists and ``verify.enabled`` is on; it runs last;
* the entries of ``$VERMAS_REFINERY_STAGES`` (comma-separated), e.g. for site-specific checks.

A stage must not move refs or touch the polecat's worktree; it may read ``ctx.worktree``
(the candidate commit, checked out) and write files under ``ctx.evidence_dir``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vermas.errors import DataError

PASS, FAIL, NEEDS_HUMAN = "PASS", "FAIL", "NEEDS_HUMAN"
STATUSES = (PASS, FAIL, NEEDS_HUMAN)
STAGE_PROVIDERS_ENV = "VERMAS_REFINERY_STAGES"
BUILTIN_PROVIDERS = ("vermas.verify.refinery_stage:refinery_stages",)
TAIL_LINES = 60
TAIL_CHARS = 6000

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.roles.refinery.mr import MergeRequest
    from vermas.roles.refinery.settings import RefinerySettings


class StageInterrupted(Exception):
    """The refinery was asked to stop while a stage ran; nothing was decided."""


@dataclass
class StageContext:
    """What a stage gets: the candidate checked out in the refinery worktree, and where to write."""

    town_root: str
    rig: str
    commit: str  # the candidate commit id (what the target will move to), or the target's on a target check
    target: str  # target branch name
    base: str  # the target's commit the candidate was built on
    mrs: tuple[MergeRequest, ...]  # the request(s) in this candidate (several in batch mode)
    evidence_dir: str  # write evidence here (created for you)
    timeout: float  # seconds this stage may take (the rig's gates.timeout)
    attempt: int = 1  # 2 on the flaky-gate retry
    on_target: bool = False  # True when run on the target itself to detect a pre-existing failure
    should_stop: Callable[[], bool] = field(default=lambda: False, repr=False)
    log: Callable[[str], None] = field(default=lambda message: None, repr=False)
    on_spawn: Callable[[int, str], None] = field(default=lambda pgid, marker: None, repr=False)
    worktree: str = ""  # ``commit`` is checked out here (detached); stages run in order in the same tree

    @property
    def source_issues(self) -> list[str]:
        return [m.source_issue for m in self.mrs if m.source_issue]

    @property
    def run_label(self) -> str:
        """``test``, ``test.retry`` or ``test.target``-style suffix for evidence file names."""
        if self.on_target:
            return "target"
        return "retry" if self.attempt > 1 else ""


@dataclass
class StageResult:
    """A stage's verdict with its evidence."""

    status: str
    summary: str = ""
    evidence_path: str | None = None
    details: dict = field(default_factory=dict)
    duration: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"stage status must be one of {STATUSES}, got {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict:
        return {"status": self.status, "summary": self.summary, "evidence_path": self.evidence_path,
                "details": self.details, "duration": round(self.duration, 3)}


@runtime_checkable
class Stage(Protocol):
    """A gate stage (see the module docstring)."""

    name: str

    def run(self, ctx: StageContext) -> StageResult: ...


def stage_flag(stage: object, name: str, default: bool = True) -> bool:
    """An optional boolean attribute of a stage (``retry_on_fail``, ``check_target_on_fail``)."""
    return bool(getattr(stage, name, default))


@dataclass
class StageHost:
    """What a stage provider is given to decide which stages to contribute."""

    town_root: str
    rig: str
    settings: RefinerySettings
    environ: dict[str, str]


class CommandStage:
    """A rig gate: a shell command run in the candidate worktree with a timeout.

    The command comes from the rig's own configuration (``gates.<name>``), written by the
    overseer, so it runs through ``/bin/sh -c`` like a CI step. It runs in its own process
    group: on timeout or stop the whole group is killed, and its id is reported through
    ``ctx.on_spawn`` so a refinery restarted after a crash can kill leftovers.
    """

    retry_on_fail = True
    check_target_on_fail = True

    def __init__(self, name: str, command: str, timeout: float | None = None) -> None:
        self.name = name
        self.command = command
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CommandStage({self.name!r}, {self.command!r})"

    def run(self, ctx: StageContext) -> StageResult:
        timeout = self.timeout or ctx.timeout
        suffix = f".{ctx.run_label}" if ctx.run_label else ""
        os.makedirs(ctx.evidence_dir, exist_ok=True)
        path = os.path.join(ctx.evidence_dir, f"{self.name}{suffix}.log")
        marker = f"{ctx.rig}:{self.name}:{os.getpid()}:{time.time_ns()}"
        env = dict(os.environ)
        env.update({
            "VERMAS_GATE": self.name, "VERMAS_GATE_RUN": marker, "GT_RIG": ctx.rig,
            "VERMAS_COMMIT": ctx.commit, "VERMAS_TARGET": ctx.target,
            "VERMAS_MR": ",".join(m.id for m in ctx.mrs), "VERMAS_SOURCE_ISSUES": ",".join(ctx.source_issues),
        })
        started = time.monotonic()
        timed_out = interrupted = False
        with open(path, "w", encoding="utf-8") as out:
            out.write(f"$ {self.command}\n# gate {self.name} at {ctx.commit} in {ctx.worktree}\n")
            out.flush()
            proc = subprocess.Popen(["/bin/sh", "-c", self.command], cwd=ctx.worktree, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
            ctx.on_spawn(proc.pid, marker)
            deadline = started + timeout
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() >= deadline:
                    timed_out = True
                elif ctx.should_stop():
                    interrupted = True
                if timed_out or interrupted:
                    kill_group(proc.pid)
                    proc.wait()
                    break
            kill_group(proc.pid, signal.SIGKILL)  # background leftovers of the gate
            duration = time.monotonic() - started
            ending = " (timed out)" if timed_out else ""
            out.write(f"\n# exit {proc.returncode} after {duration:.2f}s{ending}\n")
        ctx.on_spawn(0, "")
        if interrupted:
            raise StageInterrupted(f"gate {self.name} interrupted")
        tail = read_tail(path)
        details = {"command": self.command, "exit_code": proc.returncode, "timed_out": timed_out,
                   "output_tail": tail}
        if timed_out:
            return StageResult(FAIL, f"gate {self.name} timed out after {timeout:.0f}s", path, details, duration)
        if proc.returncode == 0:
            return StageResult(PASS, f"gate {self.name} passed", path, details, duration)
        return StageResult(FAIL, f"gate {self.name} failed (exit {proc.returncode})", path, details, duration)


def kill_group(pgid: int, sig: int = signal.SIGTERM, grace: float = 2.0) -> None:
    """Signal a process group; after SIGTERM wait up to ``grace`` seconds, then SIGKILL."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return
    if sig == signal.SIGKILL:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_leftover_gate(pgid: int, marker: str) -> bool:
    """Kill a gate process group left by a dead refinery, if it is still that gate (checked by marker)."""
    if pgid <= 0 or not marker:
        return False
    try:
        with open(f"/proc/{pgid}/environ", "rb") as fh:
            environ = fh.read()
    except OSError:
        return False
    if f"VERMAS_GATE_RUN={marker}".encode() not in environ.split(b"\0"):
        return False
    kill_group(pgid, signal.SIGKILL)
    return True


def read_tail(path: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last ``lines`` lines (at most ``chars`` characters) of a log file."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - chars * 2))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    text = "\n".join(data.splitlines()[-lines:])
    return text[-chars:]


def command_stages(settings: RefinerySettings) -> list[Stage]:
    """The rig's configured command gates, in order setup, lint, build, test."""
    return [CommandStage(name, command, settings.gate_timeout) for name, command in settings.gates]


def provider_specs(settings: RefinerySettings, environ: dict[str, str]) -> list[tuple[str, bool]]:
    """``(spec, required)`` for every stage provider to load; built-ins are optional."""
    import importlib.util

    specs: list[tuple[str, bool]] = []
    if settings.verify_enabled:
        for spec in BUILTIN_PROVIDERS:
            module = spec.partition(":")[0]
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if found:
                specs.append((spec, False))
    extra = environ.get(STAGE_PROVIDERS_ENV, "")
    specs += [(s.strip(), True) for s in extra.split(",") if s.strip()]
    return specs


def load_provider(spec: str) -> Callable[[StageHost], object]:
    import importlib

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise DataError(f"stage provider {spec!r}: expected 'module:function'",
                        hint=f"fix ${STAGE_PROVIDERS_ENV}")
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise DataError(f"stage provider {spec!r} cannot be loaded: {exc}",
                        hint=f"fix ${STAGE_PROVIDERS_ENV} or install the module") from None
    if not callable(factory):
        raise DataError(f"stage provider {spec!r} is not callable")
    return factory


def load_stages(host: StageHost) -> list[Stage]:
    """Command gates, then provider stages (the Inspector last among built-ins, then extras)."""
    stages: list[Stage] = command_stages(host.settings)
    for spec, required in provider_specs(host.settings, host.environ):
        try:
            made = load_provider(spec)(host)
        except DataError:
            if required:
                raise
            continue
        stages.extend(_as_stages(made, spec))
    names = [s.name for s in stages]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"two refinery stages share the name {', '.join(duplicates)}",
                        hint="rename one of them: evidence files are named after stages")
    return stages


def _as_stages(made: object, spec: str) -> list[Stage]:
    if made is None:
        return []
    items: Sequence[object] = made if isinstance(made, (list, tuple)) else [made]
    for item in items:
        if not isinstance(item, Stage):
            raise DataError(f"stage provider {spec!r} returned {item!r}, which has no name/run(ctx)")
    return list(items)  # type: ignore[arg-type]
