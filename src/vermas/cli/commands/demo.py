"""``vermas demo``: the main job end to end — town, rig, beads, three agents, submitted branches.

The logic lives in :mod:`vermas.town.demo`; this module is the command around it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Run the main job end to end in a fresh directory: install a town, create a sample repository with a "
        "test suite and add it as a rig, write three beads that each implement a small feature, sling them to "
        "three polecats running the simulated agent (or --runtime claude), show one live line per agent until "
        "every branch is submitted to the merge queue, and say where to look. Agents run on a private tmux "
        "server (vermas-demo-<pid>) and are left running so you can attach.")
    parser.epilog = """examples:
  vermas demo                         # a temp dir, the simulated agent, a private tmux server
  vermas demo --dir /tmp/town-demo    # keep it somewhere you choose
  vermas demo --runtime claude        # the same beads with Claude Code (when installed)
  vermas demo --json                  # progress on stderr, the summary as JSON on stdout
"""
    parser.add_argument("--dir", metavar="PATH", help="work in PATH (default: a new temp directory, kept)")
    parser.add_argument("--runtime", default="sim", help="agent runtime of the polecats (default: sim)")
    parser.add_argument("--socket", metavar="NAME", help="tmux server name (default: vermas-demo-<pid>)")
    parser.add_argument("--timeout", type=float, default=110.0, help="give up after this many seconds (default 110)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON (progress on stderr)")
    parser.set_defaults(handler=run_demo)


def run_demo(env: Environment, args: Namespace) -> int:
    import os

    from vermas.town.demo import Demo

    stream = env.stderr if args.json else env.stdout
    tty = (env.stderr_isatty if args.json else env.stdout_isatty) and env.get("TERM") != "dumb"

    def write(text: str = "", end: str = "\n") -> None:
        stream.write(text + end)
        stream.flush()

    if args.runtime != "sim":
        from vermas.runtime.presets import get_runtime, resolve_command

        spec = get_runtime(args.runtime)
        if resolve_command(spec.command, env.environ) is None:
            from vermas.errors import NotFoundError

            raise NotFoundError(f"runtime {args.runtime!r} needs {spec.command!r}, which is not installed",
                                hint="install it, or run the demo with the simulated agent (vermas demo)")
    directory = env.path(os.path.expanduser(args.dir)) if args.dir else None
    demo = Demo(directory, runtime=args.runtime, socket=args.socket, environ=env.environ, write=write, tty=tty,
                timeout=args.timeout)
    write(f"VerMAS demo in {demo.dir}")
    data = demo.run()
    if args.json:
        env.print_json(data)
    return 0
