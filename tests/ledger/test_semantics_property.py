"""Property tests: ready/blocked against a straightforward re-implementation of bd v0.43's rules.

The model below is written from the rules in shared/reference/beads.md §2 (and bd's
``blocked_cache.go`` / ``ready.go``), independently of the SQL in ``vermas.ledger``:

* direct blocking: ``blocks`` on a target whose status is open/in_progress/blocked/deferred/
  hooked; ``conditional-blocks`` while the target is open/in_progress/blocked/deferred or
  closed without a failure word; ``waits-for`` (gate all-children by default: blocked while
  any parent-child child of the spawner is not closed/tombstone; any-children: blocked until
  one is closed/tombstone); a target missing from the ledger never blocks;
* parent-child propagation: descendants (≤ 50 levels) of a blocked issue are blocked;
* ready: status open/in_progress, not pinned, not ephemeral, type not merge-request/gate/
  molecule/message/agent, defer_until unset or past, not blocked;
* blocked (``bd blocked``): status open/in_progress/blocked/deferred/hooked, not pinned, not
  ephemeral, and status blocked/deferred or a ``blocks`` edge to such a live blocker or to
  ``external:*``.
"""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vermas.errors import ConflictError
from vermas.ledger import queries, timefmt
from vermas.ledger.store import Ledger

NOW_NS = 1_800_000_000 * 10**9  # a fixed "now" (2027-01-15) so the 48 h window is deterministic
NOW = NOW_NS / 1e9
HOUR = 3600 * 10**9

STATUSES = ["open", "in_progress", "blocked", "deferred", "closed", "tombstone", "pinned", "hooked", "review"]
TYPES = ["task", "bug", "epic", "feature", "merge-request", "gate", "molecule", "message", "agent", "convoy", "rig"]
DEP_TYPES = ["blocks", "blocks", "parent-child", "parent-child", "conditional-blocks", "waits-for", "related"]
REASONS = ["", "Done", "merged", "failed: tests", "Won't fix", "CANCELLED by user", "timeout waiting", "error 500",
           "aborted", "blocked upstream", "rejected", "abandoned", "wontfix", "canceled", "success"]
WAIT_META = [None, "{}", '{"gate":"all-children"}', '{"gate":"any-children"}', '{"gate":""}', "not json",
             '{"gate":"any-children","spawner_id":"S"}', '{"spawner_id":"S"}']

FAILURE = ("failed", "rejected", "wontfix", "won't fix", "canceled", "cancelled", "abandoned", "blocked", "error",
           "timeout", "aborted")


# ------------------------------------------------------------------ model
def _status(issue: dict) -> str:
    return issue.get("status") or "open"


def _failed(issue: dict) -> bool:
    reason = (issue.get("close_reason") or "").lower()
    return any(word in reason for word in FAILURE)


