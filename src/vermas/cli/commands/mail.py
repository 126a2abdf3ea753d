"""``vermas mail``: mail between agents (message beads in the town ledger) and the nudge queue.

``send``, ``inbox``, ``read``, ``archive``, ``reply``, ``thread`` work on message beads (see
:mod:`vermas.town.mail`); ``check`` reports what waits for an agent and, with ``--inject``
(the UserPromptSubmit hook), drains the nudge queue into the context and announces new mail.

Each action's parser is built only when that action runs: ``mail check --inject`` runs on every
agent prompt, and every argparse parser costs milliseconds. Hot path: ``check --inject`` imports
only the standard library and small runtime/town modules.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

ACTIONS = {
    "send": "send a message (to an address or a pattern like <rig>/polecats/*)",
    "inbox": "list messages to you (unread first)",
    "read": "show messages and mark them read",
    "archive": "mark messages read and hide them from the inbox",
    "reply": "answer a message (same thread, to its sender)",
    "thread": "every message of a conversation",
    "check": "what waits for this agent (--inject: the UserPromptSubmit hook)",
}

EPILOG = """commands:
""" + "".join(f"  {name:<9} {text}\n" for name, text in ACTIONS.items()) + """
examples:
  vermas mail send app/witness -s "HELP: tests hang" -m "Problem: …"
  vermas mail send app/polecats/* -s "Freeze" -m "stop after this commit" --priority urgent
  vermas mail inbox --unread            # yours ($BD_ACTOR; a human is the overseer)
  vermas mail inbox --agent app/witness --json
  vermas mail read hq-4f2
  vermas mail reply hq-4f2 -m "done"
  vermas mail thread hq-4f2
  vermas mail check --inject            # UserPromptSubmit hook: nudges + new mail into the context

Addresses: mayor, deacon, overseer, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>,
<rig>/crew/<name>; patterns: <rig>/polecats/*, */witness, @witnesses. An unknown recipient is an
error (exit 3). Messages are beads of type message in the town ledger (Gas Town's labels).
'vermas mail <command> --help' shows a command's options.
"""

CHECK_EPILOG = """\
examples:
  vermas mail check                      # queued nudges and unread mail of this agent
  vermas mail check --inject             # UserPromptSubmit hook: drain them into the context

--inject prints queued nudges as one <system-reminder> block on stdout (Claude Code adds a
UserPromptSubmit hook's stdout to the agent's context), each exactly once, then announces mail
that arrived since the last announcement (each message once per session), records the prompt
in the session's activity file (busy), and exits 0 even when there is nothing, so a hook never
breaks a turn. The agent is $VERMAS_SESSION (set in every agent session), else the session of
$BD_ACTOR; the runtime dir is $VERMAS_RUNTIME_DIR, else <town>/.runtime.
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Mail between agents (stored as beads) and the nudge queue drained at turn boundaries."
    parser.epilog = EPILOG
    parser.add_argument("action", choices=tuple(ACTIONS), metavar="<command>", help="one of: " + ", ".join(ACTIONS))
    import argparse

    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run_action)


def run_action(env: Environment, args: Namespace) -> int:
    from vermas.cli.args import CommandParser

    sub = CommandParser(prog=f"vermas mail {args.action}", description=ACTIONS[args.action].capitalize() + ".",
                        env=env)
    {"send": _configure_send, "inbox": _configure_inbox, "read": _configure_read, "archive": _configure_archive,
     "reply": _configure_reply, "thread": _configure_thread, "check": _configure_check}[args.action](sub)
    sub_args = sub.parse_args(args.rest)
    if getattr(sub_args, "actor", None):
        env.actor_flag = sub_args.actor
    if getattr(sub_args, "town", None):
        env.town_flag = sub_args.town
    return int(sub_args.handler(env, sub_args) or 0)


# ------------------------------------------------------------------------------ parsers
def _configure_send(p: CommandParser) -> None:
    p.epilog = "examples:\n  vermas mail send mayor -s \"Need a decision\" -m \"A or B?\"\n" \
               "  vermas mail send app/polecats/* -s Freeze -m \"stop\" --priority urgent\n"
    p.add_argument("to", nargs="+", metavar="ADDRESS", help="recipients (addresses or patterns)")
    p.add_argument("-s", "--subject", required=True, help="subject line (protocol messages: TYPE <arg>)")
    p.add_argument("-m", "--message", default="", help="body (markdown; protocol: 'Key: value' lines first)")
    p.add_argument("--type", default="notification", dest="msg_type",
                   choices=("notification", "task", "reply", "escalation", "scavenge"), help="message type")
    p.add_argument("--priority", default="normal", help="urgent, high, normal (default), low, or 0-4")
    p.add_argument("--reply-to", metavar="MAIL_ID", help="the message this answers (joins its thread)")
    p.add_argument("--cc", action="append", default=[], metavar="ADDRESS", help="copy to (repeatable)")
    p.add_argument("--from", dest="sender", metavar="ADDRESS", help="send as (default: you)")
    p.add_common(json=True)
    p.set_defaults(handler=run_send)


