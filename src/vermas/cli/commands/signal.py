"""``vermas signal``: Claude Code hook handlers (``stop`` for Stop, ``guard`` for PreToolUse).

Hot path: both run on every turn / tool call; standard library and small modules only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

STOP_EPILOG = """\
Installed as the Stop hook. At every turn boundary it records the agent as idle in its
activity file (the primary busy/idle signal), then drains nudges queued while the agent
was busy: if there are any it prints {"decision": "block", "reason": "<system-reminder>…"}
so the agent keeps going with them in context (each delivered exactly once), and records
the agent busy again. Nothing queued: prints nothing, exit 0. Never fails a turn.

examples:
  echo '{"session_id":"abc","stop_hook_active":false}' | vermas signal stop
  vermas signal stop --no-drain          # only record the turn boundary
"""

GUARD_EPILOG = """\
Installed as a PreToolUse hook on Bash. Reads the hook JSON on stdin and exits 2 (Claude
Code's "block") with the reason on stderr when the command is dangerous: recursive rm of
/ or ~, git push --force, sudo, system package installs, mkfs, dd onto devices, shutdown,
fork bombs (see docs/RUNTIME.md). Safe commands exit 0 silently; unreadable input exits 1
(a non-blocking hook error, shown to the user).

examples:
  echo '{"tool_name":"Bash","tool_input":{"command":"git push -f"}}' | vermas signal guard   # exit 2
  vermas signal guard --command 'rm -rf build/'                                              # exit 0
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Claude Code hook handlers: stop (turn boundary) and guard (dangerous commands)."
    sub = parser.add_subparsers(dest="signal_command", title="subcommands")
    stop = sub.add_parser("stop", help="Stop hook: record the turn boundary, deliver queued nudges",
                          description="Stop hook handler: turn boundary bookkeeping and queued nudges.",
                          epilog=STOP_EPILOG)
    stop.add_argument("--no-drain", action="store_true", help="do not deliver queued nudges (only record)")
    stop.add_argument("--session", metavar="NAME", help="the agent's session (default: $VERMAS_SESSION)")
    stop.add_argument("--runtime-dir", metavar="DIR", help="runtime dir (default: $VERMAS_RUNTIME_DIR or town)")
    stop.set_defaults(handler=stop_command)
    guard = sub.add_parser("guard", help="PreToolUse hook: exit 2 to block a dangerous shell command",
                           description="PreToolUse guard for dangerous shell commands (exit 2 blocks).",
                           epilog=GUARD_EPILOG)
    guard.add_argument("--command", metavar="CMD", help="check this command instead of reading hook JSON")
    guard.set_defaults(handler=guard_command)


def stop_command(env: Environment, args) -> int:
    from vermas.runtime import activity, naming, nudge_queue
    from vermas.runtime.errors import RuntimeDirError
    from vermas.runtime.hookio import read_hook_input
    from vermas.runtime.paths import resolve_runtime_dir

    hook = read_hook_input(env.stdin)
    session = args.session or naming.session_from_environment(env.environ)
    try:
        runtime_dir = resolve_runtime_dir(args.runtime_dir, environ=env.environ, cwd=env.cwd, town=env.town_flag)
    except RuntimeDirError:
        return 0
    if not session:
        return 0
    agent_id = hook.get("session_id")
    activity.record(runtime_dir, session, state="idle", event="Stop", turn=True, agent_session_id=agent_id)
    if args.no_drain:
        return 0
    items = nudge_queue.drain(runtime_dir, session)
    if not items:
        return 0
    import json

    try:
        env.write(json.dumps({"decision": "block", "reason": nudge_queue.format_reminder(items)}, ensure_ascii=False))
        env.stdout.flush()
    except BaseException:
        nudge_queue.release(items)
        raise
    nudge_queue.ack(items)
    activity.record(runtime_dir, session, state="busy", event="Stop(continue)", agent_session_id=agent_id)
    return 0


def guard_command(env: Environment, args) -> int:
    from vermas.runtime.guard import check_command

    if args.command is not None:
        command = args.command
    else:
        from vermas.runtime.hookio import read_hook_input

        hook = read_hook_input(env.stdin)
        if "_unparseable" in hook or not hook:
            env.stderr.write("vermas signal guard: no hook JSON on stdin (expected {\"tool_name\", \"tool_input\"})\n")
            return 1
        tool_input = hook.get("tool_input") if isinstance(hook.get("tool_input"), dict) else {}
        if hook.get("tool_name") not in (None, "Bash") or not isinstance(tool_input.get("command"), str):
            return 0
        command = tool_input["command"]
    reason = check_command(command)
    if reason is None:
        return 0
    env.stderr.write(f"BLOCKED by vermas signal guard: {reason}\n"
                     f"  command: {command[:300]}\n"
                     "  Do not retry it in another form; if it is really needed, ask the overseer.\n")
    return 2
