"""``vermas escalate``: raise, list, acknowledge and close escalations."""

from __future__ import annotations

from vermas.cli.commands.town_common import town_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

_ACTIONS = ("list", "ack", "close", "show")

EPILOG = """\
examples:
  vermas escalate -s high "refinery cannot push to main" -m "protected branch; needs a PR token"
  vermas escalate list            open escalations, most severe first
  vermas escalate ack hq-x7k      take ownership
  vermas escalate close hq-x7k --reason "token rotated"

routing: low → the escalation bead only; medium, high, critical → also ESCALATION mail to the mayor.
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.epilog = EPILOG
    parser.add_argument("words", nargs="+", metavar="MESSAGE | list | ack ID | close ID | show ID",
                        help="the problem in one line, or an action")
    parser.add_argument("-s", "--severity", default="medium", choices=("low", "medium", "high", "critical"),
                        help="how bad it is (default: medium)")
    parser.add_argument("-m", "--message", default="", help="details (body of the escalation)")
    parser.add_argument("--source", default="", help="what raised it (e.g. patrol:witness, inspector)")
    parser.add_argument("--issue", default="", help="the bead this is about")
    parser.add_argument("--reason", default="", help="with close: how it was resolved")
    parser.add_argument("--all", action="store_true", help="with list: include closed escalations")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.town import escalations

    root = town_root(env)
    actor = env.actor()
    action = args.words[0] if args.words[0] in _ACTIONS else None
    if action == "list":
        items = escalations.list_escalations(root, include_closed=args.all)
        if args.json:
            env.print_json(items)
        elif not items:
            env.write("no open escalations")
        for item in items if not args.json else ():
            env.write(f"{item['id']}  {item['severity']:<8} {item['status']:<11} {item['title']}")
        return 0
    if action in ("ack", "close", "show"):
        if len(args.words) != 2:
            from vermas.errors import UsageError

            raise UsageError(f"'vermas escalate {action}' takes one escalation id")
        target = args.words[1]
        if action == "ack":
            item = escalations.acknowledge(root, actor, target)
        elif action == "close":
            item = escalations.close(root, actor, target, args.reason)
        else:
            from vermas.ledger.store import Ledger
            from vermas.town.layout import Town

            with Ledger.open(Town(root).beads_dir) as ledger:
                item = escalations.describe(escalations.get_escalation(ledger, target))
        if args.json:
            env.print_json(item)
        else:
            env.write(f"{item['id']}  {item['severity']}  {item['status']}  {item['title']}")
        return 0
    bead = escalations.escalate(root, actor, " ".join(args.words), severity=args.severity, body=args.message,
                                source=args.source, related=args.issue)
    if args.json:
        env.print_json(bead)
    else:
        routed = f"; mailed {', '.join(bead['mailed'])}" if bead["mailed"] else ""
        env.write(f"escalation {bead['id']} ({args.severity}) recorded{routed}")
    return 0
