"""``vermas mayor start|attach|stop|status``: the overseer's coordinator agent."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("The mayor breaks your goals into beads and convoys and slings them to polecats; it never "
                          "writes code. Its session runs in <town>/mayor with its role context.")
    parser.epilog = """examples:
  vermas mayor start                 # runtime: config runtime.mayor, then runtime.default
  vermas mayor start --runtime claude
  vermas mayor attach                # talk to it (detach with Ctrl-b d)
  vermas mayor status --json
  vermas mayor stop
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    start = sub.add_parser("start", help="start the mayor's session", description="Start the mayor's session.")
    start.add_argument("--runtime", help="agent runtime (default: config runtime.mayor → runtime.default)")
    start.add_argument("--attach", action="store_true", help="attach right after starting")
    start.add_argument("--no-wait", action="store_true", help="do not wait for the agent to be ready")
    start.add_common(json=True)
    start.set_defaults(handler=run_start)
    attach = sub.add_parser("attach", help="attach your terminal to the mayor",
                            description="Attach to the mayor's tmux session (starts it first if needed).")
    attach.add_common()
    attach.set_defaults(handler=run_attach)
    stop = sub.add_parser("stop", help="stop the mayor's session", description="Stop the mayor's session.")
    stop.add_common(json=True)
    stop.set_defaults(handler=run_stop)
    status = sub.add_parser("status", help="is the mayor running", description="The mayor's session state.")
    status.add_common(json=True)
    status.set_defaults(handler=run_status)


def run_start(env: Environment, args: Namespace) -> int:
    from vermas.town import mayor

    town = town_common.town(env)
    env.info("starting the mayor …")
    result = mayor.start(town, actor=env.actor(), runtime=args.runtime, environ=env.environ,
                         wait_ready=not args.no_wait)
    if args.json:
        env.print_json(result)
    else:
        env.write(f"✓ Mayor running ({result['runtime']}) in session {result['session']}")
        env.write(f"  attach: {result['attach']}")
    if args.attach:
        return _attach(env, town)
    return 0


def _attach(env: Environment, town) -> int:
    import os

    from vermas.town.mayor import MAYOR
    from vermas.town.sessions import attach_command

    argv = attach_command(town, MAYOR.session, env.environ)
    if not (env.stdout_isatty and env.stderr_isatty):
        env.write("not a terminal; attach yourself with: " + " ".join(argv))
        return 0
    os.execvp(argv[0], argv)
    return 0  # not reached


def run_attach(env: Environment, args: Namespace) -> int:
    from vermas.town import mayor

    town = town_common.town(env)
    if not mayor.status(town, env.environ)["running"]:
        env.info("the mayor is not running: starting it …")
        mayor.start(town, actor=env.actor(), environ=env.environ)
    return _attach(env, town)


def run_stop(env: Environment, args: Namespace) -> int:
    from vermas.town import mayor

    stopped = mayor.stop(town_common.town(env), actor=env.actor(), environ=env.environ)
    if args.json:
        env.print_json({"stopped": stopped})
    else:
        env.write("✓ Mayor stopped" if stopped else "The mayor was not running.")
    return 0


def run_status(env: Environment, args: Namespace) -> int:
    from vermas.town import mayor

    info = mayor.status(town_common.town(env), env.environ)
    if args.json:
        env.print_json(info)
    else:
        env.write(f"mayor: {'running' if info['running'] else 'stopped'} (session {info['session']})")
        if info["running"]:
            env.write(f"  attach: {info['attach']}")
    return 0
