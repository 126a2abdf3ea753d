"""``vermas nudge <agent> <message>`` and ``vermas peek <agent>``: talk to and look at agent sessions."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

NUDGE_EPILOG = """\
<agent> is an address (mayor, app/witness, app/polecats/nux, app/nux, app/crew/ana) or a
session name (vm-app-nux). The message is typed literally: quotes, $(…), ;, backticks and
newlines reach the agent as text and nothing runs in a shell; control characters are
dropped. Use '-' to read the message from stdin.

modes:
  wait-idle  (default) type it now if the agent is idle; if it is busy, wait up to --wait
             seconds, then queue it (a hook delivers it at the next turn boundary)
  queue      only queue it (delivered by the UserPromptSubmit/Stop hooks, exactly once)
  immediate  type it now even if the agent is busy

examples:
  vermas nudge app/polecats/nux "check your hook"
  vermas nudge app/witness "POLECAT_DONE nux exit=COMPLETED" --mode queue
  git diff | vermas nudge vm-app-nux - --mode immediate --json

exit codes: 0 delivered or queued, 1 never accepted (after 3 retries, input cleared),
3 no such agent session, 5 queue full or delivery lock busy.
"""

PEEK_EPILOG = """\
examples:
  vermas peek app/polecats/nux            # last 30 lines
  vermas peek vm-app-witness -n 100 --json
"""


def configure(parser: CommandParser, name: str) -> None:
    if name == "peek":
        parser.description = "Show the last lines of an agent's terminal (and whether it is alive, busy or idle)."
        parser.epilog = PEEK_EPILOG
        parser.add_argument("agent", help="agent address or session name")
        parser.add_argument("-n", "--lines", type=_positive, default=30, help="how many lines (default 30)")
        parser.add_argument("--runtime-dir", metavar="DIR", help="runtime dir (default: $VERMAS_RUNTIME_DIR or town)")
        parser.add_common(json=True)
        parser.set_defaults(handler=peek_command)
        return
    parser.description = "Send a message into an agent's session, reliably and literally."
    parser.epilog = NUDGE_EPILOG
    parser.add_argument("agent", help="agent address or session name")
    parser.add_argument("message", help="the message ('-' reads stdin)")
    parser.add_argument("--mode", choices=("wait-idle", "queue", "immediate"), default="wait-idle",
                        help="delivery mode (default wait-idle)")
    parser.add_argument("--from", dest="sender", metavar="SENDER",
                        help="shown as '[from SENDER] ' (default: $BD_ACTOR when set)")
    parser.add_argument("--priority", choices=("normal", "urgent"), default="normal", help="queue priority")
    parser.add_argument("--wait", type=float, metavar="SECONDS",
                        help="wait-idle: how long to wait for idle before queueing (default 0 with hooks, 15 without)")
    parser.add_argument("--runtime-dir", metavar="DIR", help="runtime dir (default: $VERMAS_RUNTIME_DIR or town)")
    parser.add_common(json=True)
    parser.set_defaults(handler=nudge_command)


def _positive(text: str) -> int:
    from vermas.cli.args import positive_int

    return positive_int(text)


def _provider(env: Environment, args):
    from vermas.runtime.providers import get_provider

    return get_provider(environ=env.environ, runtime_dir=args.runtime_dir, cwd=env.cwd, town=env.town_flag)


def nudge_command(env: Environment, args) -> int:
    from vermas.errors import UsageError
    from vermas.runtime import naming

    message = env.stdin.read() if args.message == "-" else args.message
    if not message.strip():
        raise UsageError("empty message", hint="give the text to send, or '-' to read it from stdin")
    session = naming.resolve_target(args.agent)
    sender = args.sender if args.sender is not None else env.get("BD_ACTOR")
    provider = _provider(env, args)
    report = provider.nudge(session, message, mode=args.mode, sender=sender or None, priority=args.priority,
                            wait=args.wait)
    report = {"agent": args.agent, **report}
    if args.json:
        env.print_json(report)
    elif report.get("status") == "delivered":
        env.write(f"delivered to {session} ({report.get('method')}, {report.get('attempts')} Enter press(es), "
                  f"confirmed by {report.get('confirmed_by')}, {report.get('elapsed_ms', 0):.0f} ms)")
    else:
        env.write(f"queued for {session} ({report.get('reason')}); {report.get('pending')} pending")
    return 0


def peek_command(env: Environment, args) -> int:
    from vermas.runtime import naming

    session = naming.resolve_target(args.agent)
    provider = _provider(env, args)
    text = provider.peek(session, args.lines)
    if args.json:
        status = provider.status(session)
        try:
            state = provider.state(session) if status["alive"] else {"state": "dead"}
        except Exception:  # state is a best-effort extra in peek output
            state = {"state": "unknown"}
        env.print_json({"agent": args.agent, "session": session, "alive": status["alive"],
                        "exit_status": status["exit_status"], "state": state.get("state"),
                        "lines": text.split("\n") if text else []})
    else:
        env.write(text)
    return 0
