"""``vermas mq list|status|retry|reject``: inspect and steer a rig's merge queue."""

from __future__ import annotations

from vermas.errors import ConflictError, NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.town.layout import Town

EPILOG = """\
Merge requests are beads of type merge-request (label gt:merge-request) in the rig ledger,
created by 'vermas done'. Queue states: in_progress (the refinery is on it), ready (in
processing order), parked (a stage said NEEDS_HUMAN), pr_open (waiting for its pull
request), blocked (dependencies, missing target, claimed elsewhere), stale (closed on the
refinery's next round: source closed, branch gone, duplicate or superseded).

examples:
  vermas mq list --rig app
  vermas mq status --rig app                # summary
  vermas mq status ap-x7k --json            # one request: fields, history, evidence
  vermas mq retry ap-x7k                    # re-queue a parked or rejected request
  vermas mq reject ap-x7k --reason "wrong approach: use the cache layer"
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Inspect and steer the rig's merge queue."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("list", help="open merge requests in processing order",
                        description="Open merge requests in the order the refinery takes them, with their state.")
    p.add_argument("--all", action="store_true", help="also show closed requests (newest 50)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_list)

    p = subs.add_parser("status", help="queue summary, or one request in detail",
                        description="Without an id: counts, the current round and parked requests. With an id: "
                                    "the request's fields, queue state, history and gate evidence.")
    p.add_argument("mr", nargs="?", help="merge request id (partial ids work)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("retry", help="re-queue a parked, rejected or conflicted request",
                        description="Unpark a request parked by a NEEDS_HUMAN stage, or reopen one closed as "
                                    "rejected/conflict (its retry_count goes up). Wakes the refinery.")
    p.add_argument("mr", help="merge request id")
    p.add_argument("--note", default="", help="why (recorded on the request)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_retry)

    p = subs.add_parser("reject", help="close a request as rejected and send it back for rework",
                        description="Close an open request as rejected. By default its source bead goes back on "
                                    "the polecat's hook with your reason and a REWORK_REQUEST is mailed.")
    p.add_argument("mr", help="merge request id")
    p.add_argument("--reason", required=True, help="what is wrong (sent to the polecat)")
    p.add_argument("--no-rework", action="store_true", help="only close the request; leave the source bead alone")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_reject)


# ----------------------------------------------------------------- shared views
def _in_flight(town: Town, rig: str) -> tuple[str, ...]:
    from vermas.roles.refinery import daemon
    from vermas.roles.refinery.journal import read_state
    from vermas.roles.refinery.settings import RefineryHome

    home = RefineryHome(town, rig)
    state = read_state(home.state_path) or {}
    attempt = state.get("attempt") or {}
    if not attempt or daemon.running_pid(home) is None:
        return ()
    return tuple(attempt.get("mrs") or ())


def queue_rows(town: Town, rig: str, *, include_closed: bool = False) -> list[dict]:
    """The queue as rows (``mq list`` / ``refinery queue``)."""
    from vermas.ledger import queries
    from vermas.ledger.store import Ledger
    from vermas.roles.refinery import queue
    from vermas.roles.refinery.mr import MR_TYPE, MergeRequest
    from vermas.roles.refinery.settings import RefineryHome

    home = RefineryHome(town, rig)
    with Ledger.open(home.rig.beads_dir) as ledger:
        view = queue.scan(ledger, home.repo, actor=home.actor, town_root=town.root, in_flight=_in_flight(town, rig))
        rows = view.entries()
        if include_closed:
            closed = queries.list_issues(ledger.conn, status=("closed",), issue_type=(MR_TYPE,),
                                         include_ephemeral=True, order="updated", limit=50)
            for issue in closed:
                item = MergeRequest.from_bead(issue)
                rows.append({**item.summary(), "state": "closed", "close_reason": issue.get("close_reason", ""),
                             "closed_at": issue.get("closed_at", "")})
    return rows


def show_rows(env: Environment, rig: str, rows: list[dict]) -> None:
    if not rows:
        env.write(f"merge queue of {rig}: empty")
        return
    env.write(f"merge queue of {rig}:")
    for row in rows:
        position = f"{row['position']:>3}." if row.get("position") else "    "
        state = row["state"]
        extra = row.get("reason") or row.get("parked_reason") or row.get("close_reason") or ""
        if row.get("pr_url"):
            extra = row["pr_url"]
        env.write(f"{position} {row['id']:<14} {state:<11} P{row['priority']} {row['branch'] or '-'} → "
                  f"{row['target'] or '-'}  [{row['source_issue'] or '-'}] {row['worker']}"
                  + (f"  ({extra})" if extra else ""))


def _open(env: Environment, args: argparse.Namespace):
    from vermas.cli.commands.refinery import resolve_rig
    from vermas.ledger.store import Ledger
    from vermas.roles.refinery.settings import RefineryHome

    town, rig = resolve_rig(env, args)
    home = RefineryHome(town, rig)
    return town, rig, home, Ledger.open(home.rig.beads_dir)


def _get_mr(ledger, mr_id: str) -> dict:
    from vermas.roles.refinery.mr import MR_LABEL, MR_TYPE

    issue = ledger.get(mr_id)
    if issue.get("issue_type") != MR_TYPE and MR_LABEL not in (issue.get("labels") or []):
        raise NotFoundError(f"{issue['id']} is not a merge request (type {issue.get('issue_type')})",
                            hint="'vermas mq list' shows merge requests")
    return issue


# ----------------------------------------------------------------------- actions
def _list(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import resolve_rig

    town, rig = resolve_rig(env, args)
    rows = queue_rows(town, rig, include_closed=args.all)
    if args.json:
        env.print_json(rows)
    else:
        show_rows(env, rig, rows)
    return 0


def _status(env: Environment, args: argparse.Namespace) -> int:
    if args.mr:
        return _status_one(env, args)
    from vermas.cli.commands.refinery import resolve_rig
    from vermas.roles.refinery import daemon

    town, rig = resolve_rig(env, args)
    doc = daemon.status(town, rig, environ=env.environ)
    rows = queue_rows(town, rig)
    summary = {"rig": rig, "running": doc["running"], "queue": doc["queue"], "current": doc["current"],
               "last_result": doc["last_result"], "parked": [r for r in rows if r["state"] == "parked"],
               "blocked": [r for r in rows if r["state"] == "blocked"], "totals": doc["totals"]}
    if args.json:
        env.print_json(summary)
        return 0
    q = doc["queue"]
    env.write(f"merge queue of {rig}: refinery {'running' if doc['running'] else 'not running'}")
    if "error" not in q:
        env.write(f"  {q['depth']} to merge, {len(q['parked'])} parked, {len(q['pr_open'])} awaiting PR, "
                  f"{q['blocked']} blocked")
    if doc["current"]:
        env.write(f"  current: {', '.join(doc['current']['mrs'] or [])} ({doc['current']['phase']})")
    for row in summary["parked"]:
        env.write(f"  parked {row['id']}: stage {row.get('parked_stage', '?')}: {row.get('parked_reason', '')}")
    for row in summary["blocked"]:
        env.write(f"  blocked {row['id']}: {row.get('reason', '')}")
    return 0


def _status_one(env: Environment, args: argparse.Namespace) -> int:
    import os

    from vermas.roles.refinery.mr import MergeRequest

    town, rig, home, ledger = _open(env, args)
    with ledger:
        issue = _get_mr(ledger, args.mr)
    item = MergeRequest.from_bead(issue)
    rows = {r["id"]: r for r in queue_rows(town, rig)}
    state = rows.get(item.id, {}).get("state") or ("closed" if item.status == "closed" else item.status)
    evidence_dir = home.gate_evidence_dir(item.source_issue, item.id)
    evidence = []
    for root, _dirs, files in os.walk(evidence_dir):
        evidence.extend(os.path.join(root, f) for f in sorted(files))
    doc = {**item.summary(), "state": state, "position": rows.get(item.id, {}).get("position"),
           "reason": rows.get(item.id, {}).get("reason"), "fields": item.fields,
           "close_reason": issue.get("close_reason", ""), "closed_at": issue.get("closed_at", ""),
           "comments": [{"author": c.get("author"), "created_at": c.get("created_at"), "text": c.get("text")}
                        for c in issue.get("comments") or ()],
           "evidence": sorted(evidence)}
    if args.json:
        env.print_json(doc)
        return 0
    env.write(f"{item.id}: {item.title}")
    env.write(f"  state: {state}" + (f" (position {doc['position']})" if doc["position"] else "")
              + (f" — {doc['reason']}" if doc["reason"] else "")
              + (f" — {doc['close_reason']}" if doc["close_reason"] else ""))
    for key, value in item.fields.items():
        env.write(f"  {key}: {value}")
    for comment in doc["comments"]:
        first, _sep, rest = str(comment["text"]).partition("\n")
        env.write(f"  - {comment['created_at']} {comment['author']}: {first}" + (" …" if rest else ""))
    for path in doc["evidence"]:
        env.write(f"  evidence: {path}")
    return 0


def _retry(env: Environment, args: argparse.Namespace) -> int:
    from vermas import gitops
    from vermas.roles.refinery import daemon, queue
    from vermas.roles.refinery import mr as mrmod

    town, rig, home, ledger = _open(env, args)
    actor = env.actor()
    with ledger:
        issue = _get_mr(ledger, args.mr)
        item = mrmod.MergeRequest.from_bead(issue)
        if item.id in _in_flight(town, rig):
            raise ConflictError(f"{item.id} is being processed by the refinery right now",
                                hint="wait for the round to finish ('vermas refinery status')")
        if item.status == "closed":
            reason = issue.get("close_reason") or item.fields.get("close_reason", "")
            if reason == mrmod.MERGED:
                raise ConflictError(f"{item.id} is already merged", hint="nothing to retry")
            if not gitops.branch_exists(home.repo, item.branch):
                raise ConflictError(f"{item.id}: branch {item.branch} no longer exists",
                                    hint="the polecat must resubmit with 'vermas done'")
            source = ledger.find(item.source_issue) if item.source_issue else None
            if source is not None and source.get("status") == "closed":
                raise ConflictError(f"{item.id}: its source bead {item.source_issue} is closed",
                                    hint="reopen the source bead first")
            with ledger.transaction(actor) as tx:
                tx.reopen(item.id, args.note or "retry")
                description = mrmod.set_fields(item.description, {
                    "close_reason": None, "rejected_stage": None, "retry_count": str(item.retry_count + 1),
                    "parked_stage": None, "parked_reason": None, "parked_at": None})
                tx.update(item.id, description=description, assignee=None)
                if mrmod.PARKED_LABEL in item.labels:
                    tx.remove_label(item.id, mrmod.PARKED_LABEL)
                tx.add_comment(item.id, f"[mq] retry #{item.retry_count + 1} requested by {actor}"
                               + (f": {args.note}" if args.note else ""))
                tx.emit("mq.retried", {"mr_id": item.id, "by": actor, "retry_count": item.retry_count + 1})
            what = f"reopened (retry #{item.retry_count + 1})"
        elif item.parked:
            queue.unpark(ledger, actor, item.id, note=args.note)
            what = "unparked"
        else:
            raise ConflictError(f"{item.id} is already in the queue ({item.status})",
                                hint="'vermas mq list' shows its position")
        issue = ledger.get(item.id)
    woke = daemon.kick(town.root, rig)
    if args.json:
        env.print_json({"id": item.id, "action": what, "status": issue.get("status"), "refinery_woken": woke})
    else:
        env.write(f"{item.id}: {what}" + ("; refinery woken" if woke else "; the refinery takes it on its next run"))
    return 0


def _reject(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.refinery import daemon
    from vermas.roles.refinery import mr as mrmod
    from vermas.roles.refinery.outcomes import Outcomes

    if not args.reason.strip():
        raise UsageError("--reason must say what is wrong")
    town, rig, home, ledger = _open(env, args)
    actor = env.actor()
    with ledger:
        issue = _get_mr(ledger, args.mr)
        item = mrmod.MergeRequest.from_bead(issue)
        if item.status == "closed":
            raise ConflictError(f"{item.id} is already closed ({issue.get('close_reason') or 'no reason'})")
        if item.id in _in_flight(town, rig):
            raise ConflictError(f"{item.id} is being processed by the refinery right now",
                                hint="stop the refinery or wait for the round to finish")
        entry = {"mr": item.id, "source": item.source_issue, "branch": item.branch, "commit": item.commit_sha,
                 "worker": item.worker, "polecat": item.polecat, "title": item.title, "kind": "manual",
                 "stage": "manual", "summary": args.reason.strip(), "rejected_by": actor}
        plan = {"target": item.target, "base": "", "tip": "", "rework": [entry]}
        outcomes = Outcomes(home, ledger, None, lambda message: env.info(message))
        outcomes.close_rejected(entry, plan)
        hooked = "left alone"
        if not args.no_rework:
            from vermas.roles.refinery import notify

            outcomes._rehook(entry, item.target)
            hooked = entry.get("hooked", "")
            notify.rework(town.root, home.actor, rig=rig, item=entry, target=item.target, log=env.info,
                          to_mayor=hooked == "unassigned")
    daemon.kick(town.root, rig)
    if args.json:
        env.print_json({"id": item.id, "action": "rejected", "reason": args.reason.strip(), "source": hooked})
    else:
        env.write(f"{item.id}: rejected; source bead {item.source_issue or '-'} {hooked}")
    return 0
