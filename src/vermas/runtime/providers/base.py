"""The runtime provider interface: how the town, witness, refinery and Inspector drive agents.

A provider starts agent sessions and talks to them. Every method either does what it says
or raises a typed :class:`~vermas.runtime.errors.ProviderError` (or another
:class:`~vermas.errors.VermasError`: not found, conflict); none ever reports success for
something it did not do. ``tests/runtime/conformance.py`` is the executable contract every
provider must pass (see docs/RUNTIME.md, "Writing a provider").
"""

from __future__ import annotations

from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.headless import HeadlessResult
    from vermas.runtime.spec import RuntimeSpec

NUDGE_MODES = ("wait-idle", "queue", "immediate")


@dataclass
class StartRequest:
    """What to start: a session name, a working directory, a runtime, and the agent's identity.

    ``address`` (e.g. ``app/polecats/nux``) gives the identity env (``BD_ACTOR``, ``GT_ROLE``,
    ``GT_RIG``…); ``bead`` becomes ``BEAD_ID``; ``town`` becomes ``VERMAS_TOWN``. ``env`` is
    added last (wins). ``initial_prompt`` is the first prompt (argv for ``prompt_mode = "arg"``
    runtimes, typed once ready otherwise). ``role``/``settings`` drive Claude settings
    generation (written to ``settings_path``, default ``<runtime>/settings/<session>.json``);
    ``role_text`` is written to the runtime's instructions file (``CLAUDE.md``…) in ``workdir``.
    ``resume`` is the agent CLI's own session id to resume, or ``"last"`` to continue.
    """

    session: str
    workdir: str
    runtime: RuntimeSpec
    address: str | None = None
    town: str | None = None
    bead: str | None = None
    env: dict = field(default_factory=dict)
    initial_prompt: str | None = None
    role: str | None = None
    role_text: str | None = None
    settings: dict | None = None
    settings_path: str | None = None
    resume: str | None = None
    width: int = 200
    height: int = 50


class Provider:
    """Base class of providers; subclasses implement every method."""

    name = "abstract"

    def start(self, request: StartRequest, *, wait: bool = True, timeout: float = 60.0) -> dict:
        """Start the session; with ``wait``, return once the agent is ready (dialogs answered).

        Returns ``{"session", "pane_id", "pid", "argv", "settings", "runtime", "ready"}``.
        Raises SessionExistsError (a session by that name runs), AgentExitedError,
        ReadyTimeoutError, RuntimeNotInstalledError. A session that started but never became
        ready is left in place as evidence (its pane, its record); ``stop`` it before retrying.
        """
        raise NotImplementedError

    def stop(self, session: str) -> bool:
        """Stop the session (and its process group); False when it was not running. Idempotent."""
        raise NotImplementedError

    def interrupt(self, session: str) -> None:
        """Interrupt the agent's current work (Escape for claude-like runtimes, C-c otherwise)."""
        raise NotImplementedError

    def nudge(self, session: str, message: str, *, mode: str = "wait-idle", sender: str | None = None,
              priority: str = "normal", wait: float | None = None) -> dict:
        """Send a message: ``{"status": "delivered"|"queued", …delivery report…}`` or a typed error."""
        raise NotImplementedError

    def peek(self, session: str, lines: int = 50) -> str:
        """The last ``lines`` lines the agent shows."""
        raise NotImplementedError

    def is_running(self, session: str) -> bool:
        """The session exists and its agent process is alive."""
        raise NotImplementedError

    def status(self, session: str) -> dict:
        """``{"session", "exists", "alive", "exit_status", "pid", "command"}``."""
        raise NotImplementedError

    def state(self, session: str) -> dict:
        """Busy/idle report: ``{"state": dead|dialog|busy|idle|unknown, "source", …}``."""
        raise NotImplementedError

    def is_idle(self, session: str) -> bool:
        raise NotImplementedError

    def wait_ready(self, session: str, timeout: float = 60.0) -> None:
        """Answer startup dialogs and wait for the ready prompt (or the runtime's fixed delay)."""
        raise NotImplementedError

    def wait_idle(self, session: str, timeout: float = 60.0) -> bool:
        raise NotImplementedError

    def last_activity(self, session: str) -> float | None:
        """Epoch seconds of the agent's latest sign of life (hook event or pane output)."""
        raise NotImplementedError

    def list_sessions(self, prefix: str = "vm-") -> list[str]:
        raise NotImplementedError

    def run_headless(self, prompt: str, *, cwd: str, timeout: float = 300.0,
                     runtime: RuntimeSpec | None = None) -> HeadlessResult:
        """One non-interactive prompt through the runtime's headless form."""
        raise NotImplementedError
