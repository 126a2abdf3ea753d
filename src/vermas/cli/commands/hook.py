"""``vermas hook``: what is on my hook (``--json`` for agents); ``hook set|clear|attach``.

On the agents' hook path: only the standard library and small town modules are imported.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Show the work on an agent's hook (yours by default: $BD_ACTOR, else your directory). "
                          "A hook is the .beads/.hook-<agent> file (bead:<id>) plus the bead itself "
                          "(status=hooked, assignee=<agent>).")
    parser.epilog = """examples:
  vermas hook                                  # HOOKED: ap-x7k Add login page
  vermas hook --json                           # {"agent", "bead", "molecule", "hook", ...}
  vermas hook --agent app/polecats/nux
  vermas hook set app/polecats/nux ap-x7k      # hook without starting anything (sling starts)
  vermas hook attach hq-3f1                    # put a mail (a handoff) on your hook
  vermas hook clear app/polecats/nux           # take the work off (bead back to open)
"""
    parser.add_argument("--agent", metavar="ADDR", help="whose hook (default: you)")
    parser.add_common(json=True)
    parser.set_defaults(handler=run_show)
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    sub.required = False
    show = sub.add_parser("show", help="show a hook (the default)", description="Show an agent's hook.")
    show.add_argument("agent_pos", nargs="?", metavar="AGENT")
    show.add_common(json=True)
    show.set_defaults(handler=run_show)
    st = sub.add_parser("set", help="hook a bead to an agent", description="Hook a bead (or bead:<id>) to an agent "
                                                                          "without starting a session.")
    st.add_argument("agent_pos", metavar="AGENT")
    st.add_argument("ref", metavar="BEAD", help="bead id, or bead:<id> / mail:<id>")
    st.add_argument("--force", action="store_true", help="take the bead from another agent (needs --reason)")
    st.add_argument("--reason", help="why (recorded on the bead)")
    st.add_common(json=True)
    st.set_defaults(handler=run_set)
    cl = sub.add_parser("clear", help="empty a hook", description="Empty an agent's hook.")
    cl.add_argument("agent_pos", nargs="?", metavar="AGENT")
    cl.add_argument("--keep-bead", action="store_true", help="only remove the hook file; leave the bead as it is")
    cl.add_common(json=True)
    cl.set_defaults(handler=run_clear)
    at = sub.add_parser("attach", help="hook a mail message (handoff)", description="Put a mail on a hook.")
    at.add_argument("message", metavar="MAIL_ID")
    at.add_argument("agent_pos", nargs="?", metavar="AGENT")
    at.add_common(json=True)
    at.set_defaults(handler=run_attach)


def _who(env: Environment, args: Namespace, *, what: str):
    from vermas.cli.commands import town_common

    root = town_common.town_root(env)
    explicit = getattr(args, "agent_pos", None) or getattr(args, "agent", None)
    return root, town_common.require_agent(env, root, explicit, what=what)


def run_show(env: Environment, args: Namespace) -> int:
    from vermas.town import hookread

    root, agent = _who(env, args, what="'vermas hook'")
    info = hookread.read(root, agent)
    if args.json:
        env.print_json(info)
        return 0
    bead = info.get("bead")
    if bead is not None:
        env.write(f"HOOKED: {bead['id']} {bead.get('title', '')}")
        molecule = info.get("molecule")
        if molecule:
            env.write(f"  molecule {molecule['id']} ({molecule.get('formula')}): "
                      f"{molecule.get('finished', 0)}/{molecule.get('total', 0)} steps done")
        polecat = info.get("polecat") or {}
        if polecat.get("branch"):
            env.write(f"  branch {polecat['branch']}  worktree {polecat.get('worktree')}")
    elif info.get("mail"):
        message = info["mail"]
        env.write(f"HOOKED: mail {message.get('id')} {message.get('title', '')}")
    else:
        env.write("Hook is empty")
        if info.get("stale"):
            env.write(f"  (stale hook file: {info['stale']['id']} is {info['stale']['status']})")
    return 0


def run_set(env: Environment, args: Namespace) -> int:
    from vermas.errors import UsageError
    from vermas.town import work

    root, agent = _who(env, args, what="'vermas hook set'")
    if args.force and not args.reason:
        raise UsageError("--force needs --reason", hint='vermas hook set AGENT BEAD --force --reason "why"')
    ref_type, sep, ref_id = args.ref.partition(":")
    if not sep:
        ref_type, ref_id = "bead", args.ref
    if ref_type == "mail":
        message = work.attach_mail(root, agent, ref_id, actor=env.actor())
        result = {"agent": agent.address, "type": "mail", "id": message["id"]}
    elif ref_type == "bead":
        bead = work.set_hook(root, agent, ref_id, actor=env.actor(), force=args.force, reason=args.reason)
        result = {"agent": agent.address, "type": "bead", "id": bead["id"], "status": bead.get("status")}
    else:
        raise UsageError(f"unknown hook reference type {ref_type!r}", hint="use bead:<id> or mail:<id>")
    if args.json:
        env.print_json(result)
    else:
        env.write(f"✓ Hooked {result['type']} {result['id']} to {agent.address}")
    return 0


def run_clear(env: Environment, args: Namespace) -> int:
    from vermas.town import work

    root, agent = _who(env, args, what="'vermas hook clear'")
    bead = work.clear_hook(root, agent, actor=env.actor(), release_to=None if args.keep_bead else "open")
    if args.json:
        env.print_json({"agent": agent.address, "cleared": bead["id"] if bead else None})
    else:
        env.write(f"✓ Hook of {agent.address} cleared" + (f" ({bead['id']} released)" if bead else ""))
    return 0


def run_attach(env: Environment, args: Namespace) -> int:
    from vermas.town import work

    root, agent = _who(env, args, what="'vermas hook attach'")
    message = work.attach_mail(root, agent, args.message, actor=env.actor())
    if args.json:
        env.print_json({"agent": agent.address, "type": "mail", "id": message["id"]})
    else:
        env.write(f"✓ Mail {message['id']} is on the hook of {agent.address}")
    return 0
