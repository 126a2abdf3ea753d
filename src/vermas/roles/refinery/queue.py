"""The merge queue of a rig: which requests are ready, in which order, and which are stale.

Order: priority first (P0 before P4), then oldest first (``created_at``), then id, so no
request starves behind newer ones (Gas Town users reported newest-first starvation).

:func:`scan` only reads (``mq list`` uses it); it returns the stale requests it found with
the decision to apply, and the engine applies them:

* the source bead was closed elsewhere → close the MR ``superseded``;
* the branch vanished → close ``merged`` if its commit is already in the target, else ``rejected``;
* duplicates (same branch and commit) → keep the first in queue order, close the others ``superseded``;
* an older request for a branch that was resubmitted at another commit → ``superseded``.

Parked requests (a stage said NEEDS_HUMAN) and requests with an open pull request wait
outside the ready list; requests blocked by dependencies or claimed by another agent too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vermas import gitops
from vermas.ledger import queries, routes
from vermas.ledger.store import Ledger
from vermas.roles.refinery import mr as mrmod
from vermas.roles.refinery.mr import MR_LABEL, MR_TYPE, MergeRequest

OPEN_STATUSES = ("open", "in_progress", "blocked", "hooked")
CLOSED_STATUSES = ("closed", "tombstone")


@dataclass
class StaleDecision:
    """A request the queue should close, and why."""

    mr: MergeRequest
    close_reason: str  # merged | rejected | superseded
    detail: str
    close_source: bool = False  # the change is already in the target: the source bead is done too


@dataclass
class QueueView:
    """The queue as :func:`scan` sees it."""

    ready: list[MergeRequest] = field(default_factory=list)
    in_progress: list[MergeRequest] = field(default_factory=list)
    parked: list[MergeRequest] = field(default_factory=list)
    pr_open: list[MergeRequest] = field(default_factory=list)
    blocked: list[tuple[MergeRequest, str]] = field(default_factory=list)
    stale: list[StaleDecision] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # mr id -> commit to merge

    @property
    def depth(self) -> int:
        """Requests still to be merged by the refinery (ready + in progress)."""
        return len(self.ready) + len(self.in_progress)

    def entries(self) -> list[dict]:
        """Every open request with its queue state, in processing order (for ``mq list``)."""
        rows: list[dict] = []
        position = 0
        for state, items in (("in_progress", self.in_progress), ("ready", self.ready)):
            for item in items:
                position += 1
                rows.append({**item.summary(), "state": state, "position": position})
        for item in self.parked:
            rows.append({**item.summary(), "state": "parked"})
        for item in self.pr_open:
            rows.append({**item.summary(), "state": "pr_open"})
        for item, reason in self.blocked:
            rows.append({**item.summary(), "state": "blocked", "reason": reason})
        for decision in self.stale:
            rows.append({**decision.mr.summary(), "state": "stale", "reason": decision.detail,
                         "close_reason": decision.close_reason})
        return rows


def load_open(ledger: Ledger) -> list[MergeRequest]:
    """Every open merge request of the ledger (by type or by Gas Town's label), in queue order."""
    conn = ledger.conn
    found: dict[str, dict] = {}
    for issue in queries.list_issues(conn, status=OPEN_STATUSES, issue_type=(MR_TYPE,), include_ephemeral=True):
        found[issue["id"]] = issue
    for issue in queries.list_issues(conn, status=OPEN_STATUSES, labels=(MR_LABEL,), include_ephemeral=True):
        found[issue["id"]] = issue
    return sorted((MergeRequest.from_bead(i) for i in found.values()), key=MergeRequest.order_key)


def source_status(ledger: Ledger, town_root: str | None, issue_ids: list[str]) -> dict[str, dict]:
    """Source beads by id: from the rig ledger, else from the ledger their prefix routes to."""
    found = ledger.get_many([i for i in issue_ids if i])
    missing = [i for i in issue_ids if i and i not in found]
    opened: dict[str, Ledger] = {}
    try:
        for issue_id in missing:
            target = routes.beads_dir_for_id(issue_id, ledger.dir, town_root)
            if not target or os.path.abspath(target) == ledger.dir:
                continue
            other = opened.get(target)
            if other is None:
                try:
                    other = opened[target] = Ledger.open(target)
                except Exception:
                    continue
            issue = other.find(issue_id)
            if issue is not None:
                found[issue_id] = issue
    finally:
        for other in opened.values():
            other.close()
    return found


def source_commit(mr: MergeRequest, heads: dict[str, str], repo: str) -> str | None:
    """The commit to merge: the submitted ``commit_sha`` when present, else the branch head."""
    if mr.commit_sha and (heads.get(mr.branch) == mr.commit_sha or gitops.commit_exists(repo, mr.commit_sha)):
        return mr.commit_sha
    return heads.get(mr.branch)


def scan(ledger: Ledger, repo: str, *, actor: str, town_root: str | None = None,
         in_flight: tuple[str, ...] = ()) -> QueueView:
    """Classify every open request (read-only; see the module docstring)."""
    view = QueueView()
    mrs = load_open(ledger)
    if not mrs:
        return view
    heads = gitops.branch_heads(repo)
    sources = source_status(ledger, town_root, [m.source_issue for m in mrs])
    newest_by_branch: dict[str, MergeRequest] = {}
    for item in mrs:
        best = newest_by_branch.get(item.branch)
        if best is None or (item.created_ns, item.id) > (best.created_ns, best.id):
            newest_by_branch[item.branch] = item
    seen: dict[tuple[str, str], str] = {}
    for item in mrs:
        if item.id in in_flight:
            view.in_progress.append(item)
            continue
        if not item.branch:
            view.stale.append(StaleDecision(item, mrmod.REJECTED, "the request names no branch"))
            continue
        source = sources.get(item.source_issue) if item.source_issue else None
        if source is not None and source.get("status") in CLOSED_STATUSES:
            reason = source.get("close_reason") or source.get("status")
            view.stale.append(StaleDecision(item, mrmod.SUPERSEDED,
                                            f"source bead {item.source_issue} was closed elsewhere ({reason})"))
            continue
        commit = source_commit(item, heads, repo)
        target_sha = heads.get(item.target) if item.target else None
        if item.branch not in heads:
            if commit and target_sha and gitops.is_ancestor(repo, commit, target_sha):
                view.stale.append(StaleDecision(item, mrmod.MERGED,
                                                f"branch {item.branch} is gone and {commit[:12]} is already in "
                                                f"{item.target}", close_source=True))
            else:
                view.stale.append(StaleDecision(item, mrmod.REJECTED, f"branch {item.branch} no longer exists"))
            continue
        newest = newest_by_branch[item.branch]
        newest_commit = source_commit(newest, heads, repo)
        if newest.id != item.id and newest_commit != commit:
            view.stale.append(StaleDecision(item, mrmod.SUPERSEDED,
                                            f"superseded by {newest.id} ({item.branch} resubmitted at "
                                            f"{(newest_commit or '?')[:12]})"))
            continue
        key = (item.branch, commit or "")
        if key in seen:
            view.stale.append(StaleDecision(item, mrmod.SUPERSEDED,
                                            f"duplicate of {seen[key]} (same branch and commit)"))
            continue
        seen[key] = item.id
        view.sources[item.id] = commit or ""
        if item.parked:
            view.parked.append(item)
        elif item.pr_open:
            view.pr_open.append(item)
        elif not item.target:
            view.blocked.append((item, "the request names no target branch"))
        elif target_sha is None:
            view.blocked.append((item, f"target branch {item.target} does not exist"))
        elif item.assignee and item.assignee != actor:
            view.blocked.append((item, f"claimed by {item.assignee}"))
        elif ledger.is_blocked(item.id):
            view.blocked.append((item, "blocked by open dependencies"))
        else:
            view.ready.append(item)
    return view


# ------------------------------------------------------------------ state changes
def claim(ledger: Ledger, actor: str, mrs: list[MergeRequest]) -> None:
    """Mark requests as being processed by the refinery (status in_progress, assignee = refinery)."""
    with ledger.transaction(actor) as tx:
        for item in mrs:
            tx.update(item.id, status="in_progress", assignee=actor)


def release(ledger: Ledger, actor: str, mr_ids: list[str]) -> None:
    """Put requests back in the queue at their old position (status open, no assignee)."""
    with ledger.transaction(actor) as tx:
        for mr_id in mr_ids:
            issue = ledger.find(mr_id)
            if issue is None or issue.get("status") in CLOSED_STATUSES:
                continue
            if issue.get("status") == "in_progress" or issue.get("assignee") == actor:
                tx.update(mr_id, status="open", assignee=None)


def unpark(ledger: Ledger, actor: str, mr_id: str, *, note: str = "") -> dict:
    """Re-queue a parked request (after a human resolved what its NEEDS_HUMAN stage asked)."""
    with ledger.transaction(actor) as tx:
        issue = tx.update(mr_id, description=mrmod.set_fields(
            str(ledger.get(mr_id).get("description") or ""),
            {"parked_stage": None, "parked_reason": None, "parked_at": None}), status="open", assignee=None)
        issue = tx.remove_label(issue["id"], mrmod.PARKED_LABEL)
        tx.add_comment(issue["id"], f"[refinery] unparked by {actor}" + (f": {note}" if note else ""))
        tx.emit("mq.unparked", {"mr_id": issue["id"], "by": actor, "note": note})
    return ledger.get(mr_id)
