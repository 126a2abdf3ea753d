"""``vermas sync``: commit ``.beads``, pull --rebase (merging issues.jsonl issue by issue), push."""

from __future__ import annotations

from vermas.cli import context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Share the ledger through git: commit the tracked files of .beads (ignored local files such as the "
        "index and wisps stay out), pull with rebase when the branch has a remote, and push. If issues.jsonl "
        "conflicts, the two versions are merged issue by issue: every issue of both sides is kept, and for an "
        "issue changed on both sides the one with the newer updated_at wins. events.jsonl conflicts are merged "
        "as the union of both logs. A conflict in any other file undoes the pull and is reported."
    )
    parser.epilog = """examples:
  vermas sync
  vermas sync -m "triage" --no-push
  vermas sync --json
"""
    parser.add_argument("-m", "--message", metavar="TEXT", help="commit message")
    parser.add_argument("--no-pull", action="store_true", help="commit (and push) without pulling")
    parser.add_argument("--no-push", action="store_true", help="commit and pull, but do not push")
    parser.add_common(json=True, rig=True)
    parser.set_defaults(handler=run_sync)


def run_sync(env: Environment, args: Namespace) -> int:
    from vermas.ledger import sync

    beads_dir = context.beads_dir_for(env, args)
    result = sync.sync(beads_dir, env.actor(), message=args.message, pull=not args.no_pull,
                       push=not args.no_push, env=env.environ, progress=env.info)
    if args.json:
        env.print_json(result)
        return 0
    env.write(("✓ committed " if result["committed"] else "• nothing to commit in ") + result["beads_dir"])
    if result["remote"] is None:
        env.write("• no git remote: nothing pulled or pushed")
    else:
        where = f"{result['remote']}/{result['branch']}"
        if result["pulled"]:
            env.write(f"✓ pulled {where}")
        for merged in result["merged"]:
            detail = ""
            if "took_ours" in merged:
                total = sum(merged[k] for k in ("ours_only", "theirs_only", "same", "took_ours", "took_theirs"))
                both = merged["took_ours"] + merged["took_theirs"]
                detail = f" ({total} issues; {both} changed on both sides, newest kept)"
            env.write(f"✓ merged conflicting {merged['file']}{detail}")
        env.write(f"✓ pushed to {where}" if result["pushed"] else "• not pushed")
    return 0
