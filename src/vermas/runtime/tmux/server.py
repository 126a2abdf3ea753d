"""A tmux server (one socket): sessions, buffers, wait-for channels, version."""

from __future__ import annotations

import os
import re
import subprocess

from vermas.runtime.errors import SessionNotFoundError, TmuxError
from vermas.runtime.tmux import formats
from vermas.runtime.tmux.command import decode, resolve_socket, run_tmux

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.tmux.session import Session

_version_cache: dict[str, tuple[int, int]] = {}


class Server:
    """The tmux server on one socket: ``socket`` > ``$VERMAS_TMUX_SOCKET`` > the user's default."""

    def __init__(self, socket: str | None = None, *, environ: dict | None = None) -> None:
        self.socket = resolve_socket(socket, environ)

    def __repr__(self) -> str:
        return f"Server(socket={self.socket!r})"

    # ------------------------------------------------------------------ plumbing
    def cmd(self, *args: str, input: bytes | None = None, check: bool = True, timeout: float = 15.0,
            env: dict | None = None) -> str:
        """Run tmux with ``args`` on this server; return stdout as text."""
        return decode(run_tmux(list(args), socket=self.socket, input=input, check=check, timeout=timeout,
                               env=env).stdout)

    def run(self, *args: str, input: bytes | None = None, timeout: float = 15.0) -> subprocess.CompletedProcess:
        """Run tmux without raising; the caller inspects ``returncode``."""
        return run_tmux(list(args), socket=self.socket, input=input, check=False, timeout=timeout)

    def version(self) -> tuple[int, int]:
        """(major, minor) of the tmux binary, e.g. (3, 3) for ``tmux 3.3a``."""
        from vermas.runtime.tmux.command import tmux_binary

        binary = tmux_binary()
        cached = _version_cache.get(binary)
        if cached:
            return cached
        out = decode(subprocess.run([binary, "-V"], capture_output=True, timeout=5).stdout)
        match = re.search(r"(\d+)\.(\d+)", out)
        version = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        _version_cache[binary] = version
        return version

    def is_alive(self) -> bool:
        """True when a server is running on this socket (with at least one session)."""
        return self.run("list-sessions").returncode == 0

    # ------------------------------------------------------------------ sessions
    def has_session(self, name: str) -> bool:
        """Exact-name check (``=name``; tmux would otherwise match prefixes)."""
        return self.run("has-session", "-t", "=" + name).returncode == 0

    def session(self, name: str) -> Session:
        from vermas.runtime.tmux.session import Session

        return Session(self, name)

    def new_session(self, name: str, argv: list[str], *, cwd: str | None = None, env: dict | None = None,
                    width: int = 200, height: int = 50, remain_on_exit: bool = True) -> Session:
        """Start ``argv`` (executed directly, no shell) in a new detached session.

        ``env`` becomes the session environment (``-e``, tmux ≥ 3.2; older tmux gets an
        ``env`` wrapper plus ``set-environment``). ``remain_on_exit`` is set in the same tmux
        invocation, so even an instant crash leaves the dead pane as evidence.
        """
        if not argv:
            raise TmuxError("new-session needs a command to run")
        env = dict(env or {})
        args = ["new-session", "-d", "-s", name, "-x", str(width), "-y", str(height)]
        if cwd:
            args += ["-c", cwd]
        command = list(argv)
        modern = self.version() >= (3, 2)
        if env and modern:
            for key, value in env.items():
                args += ["-e", f"{key}={value}"]
        elif env:
            command = ["env", *[f"{k}={v}" for k, v in env.items()], "--", *command]
        args += ["--", *command]
        if remain_on_exit:
            args += [";", "set-option", "-w", "-t", f"={name}:", "remain-on-exit", "on"]
        # tmux gives a new session the *client's* PATH, whatever -e says: run the client with it.
        client_env = {**os.environ, "PATH": env["PATH"]} if "PATH" in env else None
        self.cmd(*args, env=client_env)
        session = self.session(name)
        if env and not modern:
            for key, value in env.items():
                session.set_environment(key, value)
        return session

    def kill_session(self, name: str) -> bool:
        """Kill a session; False if there was none (idempotent)."""
        proc = self.run("kill-session", "-t", "=" + name)
        if proc.returncode == 0:
            return True
        if self.has_session(name):
            stderr = decode(proc.stderr).strip()
            raise TmuxError(f"could not kill session {name!r}: {stderr}", stderr=stderr)
        return False

    def list_sessions(self, prefix: str = "") -> list[str]:
        """Names of the sessions on this server starting with ``prefix`` (empty when no server)."""
        proc = self.run("list-sessions", "-F", "#{session_name}")
        if proc.returncode != 0:
            return []
        return [n for n in decode(proc.stdout).splitlines() if n and n.startswith(prefix)]

    def list_panes(self, fields: tuple[str, ...] = formats.PANE_FIELDS, *, session: str | None = None) -> list[dict]:
        """Panes (of one session, or of all) with the requested format fields."""
        scope = ["-s", "-t", "=" + session] if session else ["-a"]
        proc = self.run("list-panes", *scope, "-F", formats.format_string(fields))
        if proc.returncode != 0:
            if session and not self.has_session(session):
                raise SessionNotFoundError(f"no tmux session {session!r} on {self.describe()}")
            return []
        return formats.parse_lines(fields, decode(proc.stdout))

    def kill_server(self) -> None:
        self.run("kill-server")

    def describe(self) -> str:
        return f"tmux server {self.socket!r}" if self.socket else "the default tmux server"

    # ------------------------------------------------------------------ buffers and channels
    def load_buffer(self, name: str, data: bytes) -> None:
        """Load ``data`` into paste buffer ``name`` (read from stdin: no size limit on argv)."""
        self.cmd("load-buffer", "-b", name, "-", input=data)

    def delete_buffer(self, name: str) -> None:
        self.run("delete-buffer", "-b", name)

    def wait_for(self, channel: str, *, timeout: float | None = None) -> bool:
        """Block until ``channel`` is signalled; False if ``timeout`` passed first."""
        from vermas.runtime.tmux.command import base_argv

        argv = [*base_argv(self.socket), "wait-for", channel]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False
        if proc.returncode != 0:
            raise TmuxError(f"tmux wait-for {channel} failed: {decode(proc.stderr.read()).strip()}")
        return True

    def signal(self, channel: str) -> None:
        """Wake every client waiting on ``channel`` (``wait-for -S``)."""
        self.cmd("wait-for", "-S", channel)


def unique_buffer_name(session: str) -> str:
    return f"vm-{session}-{os.getpid()}-{os.urandom(3).hex()}"
