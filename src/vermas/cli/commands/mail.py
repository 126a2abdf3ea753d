"""``vermas mail``: mail between agents. For now ``check`` (with ``--inject`` for the UserPromptSubmit hook).

Structured for the town's mail commands (send, inbox, read, …): each is a subcommand
registered in :func:`configure`; ``check --inject`` will also report unread mail.

Hot path: ``mail check --inject`` runs on every agent prompt; it imports only the
standard library and small runtime modules.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

CHECK_EPILOG = """\
examples:
  vermas mail check                      # how many nudges are queued for this agent
  vermas mail check --inject             # UserPromptSubmit hook: drain them into the context

--inject prints queued nudges as one <system-reminder> block on stdout (Claude Code adds a
UserPromptSubmit hook's stdout to the agent's context), each exactly once, records the
prompt in the session's activity file (busy), and exits 0 even when there is nothing, so a
hook never breaks a turn. The agent is $VERMAS_SESSION (set in every agent session), else
the session of $BD_ACTOR; the runtime dir is $VERMAS_RUNTIME_DIR, else <town>/.runtime.
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Mail between agents (stored as beads) and the nudge queue drained at turn boundaries."
    sub = parser.add_subparsers(dest="mail_command", title="subcommands")
    check = sub.add_parser("check", help="queued messages for this agent (--inject: print them for the hook)",
                           description="Report, or with --inject deliver, what is waiting for this agent.",
                           epilog=CHECK_EPILOG)
    check.add_argument("--inject", action="store_true",
                       help="print queued nudges as a <system-reminder> block and consume them (hook mode)")
    check.add_argument("--session", metavar="NAME", help="the agent's session (default: $VERMAS_SESSION)")
    check.add_argument("--runtime-dir", metavar="DIR", help="runtime dir (default: $VERMAS_RUNTIME_DIR or town)")
    check.add_common(json=True)
    check.set_defaults(handler=check_command)


def _context(env: Environment, args, *, quiet: bool) -> tuple[str | None, str | None]:
    """(session, runtime_dir); in hook mode missing context is not an error."""
    from vermas.runtime import naming
    from vermas.runtime.errors import RuntimeDirError
    from vermas.runtime.paths import resolve_runtime_dir

    session = args.session or naming.session_from_environment(env.environ)
    try:
        runtime_dir = resolve_runtime_dir(args.runtime_dir, environ=env.environ, cwd=env.cwd, town=env.town_flag)
    except RuntimeDirError:
        if quiet:
            return session, None
        raise
    if not session and not quiet:
        from vermas.errors import UsageError

        raise UsageError("which agent? no --session, $VERMAS_SESSION or agent $BD_ACTOR",
                         hint="run inside an agent session, or pass --session vm-<rig>-<name>")
    return session, runtime_dir


def check_command(env: Environment, args) -> int:
    from vermas.runtime import nudge_queue

    if args.inject:
        from vermas.runtime import activity
        from vermas.runtime.hookio import read_hook_input

        hook = read_hook_input(env.stdin)
        session, runtime_dir = _context(env, args, quiet=True)
        if not session or not runtime_dir:
            return 0
        event = hook.get("hook_event_name") or "UserPromptSubmit"
        activity.record(runtime_dir, session, state="busy" if event == "UserPromptSubmit" else "idle", event=event,
                        prompt=event == "UserPromptSubmit", agent_session_id=hook.get("session_id"))
        items = nudge_queue.drain(runtime_dir, session)
        if items:
            try:
                env.write(nudge_queue.format_reminder(items))
                env.stdout.flush()
            except BaseException:
                nudge_queue.release(items)
                raise
            nudge_queue.ack(items)
        return 0
    session, runtime_dir = _context(env, args, quiet=False)
    pending = nudge_queue.pending(runtime_dir, session)
    if args.json:
        env.print_json({"session": session, "queued_nudges": len(pending),
                        "nudges": [{k: v for k, v in item.items() if not k.startswith("_")} for item in pending]})
    else:
        env.write(f"{session}: {len(pending)} queued nudge(s)")
        for item in pending:
            env.write(f"  from {item.get('sender') or '?'} at {item.get('timestamp', '')}: "
                      f"{str(item.get('message', ''))[:100]}")
    return 0