def _meta(dep: dict) -> dict:
    try:
        value = json.loads(dep.get("metadata") or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def model_blocked(issues: dict[str, dict]) -> set[str]:
    children: dict[str, list[str]] = {}
    for iid, issue in issues.items():
        for dep in issue.get("dependencies") or []:
            if dep["type"] == "parent-child":
                children.setdefault(dep["depends_on_id"], []).append(iid)
    direct: set[str] = set()
    for iid, issue in issues.items():
        for dep in issue.get("dependencies") or []:
            kind, target = dep["type"], issues.get(dep["depends_on_id"])
            if kind == "blocks":
                if target is not None and _status(target) in ("open", "in_progress", "blocked", "deferred", "hooked"):
                    direct.add(iid)
            elif kind == "conditional-blocks":
                if target is not None and (_status(target) in ("open", "in_progress", "blocked", "deferred")
                                           or (_status(target) == "closed" and not _failed(target))):
                    direct.add(iid)
            elif kind == "waits-for":
                meta = _meta(dep)
                gate = meta.get("gate", "all-children")
                spawner = meta.get("spawner_id", dep["depends_on_id"])
                kids = [issues[c] for c in children.get(spawner, []) if c in issues]
                done = [k for k in kids if _status(k) in ("closed", "tombstone")]
                if (gate == "all-children" and len(done) < len(kids)) or (gate == "any-children" and not done):
                    direct.add(iid)
    blocked = set(direct)
    frontier = set(direct)
    for _depth in range(50):
        frontier = {c for f in frontier for c in children.get(f, [])} - blocked
        if not frontier:
            break
        blocked |= frontier
    return blocked


def _created(issue: dict) -> int:
    return timefmt.parse_ns(issue.get("created_at")) or 0


def model_ready(issues: dict[str, dict], sort: str) -> list[str]:
    blocked = model_blocked(issues)
    out = []
    for iid, issue in issues.items():
        defer = timefmt.parse_ns(issue.get("defer_until"))
        if (_status(issue) in ("open", "in_progress") and issue.get("pinned") is not True
                and issue.get("ephemeral") is not True
                and (issue.get("issue_type") or "task") not in ("merge-request", "gate", "molecule", "message", "agent")
                and (defer is None or defer <= NOW_NS) and iid not in blocked):
            out.append(iid)
    if sort == "priority":
        return sorted(out, key=lambda i: (issues[i]["priority"], _created(issues[i]), i))
    if sort == "oldest":
        return sorted(out, key=lambda i: (_created(issues[i]), i))
    cutoff = NOW_NS - 48 * HOUR
    recent = sorted((i for i in out if _created(issues[i]) >= cutoff),
                    key=lambda i: (issues[i]["priority"], _created(issues[i]), i))
    older = sorted((i for i in out if _created(issues[i]) < cutoff), key=lambda i: (_created(issues[i]), i))
    return recent + older


LIVE = ("open", "in_progress", "blocked", "deferred", "hooked")


def model_blocked_report(issues: dict[str, dict]) -> list[tuple[str, list[str]]]:
    rows = []
    for iid, issue in issues.items():
        if (_status(issue) not in ("open", "in_progress", "blocked", "deferred", "hooked")
                or issue.get("pinned") is True or issue.get("ephemeral") is True):
            continue
        blockers = sorted({
            d["depends_on_id"] for d in issue.get("dependencies") or [] if d["type"] == "blocks" and (
                d["depends_on_id"].startswith("external:")
                or (d["depends_on_id"] in issues
                    and _status(issues[d["depends_on_id"]]) in LIVE))
        })
        if _status(issue) in ("blocked", "deferred") or blockers:
            rows.append((iid, blockers))
    rows.sort(key=lambda r: (issues[r[0]]["priority"], _created(issues[r[0]]), r[0]))
    return rows


# ------------------------------------------------------------- generators
@st.composite
def ledgers(draw, min_size: int = 2, max_size: int = 9) -> dict[str, dict]:
    n = draw(st.integers(min_size, max_size))
    ids = [f"p-{k:02d}" for k in range(n)]
    issues: dict[str, dict] = {}
    for iid in ids:
        created = NOW_NS - draw(st.integers(0, 96)) * HOUR - draw(st.integers(0, 10**9))
        issue = {"id": iid, "title": iid, "status": draw(st.sampled_from(STATUSES)),
                 "priority": draw(st.integers(0, 4)), "issue_type": draw(st.sampled_from(TYPES)),
                 "created_at": timefmt.format_ns(created, utc=True), "updated_at": timefmt.format_ns(created, utc=True)}
        if issue["status"] == "closed":
            reason = draw(st.sampled_from(REASONS))
            if reason:
                issue["close_reason"] = reason
        if draw(st.integers(0, 9)) == 0:
            issue["pinned"] = True
        if draw(st.integers(0, 9)) == 0:
            issue["ephemeral"] = True
        defer = draw(st.sampled_from([None, None, None, -5, 5]))
        if defer is not None:
            issue["defer_until"] = timefmt.format_ns(NOW_NS + defer * HOUR, utc=True)
        issues[iid] = issue
    for _ in range(draw(st.integers(0, n * 2))):
        src, dst = draw(st.sampled_from(ids)), draw(st.sampled_from([*ids, "p-missing", "external:x:cap"]))
        if src == dst:
            continue
        kind = draw(st.sampled_from(DEP_TYPES))
        dep = {"issue_id": src, "depends_on_id": dst, "type": kind, "created_at": issues[src]["created_at"]}
        if kind == "waits-for":
            meta = draw(st.sampled_from(WAIT_META))
            if meta is not None:
                dep["metadata"] = meta.replace('"S"', json.dumps(draw(st.sampled_from(ids))))
        issues[src].setdefault("dependencies", []).append(dep)
    return issues


def _build(tmp: str, issues: dict[str, dict]) -> Ledger:
    ledger = Ledger.init(os.path.join(tmp, ".beads"), "p")
    with ledger.transaction("gen") as tx:
        for issue in issues.values():
            tx.put(issue, event=None)
    return ledger


def _current(ledger: Ledger) -> dict[str, dict]:
    out = {}
    for path in (ledger.issues_path, ledger.wisps_path):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    obj = json.loads(line)
                    out[obj["id"]] = obj
    return out


def _cached_blocked(ledger: Ledger) -> set[str]:
    return {r[0] for r in ledger.conn.execute("SELECT issue_id FROM blocked")}


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(ledgers())
def test_ready_and_blocked_match_the_model(issues):
    with tempfile.TemporaryDirectory() as tmp:
        ledger = _build(tmp, issues)
        try:
            assert _cached_blocked(ledger) == model_blocked(issues)
            for sort in ("hybrid", "priority", "oldest"):
                got = [i["id"] for i in queries.ready(ledger.conn, limit=None, sort=sort, now=NOW)]
                assert got == model_ready(issues, sort), sort
            limited = [i["id"] for i in queries.ready(ledger.conn, limit=3, now=NOW)]
            assert limited == model_ready(issues, "hybrid")[:3]
            report = [(i["id"], i["blocked_by"]) for i in queries.blocked(ledger.conn)]
            assert report == model_blocked_report(issues)
        finally:
            ledger.close()


OPS = st.lists(st.tuples(st.sampled_from(["status", "close", "reopen", "dep", "undep", "delete", "purge", "create",
                                          "reparent"]),
                         st.integers(0, 50), st.integers(0, 50), st.sampled_from(STATUSES[:8]),
                         st.sampled_from(REASONS), st.sampled_from(DEP_TYPES)),
               min_size=1, max_size=12)


@SETTINGS
@given(ledgers(min_size=3, max_size=8), OPS)
def test_incremental_blocked_cache_equals_full_rebuild(issues, ops):
    with tempfile.TemporaryDirectory() as tmp:
        ledger = _build(tmp, issues)
        try:
            for op, a, b, status, reason, kind in ops:
                ids = sorted(_current(ledger))
                if not ids:
                    break
                x, y = ids[a % len(ids)], ids[b % len(ids)]
                try:
                    with ledger.transaction("op") as tx:
                        _apply(tx, ledger, op, x, y, status, reason, kind)
                except ConflictError:
                    pass  # a cycle refused, a tombstone closed: nothing changed
                state = _current(ledger)
                assert _cached_blocked(ledger) == model_blocked(state), (op, x, y)
            fresh = Ledger.open(ledger.dir)
            fresh.rebuild()
            assert _cached_blocked(fresh) == _cached_blocked(ledger)
            fresh.close()
        finally:
            ledger.close()


def _apply(tx, ledger: Ledger, op: str, x: str, y: str, status: str, reason: str, kind: str) -> None:
    if op == "status":
        tx.update(x, status=status)
    elif op == "close":
        tx.close(x, reason)
    elif op == "reopen":
        if _current(ledger)[x].get("status") == "closed":
            tx.reopen(x)
    elif op == "dep" and x != y:
        metadata = '{"gate":"any-children"}' if kind == "waits-for" and reason else None
        tx.add_dependency(x, y, kind, metadata=metadata)
    elif op == "undep":
        deps = _current(ledger)[x].get("dependencies") or []
        if deps:
            tx.remove_dependency(x, deps[0]["depends_on_id"], deps[0]["type"])
    elif op == "delete":
        tx.delete(x, reason)
    elif op == "purge":
        tx.purge(x)
    elif op == "create":
        tx.create(f"new {reason}", parent=x if kind == "parent-child" else None,
                  deps=[(kind, y)] if kind not in ("parent-child", "waits-for") else ())
    elif op == "reparent" and x != y:
        tx.add_dependency(x, y, "parent-child")
