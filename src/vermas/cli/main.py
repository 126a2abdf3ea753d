"""``vermas`` entry point: global options, lazy command dispatch, error → exit code."""

from __future__ import annotations

import sys

from vermas.cli.env import Environment
from vermas.cli.registry import ALIASES, COMMANDS, FAST_PATHS, SECTIONS
from vermas.errors import EXIT_USAGE, UsageError, VermasError

_GLOBAL_WITH_VALUE = {"--town": "town_flag", "--actor": "actor_flag"}


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 error, 2 usage, 3, 4, 5)."""
    env = env if env is not None else Environment()
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        rest = _take_global_options(args_in, env)
        if env.environ.get("VERMAS_SESSION"):  # an agent session: this call is a heartbeat
            from vermas.town.heartbeat import touch

            touch(env.environ, rest)
        if not rest or rest[0] in ("-h", "--help", "help"):
            if len(rest) > 1 and rest[0] == "help":
                return main([rest[1], "--help"], env)
            env.stdout.write(top_level_help())
            return 0
        if rest[0] in ("-V", "--version", "version"):
            from vermas import __version__

            env.write(f"vermas {__version__}")
            return 0
        fast = FAST_PATHS.get(tuple(rest))
        if fast is not None:
            return _run_fast(fast, env)
        return _run_command(rest, env)
    except VermasError as exc:
        env.error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        env.stderr.write("\nvermas: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


def _run_fast(entry: tuple[str, dict], env: Environment) -> int:
    """Run a hook-path command line without argparse (its namespace is precomputed)."""
    import importlib
    from types import SimpleNamespace

    target, values = entry
    module_name, _sep, function = target.partition(":")
    handler = getattr(importlib.import_module(module_name), function)
    return int(handler(env, SimpleNamespace(**values)) or 0)


def _run_command(argv: list[str], env: Environment) -> int:
    from vermas.cli.args import ParserExit

    try:
        return _parse_and_run(argv, env)
    except ParserExit as exc:
        return exc.status


def _parse_and_run(argv: list[str], env: Environment) -> int:
    from vermas.cli.args import CommandParser

    name = ALIASES.get(argv[0], argv[0])
    spec = COMMANDS.get(name)
    if spec is None:
        raise UsageError(f"unknown command {argv[0]!r}", hint=_suggest(argv[0]))
    module_name, summary, _section = spec
    import importlib

    module = importlib.import_module(module_name)
    parser = CommandParser(prog=f"vermas {name}", description=summary, env=env)
    module.configure(parser, name)
    args = parser.parse_args(argv[1:])
    if getattr(args, "actor", None):
        env.actor_flag = args.actor
    if getattr(args, "town", None):
        env.town_flag = args.town
    handler = getattr(args, "handler", None)
    if handler is None:  # a group invoked without its subcommand
        parser.print_help()
        return EXIT_USAGE
    return int(handler(env, args) or 0)


def _take_global_options(argv: list[str], env: Environment) -> list[str]:
    """Consume ``--town X`` / ``--actor X`` given before the command name."""
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        flag, eq, value = argv[i].partition("=")
        attr = _GLOBAL_WITH_VALUE.get(flag)
        if attr is None:
            break
        if not eq:
            if i + 1 >= len(argv):
                raise UsageError(f"{flag} needs a value")
            value = argv[i + 1]
            i += 1
        setattr(env, attr, value)
        i += 1
    return argv[i:]


def _suggest(word: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(COMMANDS) + list(ALIASES), n=3)
    if close:
        return "did you mean: " + ", ".join(close) + "?  (vermas --help lists every command)"
    return "run 'vermas --help' to list the commands"


def top_level_help() -> str:
    from vermas import __version__

    lines = [
        f"vermas {__version__}: verifiable multi-agent orchestration",
        "",
        "usage: vermas [--town PATH] [--actor NAME] <command> [options]",
        "       vermas <command> --help",
        "",
    ]
    width = max((len(n) for n in COMMANDS), default=10) + 2
    for section in SECTIONS:
        names = sorted(n for n, spec in COMMANDS.items() if spec[2] == section)
        if not names:
            continue
        lines.append(f"{section}:")
        lines.extend(f"  {n.ljust(width)}{COMMANDS[n][1]}" for n in names)
        lines.append("")
    lines += [
        "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 permission denied, 5 conflict.",
        "Identity: --actor > $BD_ACTOR > git user.name > $USER.  Town: --town > $VERMAS_TOWN > search upward.",
        "",
    ]
    return "\n".join(lines)
