"""Merge-request beads: what ``vermas done`` submits and the refinery consumes (Gas Town's form).

An MR is an issue in the *rig* ledger: type ``merge-request``, label ``gt:merge-request``,
title ``Merge: <source issue>``, priority of the source issue, and a description of
``key: value`` lines starting with ``branch:``::

    branch: polecat/nux/ap-x1y@m3k9q2
    target: main
    source_issue: ap-x1y
    worker: app/polecats/nux
    rig: app
    commit_sha: 4f3c…

``branch`` + ``commit_sha`` is the dedup key: submitting the same commit of the same branch
again returns the existing open MR instead of creating a second one.
"""

from __future__ import annotations

from vermas.ledger import queries
from vermas.town.fields import format_fields, parse_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger, Transaction

MR_TYPE = "merge-request"
MR_LABEL = "gt:merge-request"
FIELD_ORDER = ("branch", "target", "source_issue", "worker", "rig", "commit_sha")


def fields_of(issue: dict) -> dict[str, str]:
    """The ``key: value`` fields of an MR description."""
    return parse_fields(issue.get("description") or "", stop_at_blank=False)[0]


def open_requests(ledger: Ledger) -> list[dict]:
    """Open / in-progress MRs, oldest first (the merge queue order)."""
    return queries.list_issues(ledger.conn, status=("open", "in_progress"), labels=(MR_LABEL,),
                               include_ephemeral=True, order="created")[::-1]


def find(ledger: Ledger, branch: str, commit_sha: str) -> dict | None:
    """An open MR for exactly this branch and commit (the dedup key), else None."""
    for issue in open_requests(ledger):
        fields = fields_of(issue)
        if fields.get("branch") == branch and fields.get("commit_sha", commit_sha) == commit_sha:
            return issue
    return None


def for_source(ledger: Ledger, source_issue: str) -> list[dict]:
    """Open MRs submitted for a source issue."""
    return [i for i in open_requests(ledger) if fields_of(i).get("source_issue") == source_issue]


def create_in_tx(tx: Transaction, *, branch: str, target: str, source_issue: str, worker: str, rig: str,
                 commit_sha: str, priority: int = 2, extra: dict | None = None) -> dict:
    """Create the MR bead inside an open transaction (callers check :func:`find` first)."""
    values = {"branch": branch, "target": target, "source_issue": source_issue, "worker": worker, "rig": rig,
              "commit_sha": commit_sha}
    values.update(extra or {})
    issue = tx.create(f"Merge: {source_issue}", description=format_fields(values), issue_type=MR_TYPE,
                      priority=priority, labels=[MR_LABEL])
    tx.emit("mr.submitted", {"mr_id": issue["id"], **values})
    return issue