def _configure_inbox(p: CommandParser) -> None:
    p.add_argument("--unread", action="store_true", help="only unread messages")
    p.add_argument("--all", action="store_true", help="include archived messages")
    p.add_argument("--agent", metavar="ADDRESS", help="whose inbox (default: you; a human is the overseer)")
    p.add_common(json=True)
    p.set_defaults(handler=run_inbox)


def _configure_read(p: CommandParser) -> None:
    p.add_argument("ids", nargs="+", metavar="MAIL_ID")
    p.add_argument("--keep-unread", action="store_true", help="show without marking read")
    p.add_common(json=True)
    p.set_defaults(handler=run_read)


def _configure_archive(p: CommandParser) -> None:
    p.add_argument("ids", nargs="+", metavar="MAIL_ID")
    p.add_common(json=True)
    p.set_defaults(handler=run_archive)


def _configure_reply(p: CommandParser) -> None:
    p.add_argument("id", metavar="MAIL_ID")
    p.add_argument("-m", "--message", required=True, help="the answer")
    p.add_argument("-s", "--subject", help="subject (default: Re: <original subject>)")
    p.add_argument("--priority", default="normal")
    p.add_common(json=True)
    p.set_defaults(handler=run_reply)


def _configure_thread(p: CommandParser) -> None:
    p.add_argument("id", metavar="MAIL_OR_THREAD_ID", help="any message of the thread, or thread-<hex>")
    p.add_common(json=True)
    p.set_defaults(handler=run_thread)


def _configure_check(p: CommandParser) -> None:
    p.epilog = CHECK_EPILOG
    p.add_argument("--inject", action="store_true",
                   help="print queued nudges and new mail as <system-reminder> blocks and consume them (hook mode)")
    p.add_argument("--session", metavar="NAME", help="the agent's session (default: $VERMAS_SESSION)")
    p.add_argument("--runtime-dir", metavar="DIR", help="runtime dir (default: $VERMAS_RUNTIME_DIR or town)")
    p.add_common(json=True)
    p.set_defaults(handler=check_command)


# ------------------------------------------------------------------------------ identity
def _me(env: Environment, root: str, explicit: str | None = None):
    """The agent acting (an agent address), else the overseer (a human)."""
    from vermas.cli.commands import town_common
    from vermas.town.identity import Agent

    agent = town_common.current_agent(env, root, explicit)
    return agent if agent is not None else Agent("overseer")


def _line(m: dict) -> str:
    flag = " " if m["read"] else "●"
    prio = f" [{m['priority']}]" if m["priority"] != "normal" else ""
    return f"{flag} {m['id']:<10} {m['timestamp'][:16].replace('T', ' ')}  {m['from']:<22}{prio} {m['subject']}"


def _show(env: Environment, m: dict) -> None:
    env.write(f"{m['id']}  {m['subject']}")
    env.write(f"From: {m['from']}    To: {m['to']}    Date: {m['timestamp']}    Priority: {m['priority']}")
    env.write(f"Type: {m['type']}    Thread: {m['thread_id']}" + (f"    Reply-To: {m['reply_to']}" if m["reply_to"]
                                                                     else ""))
    if m["cc"]:
        env.write("Cc: " + ", ".join(m["cc"]))
    env.write("")
    env.write(m["body"] or "(no body)")


