"""``vermas crew add|list|remove``: persistent full-clone workspaces in a rig."""

from __future__ import annotations

from vermas.cli.commands import town_common
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Manage crew: persistent workspaces (full git clones of the rig) for humans or "
                          "long-lived agents. Address: <rig>/crew/<name>.")
    parser.epilog = """examples:
  vermas crew add ann --rig app      # clone into <town>/app/crew/ann
  vermas crew list --rig app --json
  vermas crew remove ann --rig app   # refuses uncommitted/unpushed work without --force
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    add = sub.add_parser("add", help="create a crew workspace", description="Clone the rig for a crew member.")
    add.add_argument("name")
    add.add_common(json=True, rig=True)
    add.set_defaults(handler=run_add)
    lst = sub.add_parser("list", help="list crew", description="Crew members of one rig (or every rig).")
    lst.add_common(json=True, rig=True)
    lst.set_defaults(handler=run_list)
    rm = sub.add_parser("remove", help="delete a crew workspace", description="Delete a crew clone.")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="discard uncommitted or unpushed work")
    rm.add_common(json=True, rig=True)
    rm.set_defaults(handler=run_remove)


def _rig(args: Namespace, *, required: bool = True) -> str | None:
    if required and not args.rig:
        raise UsageError("which rig?", hint="pass --rig <name>")
    return args.rig


def run_add(env: Environment, args: Namespace) -> int:
    from vermas.town import crew

    town = town_common.town(env)
    env.info(f"cloning {args.rig} for crew member {args.name} …")
    info = crew.add(town, _rig(args), args.name)
    if args.json:
        env.print_json(info)
    else:
        env.write(f"✓ Crew {info['address']} ready at {info['path']} (branch {info['branch']})")
    return 0


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.town import crew, rigs

    town = town_common.town(env)
    names = [args.rig] if args.rig else rigs.rig_names(town)
    members = [m for rig in names for m in crew.list_crew(town, rig)]
    if args.json:
        env.print_json(members)
    elif not members:
        env.write("No crew yet. Add one with: vermas crew add <name> --rig <rig>")
    else:
        rows = [[m["address"], m["branch"] or "(detached)", str(m["dirty"]), m["path"]] for m in members]
        for line in town_common.table(rows, ["CREW", "BRANCH", "DIRTY", "PATH"]):
            env.write(line)
    return 0


def run_remove(env: Environment, args: Namespace) -> int:
    from vermas.town import crew

    town = town_common.town(env)
    crew.remove(town, _rig(args), args.name, force=args.force)
    if args.json:
        env.print_json({"removed": f"{args.rig}/crew/{args.name}"})
    else:
        env.write(f"✓ Crew {args.rig}/crew/{args.name} removed")
    return 0
