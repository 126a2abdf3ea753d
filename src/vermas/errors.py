"""Typed errors shared by every layer; each carries the CLI exit code it maps to.

Exit codes (documented in README and ``vermas --help``):
0 ok, 1 error, 2 usage, 3 not found, 4 permission, 5 conflict.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_PERMISSION = 4
EXIT_CONFLICT = 5


class VermasError(Exception):
    """A failure to report to the user: a message, an optional hint, an exit code."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(VermasError):
    """Bad command-line input (unknown flag, invalid value)."""

    exit_code = EXIT_USAGE


class NotFoundError(VermasError):
    """A named thing (bead, rig, agent, formula, file) does not exist."""

    exit_code = EXIT_NOT_FOUND


class PermissionDeniedError(VermasError):
    """The caller may not do this (a guard, a read-only file, a foreign directory)."""

    exit_code = EXIT_PERMISSION


class ConflictError(VermasError):
    """The request conflicts with current state (cycle, occupied slot, dirty worktree)."""

    exit_code = EXIT_CONFLICT


class DataError(VermasError):
    """Stored data is malformed (a bad JSONL line, a bad formula): names file and place."""

    exit_code = EXIT_ERROR
