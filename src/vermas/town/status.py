"""``vermas status`` / ``vermas agents``: one snapshot of the town.

Rigs (polecat slots used/max, sling queue depth, merge queue depth), every agent (role,
state, session running or not, hooked work, unread mail) and open convoys. Reads state
files, the ledgers' indexes and one ``tmux list-sessions``; writes nothing.
"""

from __future__ import annotations

import os

from vermas.errors import VermasError
from vermas.ledger import queries
from vermas.ledger.store import Ledger
from vermas.town import addresses, polecats, rigs, slingqueue
from vermas.town.identity import Agent
from vermas.town.layout import Town
from vermas.town.sessions import live_sessions, town_config


def _unread_by_identity(town: Town) -> dict[str, int]:
    counts: dict[str, int] = {}
    with Ledger.open(town.beads_dir) as ledger:
        for assignee, n in ledger.conn.execute(
                "SELECT assignee, count(*) FROM issues WHERE issue_type = 'message' AND status = 'open' "
                "GROUP BY assignee"):
            counts[assignee] = n
    return counts


def _unread(counts: dict[str, int], agent: Agent) -> int:
    return sum(counts.get(v, 0) for v in addresses.identity_variants(agent))


def _open_merge_requests(ledger: Ledger) -> list[dict]:
    return queries.list_issues(ledger.conn, status=("open", "in_progress"), issue_type=("merge-request",),
                               include_ephemeral=True, order="created")


def agents_and_rigs(town: Town, environ: dict | None = None) -> tuple[list[dict], list[dict]]:
    """``(agents, rigs)`` of the town (see the module docstring)."""
    try:
        live = live_sessions(town, environ)
        tmux_ok = True
    except VermasError:
        live, tmux_ok = set(), False
    unread = _unread_by_identity(town)
    agents: list[dict] = []
    for role in ("mayor", "deacon"):
        agent = Agent(role)
        running = agent.session in live
        agents.append({**agent.as_dict(), "state": "running" if running else "stopped", "running": running,
                       "bead": None, "title": "", "unread": _unread(unread, agent)})
    rig_rows: list[dict] = []
    for name in rigs.rig_names(town):
        info = rigs.rig_info(town, name)
        paths = town.rig(name)
        config = town_config(town, name, environ=environ)
        states = polecats.all_states(paths)
        queue = slingqueue.items(paths)
        beads_dir = paths.beads_dir
        titles: dict[str, dict] = {}
        merge_requests: list[dict] = []
        if os.path.isdir(beads_dir):
            with Ledger.open(beads_dir) as ledger:
                titles = ledger.get_many([s["bead"] for s in states if s.get("bead")])
                merge_requests = _open_merge_requests(ledger)
        busy = [s for s in states if s.get("state") in polecats.BUSY_STATES and s.get("bead")]
        rig_rows.append({
            "name": name, "prefix": info.get("beads", {}).get("prefix", ""), "git_url": info.get("git_url", ""),
            "default_branch": info.get("default_branch", ""), "polecats": len(states), "busy": len(busy),
            "max_polecats": config.int("polecats.max"), "queue": [e["bead"] for e in queue],
            "queue_depth": len(queue), "merge_queue_depth": len(merge_requests),
            "merge_queue": [m["id"] for m in merge_requests],
        })
        for role in ("witness", "refinery"):
            agent = Agent(role, name)
            running = agent.session in live
            agents.append({**agent.as_dict(), "state": "running" if running else "stopped", "running": running,
                           "bead": None, "title": "", "unread": _unread(unread, agent)})
        for state in states:
            agent = Agent("polecat", name, state["name"])
            running = agent.session in live
            shown = state.get("state", "idle")
            if shown == "working" and tmux_ok and not running:
                shown = "working (session gone)"
            bead = state.get("bead")
            agents.append({**agent.as_dict(), "state": shown, "running": running, "bead": bead,
                           "title": (titles.get(bead) or {}).get("title", "") if bead else "",
                           "branch": state.get("branch"), "worktree": state.get("worktree"),
                           "runtime": state.get("runtime"), "incarnation": state.get("incarnation", 0),
                           "last": state.get("last"), "unread": _unread(unread, agent)})
        for crew in addresses.members(town.root, name, "crew"):
            agent = Agent("crew", name, crew)
            running = agent.session in live
            agents.append({**agent.as_dict(), "state": "running" if running else "stopped", "running": running,
                           "bead": None, "title": "", "unread": _unread(unread, agent)})
    return agents, rig_rows


def town_status(town: Town, environ: dict | None = None) -> dict:
    from vermas.town import convoys

    agents, rig_rows = agents_and_rigs(town, environ)
    open_convoys = convoys.list_convoys(town.root)
    return {
        "town": {"name": town.name, "root": town.root},
        "rigs": rig_rows,
        "agents": agents,
        "convoys": [{"id": c["id"], "name": c["name"], "closed": c["closed"], "total": c["total"],
                     "complete": c["complete"]} for c in open_convoys],
        "unread_mail": sum(a["unread"] for a in agents),
    }
