"""``vermas convoy create|add|status|list|land|check``: tracked bundles of beads across rigs."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Convoys track a bundle of beads (possibly across rigs). A convoy is a bead hq-cv-… in the "
                          "town ledger with 'tracks' dependencies; it lands (closes) by itself when every tracked "
                          "bead is closed and mails its owner.")
    parser.epilog = """examples:
  vermas convoy create "Login feature" ap-x7k ap-q2c web-9fz --owner mayor
  vermas convoy add hq-cv-4k2p9 ap-z1z
  vermas convoy status hq-cv-4k2p9 --json
  vermas convoy list --all
  vermas convoy check                   # land every convoy whose beads are all closed
  vermas convoy land hq-cv-4k2p9 --force --reason "descoped"
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    create = sub.add_parser("create", help="create a convoy", description="Create a convoy tracking beads.")
    create.add_argument("name")
    create.add_argument("ids", nargs="+", metavar="ID", help="bead ids (any rig; routed by prefix)")
    create.add_argument("--owner", help="who is told when it lands (default: you)")
    create.add_argument("--notify", help="another address to tell when it lands")
    create.add_common(json=True)
    create.set_defaults(handler=run_create)
    add = sub.add_parser("add", help="track more beads", description="Add beads to a convoy (reopens it if landed).")
    add.add_argument("convoy")
    add.add_argument("ids", nargs="+", metavar="ID")
    add.add_common(json=True)
    add.set_defaults(handler=run_add)
    st = sub.add_parser("status", help="progress of one convoy", description="A convoy and its tracked beads.")
    st.add_argument("convoy")
    st.add_common(json=True)
    st.set_defaults(handler=run_status)
    lst = sub.add_parser("list", help="list convoys", description="Open convoys (all with --all) and progress.")
    lst.add_argument("--all", action="store_true", help="include landed convoys")
    lst.add_common(json=True)
    lst.set_defaults(handler=run_list)
    land = sub.add_parser("land", help="close a convoy", description="Land a convoy (refused while beads are open).")
    land.add_argument("convoy")
    land.add_argument("--force", action="store_true", help="land even with unfinished beads (needs --reason)")
    land.add_argument("--reason", help="why (recorded as the close reason)")
    land.add_common(json=True)
    land.set_defaults(handler=run_land)
    check = sub.add_parser("check", help="land complete convoys",
                           description="Land every open convoy whose tracked beads are all closed.")
    check.add_common(json=True)
    check.set_defaults(handler=run_check)


def _actor(env: Environment) -> str:
    return env.actor()


def run_create(env: Environment, args: Namespace) -> int:
    from vermas.town import convoys

    root = town_common.town_root(env)
    actor = _actor(env)
    view = convoys.create(root, args.name, args.ids, owner=args.owner or actor, notify=args.notify, actor=actor)
    if args.json:
        env.print_json(view)
    else:
        env.write(f"✓ Convoy {view['id']} '{view['name']}' tracking {view['total']} bead(s)")
    return 0


def run_add(env: Environment, args: Namespace) -> int:
    from vermas.town import convoys

    view = convoys.add(town_common.town_root(env), args.convoy, args.ids, actor=_actor(env))
    if args.json:
        env.print_json(view)
    else:
        env.write(f"✓ Convoy {view['id']} now tracks {view['total']} bead(s)")
    return 0


def _print(env: Environment, view: dict) -> None:
    mark = "landed" if view["status"] == "closed" else ("complete" if view["complete"] else "open")
    env.write(f"{view['id']}  {view['name']}  [{mark}]  {view['closed']}/{view['total']} closed  "
              f"owner {view['owner']}")
    for t in view["tracked"]:
        who = f"  ({t['assignee']})" if t["assignee"] else ""
        env.write(f"  {'✓' if t['status'] == 'closed' else '·'} {t['id']:<14} {t['status']:<12} {t['title']}{who}")


def run_status(env: Environment, args: Namespace) -> int:
    from vermas.town import convoys

    root = town_common.town_root(env)
    view = convoys.status(root, args.convoy)
    if view["complete"] and view["status"] != "closed":
        convoys.on_bead_closed(root, view["tracked"][-1]["id"], actor=_actor(env))
        view = convoys.status(root, view["id"])
    if args.json:
        env.print_json(view)
    else:
        _print(env, view)
    return 0


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.town import convoys

    root = town_common.town_root(env)
    convoys.check_all(root, actor=_actor(env))  # a convoy whose beads all closed lands now
    views = convoys.list_convoys(root, include_closed=args.all)
    if args.json:
        env.print_json(views)
    elif not views:
        env.write("No open convoys." + ("" if args.all else " (--all shows landed ones)"))
    else:
        rows = [[v["id"], "landed" if v["status"] == "closed" else "open", f"{v['closed']}/{v['total']}",
                 v["owner"], v["name"]] for v in views]
        for line in town_common.table(rows, ["CONVOY", "STATUS", "DONE", "OWNER", "NAME"]):
            env.write(line)
    return 0


def run_land(env: Environment, args: Namespace) -> int:
    from vermas.errors import UsageError
    from vermas.town import convoys

    if args.force and not args.reason:
        raise UsageError("--force needs --reason", hint='vermas convoy land ID --force --reason "why"')
    view = convoys.land(town_common.town_root(env), args.convoy, actor=_actor(env), force=args.force,
                        reason=args.reason)
    if args.json:
        env.print_json(view)
    else:
        env.write(f"✓ Convoy {view['id']} landed ({view['close_reason']})")
    return 0


def run_check(env: Environment, args: Namespace) -> int:
    from vermas.town import convoys

    landed = convoys.check_all(town_common.town_root(env), actor=_actor(env))
    if args.json:
        env.print_json({"landed": landed})
    elif landed:
        for convoy_id in landed:
            env.write(f"✓ Convoy {convoy_id} landed")
    else:
        env.write("No convoy ready to land.")
    return 0
