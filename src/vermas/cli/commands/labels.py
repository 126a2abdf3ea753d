"""``vermas label add|remove|list|list-all``: labels (kept sorted on each issue, as bd exports them)."""

from __future__ import annotations

from vermas.cli import context
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Add, remove and list labels ('label add ID... LABEL': the last argument is the label)."
    parser.epilog = """examples:
  vermas label add app-x7k backend
  vermas label add app-x7k app-q2c urgent     # several issues, one label
  vermas label remove app-x7k backend
  vermas label list app-x7k --json
  vermas label list-all                       # every label with its issue count
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    for verb, text in (("add", "add LABEL to issues"), ("remove", "remove LABEL from issues")):
        p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("items", nargs="+", metavar="ID... LABEL", help="issue ids, then the label")
        p.add_common(json=True, rig=True)
        p.set_defaults(handler=run_add if verb == "add" else run_remove)
    lst = sub.add_parser("list", help="labels of an issue", description="The labels of one issue.")
    lst.add_argument("issue", metavar="ID")
    lst.add_common(json=True, rig=True)
    lst.set_defaults(handler=run_list)
    everything = sub.add_parser("list-all", help="every label in the ledger with counts",
                                description="Every label used in the ledger, with how many issues carry it.")
    everything.add_common(json=True, rig=True)
    everything.set_defaults(handler=run_list_all)


def _split(items: list[str]) -> tuple[list[str], str]:
    if len(items) < 2:
        raise UsageError("give at least one issue id and a label", hint="vermas label add ID [ID...] LABEL")
    label = items[-1].strip()
    if not label:
        raise UsageError("the label must not be empty")
    return items[:-1], label


def _change(env: Environment, args: Namespace, adding: bool) -> int:
    ids, label = _split(args.items)
    results = []
    for ledger, group in context.ledgers_for_ids(env, args, ids):
        with ledger.transaction(env.actor()) as tx:
            for issue_id in group:
                real = ledger.get(issue_id)["id"]
                issue = tx.add_label(real, label) if adding else tx.remove_label(real, label)
                results.append({"issue_id": issue["id"], "label": label, "labels": issue.get("labels", [])})
    if args.json:
        env.print_json(results)
    else:
        verb = "Added" if adding else "Removed"
        for r in results:
            env.write(f"✓ {verb} label '{label}' {'to' if adding else 'from'} {r['issue_id']}")
    return 0


def run_add(env: Environment, args: Namespace) -> int:
    return _change(env, args, True)


def run_remove(env: Environment, args: Namespace) -> int:
    return _change(env, args, False)


def run_list(env: Environment, args: Namespace) -> int:
    ledger = context.ledger_for(env, args, args.issue)
    issue = ledger.get(args.issue)
    labels = list(issue.get("labels") or [])
    if args.json:
        env.print_json(labels)
    elif labels:
        for label in labels:
            env.write(label)
    else:
        env.write(f"{issue['id']} has no labels.")
    return 0


def run_list_all(env: Environment, args: Namespace) -> int:
    ledger = context.ledger_for(env, args)
    rows = ledger.conn.execute(
        "SELECT l.label, count(*) FROM labels l JOIN issues i ON i.id = l.issue_id "
        "WHERE i.status != 'tombstone' AND i.ephemeral = 0 GROUP BY l.label ORDER BY l.label").fetchall()
    if args.json:
        env.print_json([{"label": label, "count": count} for label, count in rows])
    elif rows:
        width = max(len(label) for label, _c in rows)
        for label, count in rows:
            env.write(f"{label.ljust(width)}  {count}")
    else:
        env.write("No labels.")
    return 0
