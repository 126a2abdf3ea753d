"""The one environment object every command receives (streams, env vars, cwd, globals).

Commands never touch ``sys.stdout``, ``os.environ`` or ``os.getcwd()`` directly; they use
the :class:`Environment` they are given, so tests run the whole CLI in-process with
captured streams and a fake environment.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~5 ms of import; keep it off the hook path
    from typing import IO, Any


class Environment:
    """Streams, environment variables, working directory and global flags of one run."""

    def __init__(
        self,
        *,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        environ: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.environ = dict(os.environ) if environ is None else environ
        self.cwd = os.path.abspath(cwd) if cwd else os.getcwd()
        # Global flags, set by ``vermas --town X --actor Y <command>`` or per command.
        self.town_flag: str | None = None
        self.actor_flag: str | None = None

    # ----------------------------------------------------------------- output
    def write(self, text: str = "") -> None:
        """Print a line to stdout."""
        self.stdout.write(text + "\n")

    def error(self, message: str, hint: str | None = None) -> None:
        """Print ``vermas: error: …`` (and ``hint: …``) to stderr."""
        self.stderr.write(f"vermas: error: {message}\n")
        if hint:
            self.stderr.write(f"hint: {hint}\n")

    def warn(self, message: str) -> None:
        self.stderr.write(f"vermas: warning: {message}\n")

    def info(self, message: str) -> None:
        """Progress or status chatter: stderr, so stdout stays parseable."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def print_json(self, obj: Any) -> None:
        """Emit JSON the way bd's ``--json`` does: indented two spaces, UTF-8 as is."""
        import json

        self.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")

    @property
    def stdout_isatty(self) -> bool:
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty and isatty())

    @property
    def stderr_isatty(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        return bool(isatty and isatty())

    # -------------------------------------------------------------- context
    def get(self, name: str, default: str | None = None) -> str | None:
        """An environment variable, treating the empty string as unset."""
        value = self.environ.get(name)
        return value if value else default

    def path(self, *parts: str) -> str:
        """Resolve a user-supplied path against this run's working directory."""
        return os.path.normpath(os.path.join(self.cwd, *parts))

    def actor(self, explicit: str | None = None) -> str:
        """Who is acting: ``--actor`` > ``BD_ACTOR`` > git ``user.name`` > ``$USER`` (bd's order)."""
        for candidate in (explicit, self.actor_flag, self.get("BD_ACTOR")):
            if candidate:
                return candidate
        name = _git_user_name(self.cwd, self.environ)
        if name:
            return name
        return self.get("USER") or self.get("LOGNAME") or "unknown"


def _git_user_name(cwd: str, environ: dict[str, str]) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "config", "user.name"],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip()
    return name or None
