"""``vermas done``: submit my branch to the merge queue, tell the witness, free my slot."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Finish the work on your hook (polecats). Refuses uncommitted changes (exit 5). Makes sure your branch is "
        "in the rig's repository, creates a merge-request bead (branch, target, source issue, worker, commit), "
        "mails POLECAT_DONE to the witness, clears your hook and frees your slot. The bead itself stays open "
        "(in_progress) until the refinery merges it. Safe to re-run after a crash: nothing is duplicated.")
    parser.epilog = """examples:
  git add -A && git commit -m "ap-x7k: add login page" && vermas done
  vermas done --status escalated -m "tests need a database I cannot start"
  vermas done --status deferred        # give the bead back to the pool
"""
    parser.add_argument("--status", default="completed", choices=("completed", "escalated", "deferred"),
                        help="completed (default: submit for merge), escalated (stuck: bead blocked), "
                             "deferred (bead back to open)")
    parser.add_argument("-m", "--message", default="", help="a note for the witness (goes into POLECAT_DONE)")
    parser.add_argument("--agent", metavar="ADDR", help="finish for this polecat (default: you)")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town.done import done
    from vermas.town.layout import Town

    root = town_common.town_root(env)
    agent = town_common.require_agent(env, root, args.agent, what="'vermas done'")
    result = done(Town(root), agent, status=args.status, note=args.message, environ=env.environ)
    if args.json:
        env.print_json(result)
        return 0
    if result.get("already_done"):
        env.write(f"✓ Already done: {result['bead']} ({result['exit']}, MR {result.get('mr') or '-'})")
        return 0
    env.write(f"✓ {result['bead']} {result['exit'].lower()}: branch {result['branch']} @ {result['commit'][:10]}")
    if result.get("mr"):
        env.write(f"  merge request {result['mr']} " + ("created" if result["created_mr"] else "already queued")
                  + f" (target {result['target']})")
    env.write(f"  POLECAT_DONE sent to the witness; hook cleared; bead is now {result['bead_status']}")
    if result.get("dispatcher_pid"):
        env.write("  queued work is being started on the free slot")
    env.write("You are idle now: stop here.")
    return 0
