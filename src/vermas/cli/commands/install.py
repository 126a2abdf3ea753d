"""``vermas install <path>``: create (or repair) a town."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Create a town: the workspace for your rigs and agents (town ledger with prefix hq, routes.jsonl, "
        "settings, mayor and deacon homes, event log). Safe to re-run: it repairs what is missing and "
        "refuses a non-empty directory that is not a town."
    )
    parser.epilog = """examples:
  vermas install ~/town
  vermas install ~/town --name acme --owner alice --git
  cd ~/town && vermas rig add app ~/src/app     # next: add a project
"""
    parser.add_argument("path", help="directory of the town (created if missing)")
    parser.add_argument("--name", help="town name (default: the directory name)")
    parser.add_argument("--owner", default="", help="the overseer's name, recorded in mayor/town.json")
    parser.add_argument("--git", action="store_true", help="also make the town a git repository (first commit)")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: Namespace) -> int:
    import os

    from vermas.town.install import install

    path = env.path(os.path.expanduser(args.path))
    town, made = install(path, name=args.name, owner=args.owner or env.actor(), git=args.git)
    if args.json:
        env.print_json({"town": town.root, "name": town.name, "created": made})
        return 0
    if made:
        env.write(f"✓ Town {town.name} ready at {town.root}")
        for item in made:
            env.write(f"  + {item}")
    else:
        env.write(f"✓ Town {town.name} at {town.root} is already complete (nothing to do)")
    env.write("")
    env.write(f"Next: vermas --town {town.root} rig add <name> <git-url-or-path>")
    return 0