# ------------------------------------------------------------------------------ handlers
def run_send(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    root = town_common.town_root(env)
    sender = args.sender or _me(env, root).address
    sent = mail.send(root, sender, list(args.to), args.subject, args.message,
                     msg_type=args.msg_type, priority=args.priority, reply_to=args.reply_to, cc=tuple(args.cc))
    if args.json:
        env.print_json(sent)
    else:
        for m in sent:
            env.write(f"✓ {m['id']} sent to {m['to']}: {m['subject']}")
    return 0


def run_inbox(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    root = town_common.town_root(env)
    me = _me(env, root, args.agent)
    messages = mail.inbox(root, me, unread_only=args.unread, include_archived=args.all)
    if args.json:
        env.print_json(messages)
        return 0
    unread = sum(1 for m in messages if not m["read"])
    env.write(f"Inbox of {me.address}: {len(messages)} message(s), {unread} unread")
    for m in messages:
        env.write("  " + _line(m))
    return 0


def run_read(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    root = town_common.town_root(env)
    messages = [mail.get(root, i) for i in args.ids]
    if not args.keep_unread:
        reader = _me(env, root).address
        messages = mail.mark_read(root, [m["id"] for m in messages], reader)
    if args.json:
        env.print_json(messages)
        return 0
    for n, m in enumerate(messages):
        if n:
            env.write("\n" + "─" * 60)
        _show(env, m)
    return 0


def run_archive(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    root = town_common.town_root(env)
    done = mail.mark_read(root, list(args.ids), _me(env, root).address, archive=True)
    if args.json:
        env.print_json(done)
    else:
        for m in done:
            env.write(f"✓ {m['id']} archived")
    return 0


def run_reply(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    root = town_common.town_root(env)
    sent = mail.reply(root, _me(env, root).address, args.id, args.message,
                      subject=args.subject, priority=args.priority)
    if args.json:
        env.print_json(sent)
    else:
        for m in sent:
            env.write(f"✓ {m['id']} sent to {m['to']}: {m['subject']}")
    return 0


def run_thread(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import mail

    messages = mail.thread(town_common.town_root(env), args.id)
    if args.json:
        env.print_json(messages)
        return 0
    env.write(f"Thread {messages[0]['thread_id']}: {len(messages)} message(s)")
    for m in messages:
        env.write("")
        env.write(f"── {m['id']}  {m['timestamp'][:19].replace('T', ' ')}  {m['from']} → {m['to']}")
        env.write(f"   {m['subject']}")
        for line in (m["body"] or "").splitlines():
            env.write(f"   {line}")
    return 0


# ------------------------------------------------------------------------------ check
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


def _unread_mail(env: Environment) -> tuple[list[dict], object | None, str | None]:
    """(unread messages, agent, town root) for the calling agent; empty when there is no agent/town."""
    from vermas.town import identity, mailpeek
    from vermas.town.layout import find_town_root

    root = env.town_flag or env.get("VERMAS_TOWN") or find_town_root(env.cwd)
    agent = identity.current(env.environ, root, env.cwd) if root else None
    if not root or agent is None:
        return [], agent, root
    try:
        return mailpeek.unread(root, agent), agent, root
    except OSError:
        return [], agent, root


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
        _announce_mail(env, runtime_dir, session)
        return 0
    session, runtime_dir = _context(env, args, quiet=False)
    pending = nudge_queue.pending(runtime_dir, session)
    unread, agent, _root = _unread_mail(env)
    if args.json:
        env.print_json({"session": session, "queued_nudges": len(pending),
                        "nudges": [{k: v for k, v in item.items() if not k.startswith("_")} for item in pending],
                        "agent": agent.address if agent is not None else None, "unread_mail": len(unread),
                        "mail": [{k: m[k] for k in ("id", "from", "subject", "priority", "timestamp")}
                                 for m in unread]})
    else:
        env.write(f"{session}: {len(pending)} queued nudge(s), {len(unread)} unread message(s)")
        for item in pending:
            env.write(f"  nudge from {item.get('sender') or '?'} at {item.get('timestamp', '')}: "
                      f"{str(item.get('message', ''))[:100]}")
        for m in unread:
            env.write(f"  mail {m['id']} from {m['from']}: {m['subject']}")
    return 0


def _announce_mail(env: Environment, runtime_dir: str, session: str) -> None:
    """Print new unread mail once per session (ids already announced are kept in the runtime dir)."""
    import json
    import os

    unread, _agent, _root = _unread_mail(env)
    if not unread:
        return
    path = os.path.join(runtime_dir, "mail_announced", session + ".json")
    try:
        with open(path, encoding="utf-8") as fh:
            seen = set(json.load(fh))
    except (OSError, ValueError, TypeError):
        seen = set()
    fresh = [m for m in unread if m["id"] not in seen]
    if not fresh:
        return
    from vermas.town import mailpeek

    env.write("<system-reminder>\n" + mailpeek.summary(fresh) + "\n</system-reminder>")
    env.stdout.flush()
    try:
        from vermas.fileops import atomic_write_text

        os.makedirs(os.path.dirname(path), exist_ok=True)
        keep = sorted(m["id"] for m in unread)  # what was read since is forgotten
        atomic_write_text(path, json.dumps(keep) + "\n", durable=False)
    except OSError:
        pass
