"""What is on an agent's hook, read fast (``vermas hook --json``, ``vermas prime``): stdlib only.

A hook is the seed's ``.hook-<agent>`` file (``bead:<id>``, ``mail:<id>``, ``mol:<id>``) in
the agent's ledger directory *and* the bead itself (``status=hooked``, ``assignee=<address>``,
Gas Town's form). The file wins when both exist; without a file, a bead hooked to the agent
in its rig ledger (or the town ledger) is found by scanning for it, so hooks set by ``gt``
are honoured. A hook file naming a bead that is no longer the agent's (closed, reassigned)
is reported as ``stale`` and gives no work.
"""

from __future__ import annotations

import json
import os

from vermas.town import fastread, hookfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.identity import Agent

WORK_STATUSES = ("hooked", "in_progress")


def ledger_dir_for(town_root: str, issue_id: str, fallback: str) -> str:
    """The ``.beads`` that owns ``issue_id`` by its prefix (``routes.jsonl``), else ``fallback``."""
    from vermas.ledger import routes

    found = routes.beads_dir_for_id(issue_id, None, town_root)
    return found or fallback


def _owned_by(bead: dict, agent: Agent) -> bool:
    return bead.get("status") in WORK_STATUSES and bead.get("assignee", "") in (agent.address, "")


def _scan_hooked(town_root: str, agent: Agent) -> tuple[dict | None, str | None]:
    dirs = [agent.beads_dir(town_root)]
    town_beads = os.path.join(town_root, ".beads")
    if town_beads not in dirs:
        dirs.append(town_beads)
    needle = fastread.json_field("assignee", agent.address)
    for beads_dir in dirs:
        for issue in fastread.issues_containing(beads_dir, needle, '"status":"hooked"'):
            if issue.get("assignee") == agent.address and issue.get("status") == "hooked" \
                    and issue.get("issue_type") not in ("message", "molecule"):
                return issue, beads_dir
    return None, None


def polecat_state(town_root: str, agent: Agent) -> dict | None:
    if agent.role != "polecat":
        return None
    try:
        with open(os.path.join(agent.home(town_root), "polecat.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def molecule_steps(beads_dir: str, root_id: str) -> list[dict]:
    """The steps of molecule ``root_id`` with their states, pour order (containers included)."""
    from vermas.formulas import state as st

    prefix = root_id + "."
    issues = [i for i in fastread.issues_containing(beads_dir, '"id":"' + prefix)
              if str(i.get("id", "")).startswith(prefix)]
    status = {i["id"]: i.get("status") or "open" for i in issues}
    parents = {st.parent_of(i) for i in issues}
    steps = []
    for issue in issues:
        needs = st.needs_of(issue)
        blocked = any(status.get(n, "closed") not in ("closed", "tombstone") for n in needs)
        steps.append({
            "id": issue["id"], "key": st.step_key(issue), "title": issue.get("title", ""),
            "state": st.step_state(issue, blocked), "kind": st.kind_of(issue, issue["id"] in parents),
            "description": issue.get("description", ""), "needs": needs,
        })
    steps.sort(key=lambda s: st.child_sort_key(s["id"], root_id))
    return steps


def molecule_view(beads_dir: str, bead: dict) -> dict | None:
    """The molecule attached to a work bead (``attached_molecule``), with its steps, or None."""
    from vermas.formulas.fields import get_field

    root_id = get_field(bead.get("description") or "", "attached_molecule")
    if not root_id:
        return None
    root = fastread.find_issue(beads_dir, root_id)
    if root is None:
        return None
    steps = molecule_steps(beads_dir, root_id)
    work = [s for s in steps if s["kind"] != "container"]
    done = sum(1 for s in work if s["state"] in ("completed", "skipped"))
    current = next((s for s in work if s["state"] == "in_progress"), None) or \
        next((s for s in work if s["state"] == "ready"), None)
    return {"id": root_id, "formula": get_field(bead.get("description") or "", "attached_formula")
            or root.get("source_formula", ""), "status": root.get("status", "open"),
            "steps": steps, "finished": done, "total": len(work), "next": current["id"] if current else None}


def read(town_root: str, agent: Agent, *, with_molecule: bool = True) -> dict:
    """Everything about ``agent``'s hook (see the module docstring)."""
    out: dict = {"agent": agent.address, "role": agent.role, "rig": agent.rig, "hook": None, "bead": None,
                 "bead_ledger": None, "molecule": None, "mail": None, "stale": None}
    hook_path = agent.hook_path(town_root)
    ref = hookfile.read(hook_path)
    own_dir = agent.beads_dir(town_root)
    if ref is not None:
        ref_type, ref_id = ref
        out["hook"] = {"type": ref_type, "id": ref_id, "file": hook_path}
        if ref_type == "bead":
            beads_dir = ledger_dir_for(town_root, ref_id, own_dir)
            bead = fastread.find_issue(beads_dir, ref_id)
            if bead is not None and _owned_by(bead, agent):
                out["bead"], out["bead_ledger"] = bead, beads_dir
            else:
                out["stale"] = {"id": ref_id, "status": bead.get("status") if bead else "missing",
                                "assignee": bead.get("assignee", "") if bead else ""}
        elif ref_type == "mail":
            out["mail"] = fastread.find_issue(os.path.join(town_root, ".beads"), ref_id)
        elif ref_type == "mol":
            beads_dir = ledger_dir_for(town_root, ref_id, own_dir)
            root = fastread.find_issue(beads_dir, ref_id)
            if root is not None:
                out["molecule"] = {"id": ref_id, "formula": root.get("source_formula", ""),
                                   "status": root.get("status", "open"),
                                   "steps": molecule_steps(beads_dir, ref_id) if with_molecule else []}
    if out["bead"] is None and out["molecule"] is None:
        bead, beads_dir = _scan_hooked(town_root, agent)
        if bead is not None:
            out["bead"], out["bead_ledger"] = bead, beads_dir
            if out["hook"] is None:
                out["hook"] = {"type": "bead", "id": bead["id"], "file": None}
    if out["bead"] is not None and with_molecule:
        out["molecule"] = molecule_view(out["bead_ledger"], out["bead"])
    state = polecat_state(town_root, agent)
    if state is not None:
        out["polecat"] = {k: state.get(k) for k in ("state", "branch", "base", "worktree", "session", "runtime",
                                                     "incarnation", "spawn_id", "formula")}
    return out
