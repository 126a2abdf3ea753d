"""argparse, adapted: errors become :class:`UsageError`, output goes to the Environment."""

from __future__ import annotations

import argparse
import sys

from vermas.cli.env import Environment
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, NoReturn


class ParserExit(Exception):
    """Raised instead of ``sys.exit`` after ``--help`` so the CLI can run in-process."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` bound to an :class:`Environment`."""

    def __init__(self, *args: Any, env: Environment, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.env = env

    def add_subparsers(self, **kwargs: Any) -> Any:
        def make(**kw: Any) -> CommandParser:
            return CommandParser(env=self.env, **kw)

        kwargs.setdefault("parser_class", make)
        kwargs.setdefault("metavar", "<command>")
        action = super().add_subparsers(**kwargs)
        action.required = True
        return action

    def add_common(self, *, json: bool = False, rig: bool = False) -> None:
        """Options every command accepts; ``json`` for queries, ``rig`` for ledger commands."""
        group = self.add_argument_group("common options")
        if json:
            group.add_argument("--json", action="store_true", help="print JSON instead of text")
        group.add_argument("--actor", metavar="NAME", help="act as NAME (default: $BD_ACTOR)")
        group.add_argument("--town", metavar="PATH", help="town root (default: $VERMAS_TOWN or search upward)")
        if rig:
            group.add_argument("--rig", metavar="RIG", help="act on this rig's ledger")

    # argparse hooks -------------------------------------------------------
    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse builds a formatter on every add_argument; its default width lookup imports
        # shutil (~4 ms with bz2/lzma), which every command would pay for nothing.
        return self.formatter_class(prog=self.prog, width=_terminal_width())

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        if message:
            stream = self.env.stdout if file is None or file is sys.stdout else self.env.stderr
            stream.write(message)

    def print_help(self, file: IO[str] | None = None) -> None:
        self.env.stdout.write(self.format_help())

    def print_usage(self, file: IO[str] | None = None) -> None:
        self.env.stderr.write(self.format_usage())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self.env.stderr.write(message)
        raise ParserExit(status)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"run '{self.prog} --help' for usage")


def _terminal_width() -> int:
    """``shutil.get_terminal_size().columns - 2`` (argparse's default) without importing shutil."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 20)


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def key_value(text: str) -> tuple[str, str]:
    """argparse type: ``key=value``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), value
