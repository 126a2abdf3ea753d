"""``vermas comment add|list``: comments on issues (bd's Comment: id, issue_id, author, text, created_at)."""

from __future__ import annotations

from vermas.cli import context
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Add and list comments on issues."
    parser.epilog = """examples:
  vermas comment add app-x7k "Reproduced on main"
  vermas comment add app-x7k -f notes.md       # text from a file ('-' = stdin)
  vermas comment list app-x7k --json
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    add = sub.add_parser("add", help="add a comment", description="Add a comment to an issue.")
    add.add_argument("issue", metavar="ID")
    add.add_argument("text", nargs="?", help="comment text (delivered literally)")
    add.add_argument("-f", "--file", metavar="PATH", help="read the text from PATH ('-' for stdin)")
    add.add_argument("--author", metavar="NAME", help="author (default: the actor)")
    add.add_common(json=True, rig=True)
    add.set_defaults(handler=run_add)
    lst = sub.add_parser("list", help="comments of an issue", description="The comments of an issue, oldest first.")
    lst.add_argument("issue", metavar="ID")
    lst.add_common(json=True, rig=True)
    lst.set_defaults(handler=run_list)


def run_add(env: Environment, args: Namespace) -> int:
    if args.file is not None:
        if args.text is not None:
            raise UsageError("give the text or --file, not both")
        if args.file == "-":
            text = env.stdin.read()
        else:
            try:
                with open(env.path(args.file), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                from vermas.errors import NotFoundError

                raise NotFoundError(f"cannot read {args.file}: {exc.strerror}") from None
    elif args.text is not None:
        text = args.text
    else:
        raise UsageError("no comment text", hint='vermas comment add ID "text"  (or -f FILE)')
    if not text.strip():
        raise UsageError("the comment text is empty")
    ledger = context.ledger_for(env, args, args.issue)
    with ledger.transaction(env.actor()) as tx:
        comment = tx.add_comment(ledger.get(args.issue)["id"], text, author=args.author)
    if args.json:
        env.print_json(comment)
    else:
        env.write(f"✓ Comment {comment['id']} added to {comment['issue_id']}")
    return 0


def run_list(env: Environment, args: Namespace) -> int:
    ledger = context.ledger_for(env, args, args.issue)
    issue = ledger.get(args.issue)
    comments = list(issue.get("comments") or [])
    if args.json:
        env.print_json(comments)
        return 0
    if not comments:
        env.write(f"{issue['id']} has no comments.")
    for comment in comments:
        env.write(f"[{comment.get('id')}] {comment.get('created_at', '')} {comment.get('author', '')}")
        for line in str(comment.get("text", "")).split("\n"):
            env.write(f"    {line}")
    return 0
