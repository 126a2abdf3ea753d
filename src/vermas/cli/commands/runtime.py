"""``vermas runtime list|show|check``: the agent runtimes (presets and user-defined) and whether they work here."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
Runtimes are data: the presets (claude, codex, gemini, opencode, aider, sim) plus
user-defined tables from config (--config FILE: TOML [runtimes.<name>] tables, or JSON
{"runtimes": {...}}; the town loads the same tables from its settings). See
docs/RUNTIME.md, "Runtimes as data".

examples:
  vermas runtime list
  vermas runtime show claude --json
  vermas runtime check                   # every runtime: binary, version, hooks installable
  vermas runtime check sim claude        # exit 3 if one of them is not installed
  vermas runtime list --config ~/town/settings/runtimes.toml
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "List, show and check the agent runtimes VerMAS can drive."
    parser.epilog = EPILOG
    sub = parser.add_subparsers(dest="runtime_command", title="subcommands")
    lst = sub.add_parser("list", help="every runtime with its command, hooks and whether it is installed",
                         description="List the runtimes (presets and user-defined).", epilog=EPILOG)
    show = sub.add_parser("show", help="one runtime's full definition",
                          description="Show one runtime's definition (the config contract's keys).", epilog=EPILOG)
    show.add_argument("runtime", help="runtime name")
    check = sub.add_parser("check", help="binary present, version, hooks installable",
                           description="Check runtimes: binary on PATH, its version, hooks installable, headless form.",
                           epilog=EPILOG)
    check.add_argument("runtimes", nargs="*", metavar="RUNTIME", help="runtimes to check (default: all)")
    for p, handler in ((lst, list_command), (show, show_command), (check, check_command)):
        p.add_argument("--config", metavar="FILE", help="also load user-defined runtimes from this file")
        p.add_common(json=True)
        p.set_defaults(handler=handler)


def _runtimes(env: Environment, args) -> dict:
    from vermas.runtime.presets import load_runtime_file, load_runtimes

    user, source = None, "config"
    if args.config:
        source = env.path(args.config)
        user = load_runtime_file(source)
    return load_runtimes(user, source=source)


def list_command(env: Environment, args) -> int:
    from vermas.runtime.presets import resolve_command

    specs = _runtimes(env, args)
    rows = []
    for name, spec in specs.items():
        path = resolve_command(spec.command, env.environ)
        rows.append({"name": name, "command": spec.command, "installed": path is not None, "path": path,
                     "hooks": spec.hooks, "headless": spec.headless is not None, "source": spec.source,
                     "description": spec.description})
    if args.json:
        env.print_json(rows)
        return 0
    width = max(len(r["name"]) for r in rows) + 2
    env.write(f"{'NAME'.ljust(width)}{'COMMAND'.ljust(14)}{'INSTALLED'.ljust(11)}{'HOOKS'.ljust(8)}DESCRIPTION")
    for r in rows:
        installed = "yes" if r["installed"] else "no"
        env.write(f"{r['name'].ljust(width)}{r['command'][:13].ljust(14)}{installed.ljust(11)}"
                  f"{r['hooks'].ljust(8)}{r['description']}")
    return 0


def show_command(env: Environment, args) -> int:
    from vermas.runtime.errors import UnknownRuntimeError

    specs = _runtimes(env, args)
    spec = specs.get(args.runtime)
    if spec is None:
        raise UnknownRuntimeError(f"unknown runtime {args.runtime!r}",
                                  hint="known runtimes: " + ", ".join(sorted(specs)))
    data = spec.to_dict()
    if args.json:
        env.print_json(data)
        return 0
    for key, value in data.items():
        if isinstance(value, dict) and key == "headless":
            for sub_key, sub_value in value.items():
                env.write(f"headless.{sub_key}: {sub_value}")
        else:
            env.write(f"{key}: {value}")
    return 0


def check_command(env: Environment, args) -> int:
    from vermas.errors import EXIT_NOT_FOUND
    from vermas.runtime.check import check_runtime
    from vermas.runtime.errors import UnknownRuntimeError

    specs = _runtimes(env, args)
    names = args.runtimes or list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise UnknownRuntimeError(f"unknown runtime {unknown[0]!r}", hint="known runtimes: " + ", ".join(sorted(specs)))
    results = []
    for name in names:
        env.info(f"checking {name} …")
        results.append(check_runtime(specs[name], environ=env.environ))
    if args.json:
        env.print_json(results)
    else:
        for r in results:
            env.write(f"{r['name']}: {'ok' if r['ok'] else 'NOT OK'}")
            env.write(f"  binary:   {r['path'] or 'not found (' + r['command'] + ')'}")
            env.write(f"  version:  {r['version'] or '-'}")
            env.write(f"  hooks:    {r['hooks']}")
            env.write(f"  headless: {r['headless']}")
            for problem in r["problems"]:
                env.write(f"  problem:  {problem}")
    if args.runtimes and not all(r["ok"] for r in results):
        return EXIT_NOT_FOUND
    return 0
