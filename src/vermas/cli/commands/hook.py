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
    # One parser, no subparsers: agents run 'vermas hook --json' on every start, and each
    # argparse parser costs milliseconds of gettext lookups.
    parser.description = ("Show the work on an agent's hook (yours by default: $BD_ACTOR, else your directory). "
                          "A hook is the .beads/.hook-<agent> file (bead:<id>) plus the bead itself "
                          "(status=hooked, assignee=<agent>).")
    parser.epilog = """actions:
  show [AGENT]              show a hook (the default)
  set AGENT BEAD            hook a bead (or bead:<id> / mail:<id>) without starting a session
  clear [AGENT]             empty a hook; the bead goes back to open (--keep-bead leaves it)
  attach MAIL_ID [AGENT]    put a mail (a handoff) on a hook

examples:
  vermas hook                                  # HOOKED: ap-x7k Add login page
  vermas hook --json                           # {"agent", "bead", "molecule", "hook", ...}
  vermas hook show app/polecats/nux
  vermas hook set app/polecats/nux ap-x7k      # hook without starting anything (sling starts)
  vermas hook attach hq-3f1                    # put a mail (a handoff) on your hook
  vermas hook clear app/polecats/nux           # take the work off (bead back to open)
"""
    parser.add_argument("action", nargs="?", default="show", choices=("show", "set", "clear", "attach"),
                        help="show (default), set, clear or attach")
    parser.add_argument("operands", nargs="*", metavar="ARG", help="the action's arguments (see below)")
    parser.add_argument("--agent", metavar="ADDR", help="whose hook (default: you)")
    parser.add_argument("--force", action="store_true", help="set: take the bead from another agent (needs --reason)")
    parser.add_argument("--reason", help="set: why (recorded on the bead)")
    parser.add_argument("--keep-bead", action="store_true", help="clear: only remove the hook file")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: Namespace) -> int:
    from vermas.errors import UsageError

    wanted = {"show": (0, 1), "set": (2, 2), "clear": (0, 1), "attach": (1, 2)}[args.action]
    if not wanted[0] <= len(args.operands) <= wanted[1]:
        usage = {"show": "[AGENT]", "set": "AGENT BEAD", "clear": "[AGENT]", "attach": "MAIL_ID [AGENT]"}
        raise UsageError(f"'vermas hook {args.action}' takes {usage[args.action]}",
                         hint="run 'vermas hook --help' for the actions")
    ops = list(args.operands)
    if args.action == "set":
        args.agent_pos, args.ref = ops
    elif args.action == "attach":
        args.message = ops[0]
        args.agent_pos = ops[1] if len(ops) > 1 else None
    else:
        args.agent_pos = ops[0] if ops else None
    handler = {"show": run_show, "set": run_set, "clear": run_clear, "attach": run_attach}[args.action]
    return handler(env, args)


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
