"""A tmux session addressed by exact name (``=name``): environment, options, panes, size, activity."""

from __future__ import annotations

from vermas.runtime.errors import SessionNotFoundError
from vermas.runtime.tmux import formats

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.tmux.pane import Pane
    from vermas.runtime.tmux.server import Server


class Session:
    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = name

    def __repr__(self) -> str:
        return f"Session({self.name!r}, {self.server!r})"

    @property
    def target(self) -> str:
        return "=" + self.name

    @property
    def window_target(self) -> str:
        return f"={self.name}:"

    def exists(self) -> bool:
        return self.server.has_session(self.name)

    def kill(self) -> bool:
        return self.server.kill_session(self.name)

    def require(self) -> Session:
        if not self.exists():
            raise SessionNotFoundError(f"no tmux session {self.name!r} on {self.server.describe()}",
                                       hint="is the agent running? `vermas peek` lists what it can see")
        return self

    # ------------------------------------------------------------------ environment and options
    def set_environment(self, key: str, value: str) -> None:
        self.server.cmd("set-environment", "-t", self.target, key, value)

    def unset_environment(self, key: str) -> None:
        self.server.cmd("set-environment", "-u", "-t", self.target, key)

    def show_environment(self) -> dict[str, str]:
        """The session environment (variables removed with ``-u`` are left out)."""
        out = self.server.cmd("show-environment", "-t", self.target)
        env: dict[str, str] = {}
        for line in out.splitlines():
            if line.startswith("-") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            env[key] = value
        return env

    def set_option(self, name: str, value: str, *, window: bool = False) -> None:
        scope = ["-w", "-t", self.window_target] if window else ["-t", self.target]
        self.server.cmd("set-option", *scope, name, value)

    def show_option(self, name: str, *, window: bool = False) -> str | None:
        scope = ["-w", "-t", self.window_target] if window else ["-t", self.target]
        out = self.server.cmd("show-options", "-v", *scope, name, check=False).strip()
        return out or None

    # ------------------------------------------------------------------ panes, size, activity
    def pane(self) -> Pane:
        """The session's active pane, addressed by its stable id (``%N``)."""
        from vermas.runtime.tmux.pane import Pane

        pane_id = self.server.cmd("display-message", "-p", "-t", self.window_target, "#{pane_id}").strip()
        if not pane_id:
            raise SessionNotFoundError(f"no tmux session {self.name!r} on {self.server.describe()}")
        return Pane(self.server, pane_id, session=self.name)

    def panes(self, fields: tuple[str, ...] = formats.PANE_FIELDS) -> list[dict]:
        return self.server.list_panes(fields, session=self.name)

    def info(self, *fields: str) -> dict:
        out = self.server.cmd("display-message", "-p", "-t", self.window_target, formats.format_string(fields))
        return formats.parse_line(fields, out.rstrip("\n"))

    def resize(self, width: int, height: int) -> None:
        self.server.cmd("resize-window", "-t", self.window_target, "-x", str(width), "-y", str(height))

    def activity(self) -> float | None:
        """Epoch seconds of the last output in the session's window (tmux ``window_activity``)."""
        return self.info("window_activity").get("window_activity")

    def created(self) -> float | None:
        return self.info("session_created").get("session_created")
