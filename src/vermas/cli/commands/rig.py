"""``vermas rig add|list|status|remove``: projects (git repositories) in the town."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Manage rigs: each rig is one project with a shared bare repository (.repo.git), its own "
                          "ledger and prefix (routed from the town), and homes for witness, refinery, crew and "
                          "polecats.")
    parser.epilog = """examples:
  vermas rig add app ~/src/app                  # local path (or file:// / https:// / git@ URL)
  vermas rig add web https://github.com/me/web.git --prefix web --branch develop
  vermas rig list
  vermas rig status app --json
  vermas rig remove app
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    add = sub.add_parser("add", help="add a project to the town", description="Add a rig from a git URL or path.")
    add.add_argument("name", help="rig name (letters, digits, '-', '_')")
    add.add_argument("source", help="git URL or local repository path")
    add.add_argument("--prefix", help="beads id prefix for the rig's ledger (default: derived from the name)")
    add.add_argument("--branch", help="default branch (default: the source's HEAD branch)")
    add.add_common(json=True)
    add.set_defaults(handler=run_add)
    lst = sub.add_parser("list", help="list rigs", description="Every rig with its prefix, source and workers.")
    lst.add_common(json=True)
    lst.set_defaults(handler=run_list)
    st = sub.add_parser("status", help="one rig in detail", description="A rig's polecats, queues and sessions.")
    st.add_argument("name")
    st.add_common(json=True)
    st.set_defaults(handler=run_status)
    rm = sub.add_parser("remove", help="remove a rig", description="Unregister a rig and delete its directory.")
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="even when polecat worktrees hold uncommitted work")
    rm.add_common(json=True)
    rm.set_defaults(handler=run_remove)


def run_add(env: Environment, args: Namespace) -> int:
    from vermas.town.rigs import add_rig

    town = town_common.town(env)
    env.info(f"adding rig {args.name} from {args.source} …")
    info = add_rig(town, args.name, args.source, prefix=args.prefix, branch=args.branch, cwd=env.cwd)
    if args.json:
        env.print_json(info)
        return 0
    prefix = info["beads"]["prefix"]
    env.write(f"✓ Rig {args.name} added (prefix {prefix}-, branch {info['default_branch']})")
    env.write(f"  repo:   {town.rig(args.name).repo}")
    env.write(f"  ledger: {town.rig(args.name).beads_dir}")
    env.write("")
    env.write(f"Next: vermas create 'First task' --rig {args.name}   then   vermas sling <{prefix}-id> {args.name}")
    return 0


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.town.status import agents_and_rigs

    town = town_common.town(env)
    _agents, rigs = agents_and_rigs(town, env.environ)
    if args.json:
        env.print_json(rigs)
        return 0
    if not rigs:
        env.write("No rigs yet. Add one with: vermas rig add <name> <git-url-or-path>")
        return 0
    rows = [[r["name"], r["prefix"] + "-", r["default_branch"], f"{r['busy']}/{r['max_polecats']}",
             str(r["queue_depth"]), str(r["merge_queue_depth"]), r["git_url"]] for r in rigs]
    for line in town_common.table(rows, ["RIG", "PREFIX", "BRANCH", "SLOTS", "QUEUED", "MERGE Q", "SOURCE"]):
        env.write(line)
    return 0


def run_status(env: Environment, args: Namespace) -> int:
    from vermas.town.status import agents_and_rigs

    town = town_common.town(env)
    town_common.require_rig(town.root, args.name)
    agents, rigs = agents_and_rigs(town, env.environ)
    rig = next(r for r in rigs if r["name"] == args.name)
    members = [a for a in agents if a.get("rig") == args.name]
    if args.json:
        env.print_json({**rig, "agents": members})
        return 0
    env.write(f"Rig {rig['name']} ({rig['prefix']}-)  branch {rig['default_branch']}  source {rig['git_url']}")
    env.write(f"  polecat slots: {rig['busy']}/{rig['max_polecats']} busy   sling queue: {rig['queue_depth']}"
              f"   merge queue: {rig['merge_queue_depth']}")
    if rig["queue"]:
        env.write("  queued: " + ", ".join(rig["queue"]))
    rows = [[a["address"], a["role"], a["state"], "yes" if a["running"] else "no",
             (a["bead"] or "") + (f" {a['title']}" if a.get("title") else "")] for a in members]
    for line in town_common.table(rows, ["AGENT", "ROLE", "STATE", "SESSION", "HOOKED"]):
        env.write("  " + line)
    return 0


def run_remove(env: Environment, args: Namespace) -> int:
    from vermas.town.rigs import remove_rig

    town = town_common.town(env)
    remove_rig(town, args.name, force=args.force)
    if args.json:
        env.print_json({"removed": args.name})
    else:
        env.write(f"✓ Rig {args.name} removed")
    return 0
