"""``vermas polecat list|status|restart|kill|dispatch``: worker agents (persistent identity, ephemeral sessions)."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Polecats are worker agents: a persistent name (from a themed pool) with a state file, "
                          "a worktree and branch per job, and an ephemeral tmux session. At most polecats.max of a "
                          "rig hold work at once.")
    parser.epilog = """examples:
  vermas polecat list                    # every rig
  vermas polecat list app --json
  vermas polecat status app/nux          # or app/polecats/nux
  vermas polecat restart app/nux         # fresh session, same hook and worktree
  vermas polecat kill app/nux            # stop the session, keep the hook (restart resumes)
  vermas polecat kill app/nux --release  # and give the bead back to the pool
  vermas polecat dispatch app            # start queued beads on free slots
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    lst = sub.add_parser("list", help="list polecats", description="Polecats with state, hooked bead and session.")
    lst.add_argument("rig", nargs="?")
    lst.add_common(json=True)
    lst.set_defaults(handler=run_list)
    st = sub.add_parser("status", help="one polecat in detail", description="A polecat's state, hook and worktree.")
    st.add_argument("polecat", metavar="RIG/NAME")
    st.add_common(json=True)
    st.set_defaults(handler=run_status)
    for verb, text in (("restart", "start a fresh session on the same hook and worktree"),
                       ("start", "same as restart")):
        p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("polecat", metavar="RIG/NAME")
        p.add_argument("--delay", type=float, default=0.0, help="wait this many seconds first (used by handoff)")
        p.add_argument("--no-wait", action="store_true", help="do not wait for the agent to be ready")
        p.add_common(json=True)
        p.set_defaults(handler=run_restart)
    kill = sub.add_parser("kill", help="stop a polecat's session", description="Stop a polecat's session.")
    kill.add_argument("polecat", metavar="RIG/NAME")
    kill.add_argument("--release", action="store_true", help="also clear its hook and give the bead back")
    kill.add_common(json=True)
    kill.set_defaults(handler=run_kill)
    disp = sub.add_parser("dispatch", help="start queued beads on free slots",
                          description="Start beads waiting in a rig's sling queue on free polecat slots.")
    disp.add_argument("rig")
    disp.add_argument("--no-wait", action="store_true", help="do not wait for the agents to be ready")
    disp.add_common(json=True)
    disp.set_defaults(handler=run_dispatch)


def _polecat(text: str) -> tuple[str, str]:
    from vermas.errors import UsageError

    parts = text.strip("/").split("/")
    if len(parts) == 3 and parts[1] == "polecats":
        return parts[0], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise UsageError(f"not a polecat: {text!r}", hint="use <rig>/<name> or <rig>/polecats/<name>")


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.town.status import agents_and_rigs

    town = town_common.town(env)
    if args.rig:
        town_common.require_rig(town.root, args.rig)
    agents, _rigs = agents_and_rigs(town, env.environ)
    rows = [a for a in agents if a["role"] == "polecat" and (not args.rig or a["rig"] == args.rig)]
    if args.json:
        env.print_json(rows)
    elif not rows:
        env.write("No polecats yet: 'vermas sling <bead> <rig>' creates them.")
    else:
        table = [[a["address"], a["state"], "up" if a["running"] else "-", a["bead"] or "", (a.get("title") or "")[:40],
                  str(a.get("incarnation") or 0)] for a in rows]
        for line in town_common.table(table, ["POLECAT", "STATE", "SESSION", "HOOKED", "TITLE", "RUNS"]):
            env.write(line)
    return 0


def run_status(env: Environment, args: Namespace) -> int:
    from vermas import gitops
    from vermas.town import hookread, polecats
    from vermas.town.identity import Agent
    from vermas.town.sessions import attach_command, provider

    town = town_common.town(env)
    rig, name = _polecat(args.polecat)
    town_common.require_rig(town.root, rig)
    state = polecats.load(town.rig(rig), name)
    agent = Agent("polecat", rig, name)
    info = hookread.read(town.root, agent)
    session = provider(town, env.environ).status(agent.session)
    worktree = state.get("worktree")
    dirty = gitops.dirty_paths(worktree) if worktree and gitops.is_repo(worktree) else []
    data = {"polecat": agent.address, "state": state, "session": session, "hook": info.get("hook"),
            "bead": info.get("bead"), "molecule": info.get("molecule"), "dirty": dirty,
            "attach": " ".join(attach_command(town, agent.session, env.environ))}
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{agent.address}: {state.get('state')}  (incarnation {state.get('incarnation')}, "
              f"spawn {state.get('spawn_id')})")
    bead = info.get("bead")
    env.write(f"  hooked:   {bead['id'] + ' ' + bead.get('title', '') if bead else '-'}")
    env.write(f"  branch:   {state.get('branch') or '-'} (from {state.get('base') or '-'})")
    env.write(f"  worktree: {worktree or '-'}" + (f"  [{len(dirty)} uncommitted]" if dirty else ""))
    env.write(f"  session:  {agent.session} "
              + ("running" if session["alive"] else ("dead" if session["exists"] else "not started")))
    if state.get("last"):
        last = state["last"]
        env.write(f"  last job: {last.get('bead')} {last.get('exit')} MR {last.get('mr') or '-'}")
    if state.get("error"):
        env.write(f"  error:    {state['error']}")
    env.write(f"  attach:   {data['attach']}")
    return 0


def run_restart(env: Environment, args: Namespace) -> int:
    import time

    from vermas.town.dispatch import restart

    town = town_common.town(env)
    rig, name = _polecat(args.polecat)
    if args.delay > 0:
        time.sleep(args.delay)
    result = restart(town, rig, name, actor=env.actor(), environ=env.environ, wait_ready=not args.no_wait)
    if args.json:
        env.print_json(result)
    else:
        env.write(f"✓ {result['polecat']} restarted on {result['bead']} (incarnation {result['incarnation']}, "
                  f"session {result['session']})")
    return 0


def run_kill(env: Environment, args: Namespace) -> int:
    from vermas.town.dispatch import kill

    town = town_common.town(env)
    rig, name = _polecat(args.polecat)
    result = kill(town, rig, name, actor=env.actor(), release=args.release, environ=env.environ)
    if args.json:
        env.print_json(result)
    else:
        env.write(f"✓ {result['polecat']}: session " + ("stopped" if result["stopped"] else "was not running")
                  + (f"; {result['released']} released" if result["released"] else ""))
    return 0


def run_dispatch(env: Environment, args: Namespace) -> int:
    from vermas.town.dispatch import drain

    town = town_common.town(env)
    town_common.require_rig(town.root, args.rig)
    result = drain(town, args.rig, actor=env.actor(), environ=env.environ, wait_ready=not args.no_wait)
    if args.json:
        env.print_json(result)
    else:
        for row in result["started"]:
            env.write(f"✓ {row['bead']} → {row['polecat']}  branch {row['branch']}")
        for row in result["failed"]:
            env.write(f"✗ {row['bead']}: {row.get('error')}")
        if not result["started"] and not result["failed"]:
            env.write("Nothing to start (no free slot or empty queue).")
        if result["queued"]:
            env.write(f"  still queued: {', '.join(result['queued'])}")
    return 1 if result["failed"] and not result["started"] else 0
