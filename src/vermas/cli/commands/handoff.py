"""``vermas handoff -m "…"``: leave notes for this agent's next session (mail to self on the hook)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Write a '🤝 HANDOFF' message to yourself. It is put on your hook when your hook is empty (work on the "
        "hook stays there); 'vermas prime' shows it to your next session, which resumes from the same hook and "
        "worktree. With --cycle the current session is replaced by a fresh one.")
    parser.epilog = """examples:
  vermas handoff -m "Done: parser + tests. Next: wire the CLI (cli.py), then vermas done."
  vermas handoff -s "context full" -m "..." --cycle
"""
    parser.add_argument("-m", "--message", required=True, help="what is done, what is next (markdown)")
    parser.add_argument("-s", "--subject", help="short summary for the subject line (default: the first line)")
    parser.add_argument("--cycle", action="store_true", help="restart this session fresh after the handoff")
    parser.add_argument("--agent", metavar="ADDR", help="hand off as this agent (default: you)")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town.handoff import handoff
    from vermas.town.layout import Town

    root = town_common.town_root(env)
    agent = town_common.require_agent(env, root, args.agent, what="'vermas handoff'")
    result = handoff(Town(root), agent, args.message, subject=args.subject, cycle=args.cycle, environ=env.environ)
    if args.json:
        env.print_json(result)
        return 0
    env.write(f"✓ Handoff {result['mail']} written for {agent.address}"
              + (" and put on your hook" if result["attached"] else f" (your hook keeps {result['hooked']})"))
    if result.get("cycle_pid"):
        env.write("  a fresh session will replace this one in a moment")
    return 0
