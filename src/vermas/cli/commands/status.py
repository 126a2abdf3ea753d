"""``vermas status`` and ``vermas agents``: the town at a glance."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    if name == "agents":
        parser.description = "Every agent of the town: role, state, session, hooked work, unread mail."
        parser.epilog = """examples:
  vermas agents
  vermas agents --rig app --json
  vermas agents --running             # only agents whose session is up
"""
        parser.add_argument("--running", action="store_true", help="only agents with a running session")
        parser.add_common(json=True, rig=True)
        parser.set_defaults(handler=run_agents)
        return
    parser.description = ("The town at a glance: rigs (polecat slots, sling and merge queues), agents with their "
                          "state and hooked work, open convoys, unread mail.")
    parser.epilog = """examples:
  vermas status
  vermas status --json | jq '.rigs[] | {name, busy, queue_depth}'
"""
    parser.add_common(json=True)
    parser.set_defaults(handler=run_status)


def run_status(env: Environment, args: Namespace) -> int:
    from vermas.town.status import town_status

    town = town_common.town(env)
    data = town_status(town, env.environ)
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"Town {data['town']['name']}  ({data['town']['root']})")
    if not data["rigs"]:
        env.write("  no rigs yet: vermas rig add <name> <git-url-or-path>")
    for rig in data["rigs"]:
        env.write(f"  rig {rig['name']} ({rig['prefix']}-): slots {rig['busy']}/{rig['max_polecats']}, "
                  f"queued {rig['queue_depth']}, merge queue {rig['merge_queue_depth']}")
    env.write("")
    _agent_table(env, data["agents"])
    if data["convoys"]:
        env.write("")
        env.write("Convoys:")
        for c in data["convoys"]:
            env.write(f"  {c['id']}  {c['closed']}/{c['total']}  {c['name']}")
    env.write("")
    env.write(f"Unread mail: {data['unread_mail']}")
    return 0


def _agent_table(env: Environment, agents: list[dict]) -> None:
    rows = []
    for a in agents:
        hooked = (a["bead"] or "") + (f" {a['title']}" if a.get("title") else "")
        rows.append([a["address"], a["state"], "up" if a["running"] else "-", hooked[:60], str(a["unread"] or "")])
    for line in town_common.table(rows, ["AGENT", "STATE", "SESSION", "HOOKED", "MAIL"]):
        env.write(line)


def run_agents(env: Environment, args: Namespace) -> int:
    from vermas.town.status import agents_and_rigs

    town = town_common.town(env)
    if args.rig:
        town_common.require_rig(town.root, args.rig)
    agents, _rigs = agents_and_rigs(town, env.environ)
    if args.rig:
        agents = [a for a in agents if a.get("rig") == args.rig]
    if args.running:
        agents = [a for a in agents if a["running"]]
    if args.json:
        env.print_json(agents)
    else:
        _agent_table(env, agents)
    return 0
