"""Typed errors of the runtime layer; each is a :class:`vermas.errors.VermasError` with an exit code.

Callers (town, witness, refinery, Inspector) catch these by type: a refused start, a
message that never landed, a headless prompt that timed out or answered garbage are
distinct failures, and none of them is ever reported as success.
"""

from __future__ import annotations

from vermas.errors import ConflictError, DataError, NotFoundError, VermasError


class TmuxError(VermasError):
    """A ``tmux`` command failed (the message carries tmux's own stderr)."""

    def __init__(self, message: str, *, hint: str | None = None, argv: list[str] | None = None,
                 stderr: str = "") -> None:
        super().__init__(message, hint=hint)
        self.argv = list(argv or [])
        self.stderr = stderr


class TmuxNotInstalledError(NotFoundError):
    """The ``tmux`` binary is not on PATH."""


class RuntimeNotInstalledError(NotFoundError):
    """A runtime's binary (``claude``, ``codex``, …) is not on PATH."""


class SessionNotFoundError(NotFoundError):
    """No tmux session (agent) by that name on the selected server."""


class SessionExistsError(ConflictError):
    """A session by that name is already running."""


class ProviderError(VermasError):
    """Base of every failure a runtime provider reports instead of silently succeeding."""


class ProviderRefusedError(ProviderError):
    """The provider refuses the operation (the ``fail`` provider refuses everything)."""


class AgentExitedError(ProviderError):
    """The agent process exited (the pane is dead); ``evidence`` holds the pane's last lines."""

    def __init__(self, message: str, *, hint: str | None = None, evidence: str = "",
                 exit_status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.evidence = evidence
        self.exit_status = exit_status


class ReadyTimeoutError(ProviderError):
    """The agent did not show its ready prompt in time; ``evidence`` holds the pane's last lines."""

    def __init__(self, message: str, *, hint: str | None = None, evidence: str = "") -> None:
        super().__init__(message, hint=hint)
        self.evidence = evidence


class DeliveryError(ProviderError):
    """Text was sent to a session but never confirmed as accepted (after every retry)."""

    def __init__(self, message: str, *, hint: str | None = None, session: str = "", attempts: int = 0,
                 cleared: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.session = session
        self.attempts = attempts
        self.cleared = cleared


class QueueFullError(ConflictError):
    """The session's nudge queue already holds the maximum number of pending nudges."""


class RuntimeConfigError(DataError):
    """A runtime definition (preset or user config) is invalid: names the runtime, key and reason."""


class UnknownRuntimeError(NotFoundError):
    """No runtime (preset or user-defined) by that name."""


class RuntimeDirError(NotFoundError):
    """No runtime dir could be resolved (no argument, no $VERMAS_RUNTIME_DIR, no town)."""


class HeadlessError(ProviderError):
    """A headless one-shot prompt failed; carries the argv, return code, stdout and stderr tails.

    ``returncode`` is the child's exit status (``exit_code`` stays the CLI exit code of the error).
    """

    def __init__(self, message: str, *, hint: str | None = None, argv: list[str] | None = None,
                 returncode: int | None = None, stdout: str = "", stderr: str = "",
                 duration_ms: float = 0.0) -> None:
        super().__init__(message, hint=hint)
        self.argv = list(argv or [])
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.duration_ms = duration_ms


class HeadlessTimeoutError(HeadlessError):
    """The headless process ran past its timeout and was killed (with its process group)."""


class HeadlessExitError(HeadlessError):
    """The headless process exited non-zero, or reported an error in its own output."""


class HeadlessOutputError(HeadlessError):
    """The headless process succeeded but its output could not be parsed (garbage, empty, wrong shape)."""


class HeadlessNotInstalledError(HeadlessError):
    """The runtime's binary is not installed, or the runtime has no headless form."""

    exit_code = NotFoundError.exit_code
