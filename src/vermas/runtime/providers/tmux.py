"""The tmux provider: each agent is a CLI in its own tmux session on the selected socket."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid

from vermas.runtime import activity, claude_settings, delivery, dialogs, naming, nudge, sessions, state
from vermas.runtime.errors import (
    AgentExitedError,
    ReadyTimeoutError,
    RuntimeNotInstalledError,
    SessionExistsError,
    SessionNotFoundError,
)
from vermas.runtime.providers.base import Provider, StartRequest
from vermas.runtime.tmux import Pane, Server

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.headless import HeadlessResult
    from vermas.runtime.spec import RuntimeSpec


class TmuxProvider(Provider):
    """Agents in tmux sessions; state under the runtime dir.

    ``socket`` > ``$VERMAS_TMUX_SOCKET`` > the user's default server. ``runtime_dir`` >
    ``$VERMAS_RUNTIME_DIR`` > ``<town>/.runtime`` (resolved when first needed). ``runtimes``
    maps names to user-defined runtime tables (for sessions recorded by name only).
    """

    name = "tmux"

    def __init__(self, socket: str | None = None, *, runtime_dir: str | None = None, runtimes: dict | None = None,
                 environ: dict | None = None, town: str | None = None, cwd: str | None = None,
                 confirm_timeouts: tuple[float, ...] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.server = Server(socket, environ=self.environ)
        self._runtime_dir = runtime_dir
        self._town = town
        self._cwd = cwd
        self.user_runtimes = dict(runtimes or {})
        self.confirm_timeouts = confirm_timeouts or delivery.CONFIRM_TIMEOUTS
        self._specs: dict[str, RuntimeSpec] = {}

    # ------------------------------------------------------------------ plumbing
    @property
    def runtime_dir(self) -> str:
        if not self._runtime_dir:
            from vermas.runtime.paths import resolve_runtime_dir

            self._runtime_dir = resolve_runtime_dir(environ=self.environ, cwd=self._cwd, town=self._town,
                                                    create=True)
        return self._runtime_dir

    def _runtime_dir_or_none(self) -> str | None:
        try:
            return self.runtime_dir
        except Exception:  # no town and no $VERMAS_RUNTIME_DIR: hooks-based signals are unavailable
            return None

    def _pane(self, session: str) -> Pane:
        try:
            return self.server.session(session).pane()
        except SessionNotFoundError:
            raise SessionNotFoundError(f"no agent session {session!r} on {self.server.describe()}",
                                       hint="list agent sessions with `tmux -L <socket> ls`; "
                                            "check the address with `vermas peek <agent>`") from None

    def spec_for(self, session: str) -> RuntimeSpec:
        """The runtime of a running session: its record, else its VERMAS_RUNTIME env, else claude."""
        cached = self._specs.get(session)
        if cached:
            return cached
        runtime_dir = self._runtime_dir_or_none()
        spec = sessions.spec_of(sessions.read(runtime_dir, session)) if runtime_dir else None
        if spec is None:
            from vermas.runtime.presets import get_runtime

            name = None
            try:
                name = self.server.session(session).show_environment().get("VERMAS_RUNTIME")
            except Exception:  # no session env to read: fall back to the default runtime
                name = None
            try:
                spec = get_runtime(name, self.user_runtimes)
            except Exception:  # an unknown recorded runtime: the default keeps detection working
                spec = get_runtime(None)
        self._specs[session] = spec
        return spec

    # ------------------------------------------------------------------ lifecycle
    def start(self, request: StartRequest, *, wait: bool = True, timeout: float = 60.0) -> dict:
        from vermas.runtime.presets import resolve_command

        spec = request.runtime
        name = request.session
        if self.server.has_session(name):
            raise SessionExistsError(f"agent session {name!r} is already running on {self.server.describe()}",
                                     hint=f"stop it first, or attach: tmux -L {self.server.socket or 'default'} "
                                          f"attach -t {name}")
        if not os.path.isdir(request.workdir):
            from vermas.errors import NotFoundError

            raise NotFoundError(f"working directory {request.workdir} does not exist",
                                hint="create the agent's worktree before starting it")
        runtime_dir = self.runtime_dir
        path_env = self.environ.get("PATH", "")
        binary = resolve_command(spec.command, {"PATH": path_env})
        if binary is None:
            raise RuntimeNotInstalledError(f"runtime {spec.name!r}: {spec.command!r} is not installed (not on PATH)",
                                           hint="install it, or pick another runtime (vermas runtime check)")
        vermas_session_id = uuid.uuid4().hex
        env: dict[str, str] = {"PATH": os.path.dirname(sys.executable) + os.pathsep + path_env}
        if request.address:
            env.update(naming.identity_env(request.address, town=request.town, bead=request.bead))
        elif request.bead:
            env["BEAD_ID"] = request.bead
        if request.town:
            env["VERMAS_TOWN"] = request.town
        env.update({"VERMAS_SESSION": name, "VERMAS_SESSION_ID": vermas_session_id,
                    "VERMAS_RUNTIME_DIR": runtime_dir, "VERMAS_RUNTIME": spec.name})
        if self.server.socket:
            env["VERMAS_TMUX_SOCKET"] = self.server.socket
        env.update(spec.env)
        env.update(request.env)
        settings_file = None
        if spec.hooks == "claude":
            settings_file = request.settings_path or os.path.join(runtime_dir, "settings", name + ".json")
            settings = request.settings if request.settings is not None else \
                claude_settings.build_settings(request.role)
            claude_settings.write_settings(settings_file, settings)
        if request.role_text and spec.instructions_file:
            claude_settings.write_role_instructions(request.workdir, request.role_text, spec.instructions_file)
        argv = self._argv(spec, binary, request, settings_file)
        session = self.server.new_session(name, argv, cwd=request.workdir, env=env, width=request.width,
                                          height=request.height, remain_on_exit=True)
        pane = session.pane()
        info = pane.info("pane_id", "pane_pid")
        record = {"session": name, "address": request.address, "runtime": spec.name, "spec": spec.to_dict(),
                  "workdir": request.workdir, "argv": argv, "settings": settings_file, "socket": self.server.socket,
                  "vermas_session_id": vermas_session_id, "pane_id": info.get("pane_id"),
                  "pid": info.get("pane_pid"), "started_at": time.time(), "bead": request.bead,
                  "pending_prompt": request.initial_prompt if spec.prompt_mode == "none" else None}
        sessions.write(runtime_dir, name, record)
        self._specs[name] = spec
        result = {"session": name, "pane_id": info.get("pane_id"), "pid": info.get("pane_pid"), "argv": argv,
                  "settings": settings_file, "runtime": spec.name, "ready": False}
        if wait:
            self.wait_ready(name, timeout)
            result["ready"] = True
        return result

    @staticmethod
    def _argv(spec: RuntimeSpec, binary: str, request: StartRequest, settings_file: str | None) -> list[str]:
        argv = [binary]
        if request.resume and spec.resume_style == "subcommand" and spec.resume_flag:
            argv += [spec.resume_flag] + ([] if request.resume == "last" else [request.resume])
            if request.resume == "last" and spec.continue_flag:
                argv.append(spec.continue_flag)
        argv += list(spec.args)
        if settings_file and spec.settings_flag:
            argv += [spec.settings_flag, settings_file]
        if request.resume and spec.resume_style == "flag":
            if request.resume == "last" and spec.continue_flag:
                argv.append(spec.continue_flag)
            elif request.resume != "last" and spec.resume_flag:
                argv += [spec.resume_flag, request.resume]
        if request.initial_prompt and spec.prompt_mode == "arg":
            argv.append(request.initial_prompt)
        return argv

    def wait_ready(self, session: str, timeout: float = 60.0) -> None:
        spec = self.spec_for(session)
        pane = self._pane(session)
        started = time.monotonic()
        deadline = started + timeout
        answered: dict[str, int] = {}
        while True:
            info, screen = pane.snapshot("pane_dead", "pane_dead_status")
            seen = "dead" if info.get("pane_dead") else state.classify_pane(screen, spec)
            if seen == "dead":
                raise AgentExitedError(f"agent in {session} exited during startup",
                                       hint=f"its last output is attached; `vermas peek {session}`",
                                       evidence=pane.tail(30), exit_status=_exit_status(pane, info))
            if seen == "dialog":
                dialog = dialogs.detect(screen, spec.dialogs)
                if dialog and answered.get(dialog, 0) < 3:
                    answered[dialog] = answered.get(dialog, 0) + 1
                    for key in dialogs.answer_keys(dialog):
                        pane.send_keys(key)
                        time.sleep(0.05)
                    time.sleep(0.2)
                    continue
            elif _ready(spec, seen, time.monotonic() - started):
                break
            if time.monotonic() >= deadline:
                raise ReadyTimeoutError(f"agent in {session} not ready after {timeout:g}s "
                                        f"(waiting for {spec.ready_prompt_prefix or 'its startup delay'!r})",
                                        hint="its screen is attached; a dialog or login prompt may be waiting",
                                        evidence=pane.tail(30))
            time.sleep(0.05)
        runtime_dir = self._runtime_dir_or_none()
        record = sessions.read(runtime_dir, session) if runtime_dir else None
        if record and record.get("pending_prompt"):
            prompt = record["pending_prompt"]
            record["pending_prompt"] = None
            sessions.write(runtime_dir, session, record)
            self._deliver(session, pane, spec, prompt)

    def stop(self, session: str) -> bool:
        if not self.server.has_session(session):
            return False
        pid = None
        try:
            pid = self.server.session(session).pane().pid()
        except SessionNotFoundError:
            pid = None
        killed = self.server.kill_session(session)
        if pid:
            _reap_group(pid)
        self._specs.pop(session, None)
        return killed

    def interrupt(self, session: str) -> None:
        spec = self.spec_for(session)
        pane = self._pane(session)
        pane.send_keys(*spec.interrupt_keys)
        runtime_dir = self._runtime_dir_or_none()
        if runtime_dir and activity.read(runtime_dir, session):
            activity.record(runtime_dir, session, state="unknown", event="interrupt")

    # ------------------------------------------------------------------ messages
    def _deliver(self, session: str, pane: Pane, spec: RuntimeSpec, text: str, only_if=None) -> dict:
        return delivery.deliver(pane, text, spec=spec, session=session, runtime_dir=self._runtime_dir_or_none(),
                                confirm_timeouts=self.confirm_timeouts, only_if=only_if)

    def nudge(self, session: str, message: str, *, mode: str = "wait-idle", sender: str | None = None,
              priority: str = "normal", wait: float | None = None) -> dict:
        nudge.validate_mode(mode)
        if mode == "queue":
            return {"mode": "queue", **nudge.enqueue(self.runtime_dir, session, message, sender=sender,
                                                    priority=priority, reason="queue mode")}
        spec = self.spec_for(session)
        pane = self._pane(session)
        if mode == "immediate":
            report = self._deliver(session, pane, spec, nudge.format_message(message, sender))
            return {"mode": "immediate", **report}
        return nudge.wait_idle_then_deliver(pane, spec, self.runtime_dir, session, message, sender=sender,
                                            priority=priority, wait=wait,
                                            deliver=lambda text, only_if: self._deliver(session, pane, spec, text,
                                                                                        only_if))

    def flush_queue(self, session: str) -> int:
        """Type queued nudges into an idle agent whose runtime has no hooks; returns how many."""
        spec = self.spec_for(session)
        pane = self._pane(session)
        return nudge.flush_queue(pane, spec, self.runtime_dir, session,
                                 deliver=lambda text, only_if: self._deliver(session, pane, spec, text, only_if))

    # ------------------------------------------------------------------ observation
    def peek(self, session: str, lines: int = 50) -> str:
        return self._pane(session).tail(lines)

    def status(self, session: str) -> dict:
        if not self.server.has_session(session):
            return {"session": session, "exists": False, "alive": False, "exit_status": None, "pid": None,
                    "command": None}
        try:
            info = self._pane(session).info("pane_pid", "pane_dead", "pane_dead_status", "pane_current_command")
        except SessionNotFoundError:
            return {"session": session, "exists": False, "alive": False, "exit_status": None, "pid": None,
                    "command": None}
        exit_status = None
        if info["pane_dead"]:
            exit_status = info["pane_dead_status"]
            if exit_status is None:
                exit_status = self._pane(session).dead_status()
        return {"session": session, "exists": True, "alive": not info["pane_dead"], "exit_status": exit_status,
                "pid": info["pane_pid"], "command": info["pane_current_command"]}

    def is_running(self, session: str) -> bool:
        return self.status(session)["alive"]

    def state(self, session: str) -> dict:
        spec = self.spec_for(session)
        return state.detect(self._pane(session), spec, self._runtime_dir_or_none(), session)

    def is_idle(self, session: str) -> bool:
        return self.state(session)["state"] == "idle"

    def wait_idle(self, session: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            current = self.state(session)["state"]
            if current == "idle":
                return True
            if current == "dead" or time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def last_activity(self, session: str) -> float | None:
        return state.last_activity(self._pane(session), self._runtime_dir_or_none(), session)

    def list_sessions(self, prefix: str = "vm-") -> list[str]:
        return self.server.list_sessions(prefix)

    def run_headless(self, prompt: str, *, cwd: str, timeout: float = 300.0,
                     runtime: RuntimeSpec | None = None) -> HeadlessResult:
        from vermas.runtime.headless import run_headless
        from vermas.runtime.presets import get_runtime

        spec = runtime or get_runtime(None, self.user_runtimes)
        return run_headless(spec, prompt, cwd=cwd, timeout=timeout)


def _exit_status(pane: Pane, info: dict, wait: float = 2.0) -> int | None:
    """The dead pane's exit status (tmux may take a moment to reap the process)."""
    deadline = time.monotonic() + wait
    status = info.get("pane_dead_status")
    while status is None and time.monotonic() < deadline:
        time.sleep(0.05)
        status = pane.dead_status()
    return status


def _ready(spec: RuntimeSpec, seen: str, elapsed: float) -> bool:
    """Up and running: the prompt or busy marker shows (or, without a prefix, the startup delay passed)."""
    if spec.ready_prompt_prefix:
        return seen in ("idle", "busy")
    return elapsed >= spec.ready_delay_ms / 1000.0


def _alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped by tmux, counts as gone)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _reap_group(pid: int, grace: float = 2.0) -> None:
    """After kill-session: make sure the agent's process group is gone (SIGTERM, then SIGKILL)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.02)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)
