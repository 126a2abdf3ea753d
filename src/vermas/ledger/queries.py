"""Read queries over the index with bd v0.43 semantics: ready, blocked, list, stats."""

from __future__ import annotations

import sqlite3
import time

from vermas.ledger import codec, index, schema, timefmt


def _in(values: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    return "(" + ",".join("?" * len(values)) + ")", list(values)


def ready(
    conn: sqlite3.Connection,
    *,
    assignee: str | None = None,
    unassigned: bool = False,
    limit: int | None = 10,
    priority: int | None = None,
    labels: tuple[str, ...] = (),
    label_any: tuple[str, ...] = (),
    issue_type: str | None = None,
    status: str | None = None,
    parent: str | None = None,
    sort: str = "hybrid",
    now: float | None = None,
) -> list[dict]:
    """Issues ready to work on (``bd ready``): open/in-progress, unblocked, not deferred.

    Excludes pinned and ephemeral issues and the types merge-request, gate, molecule,
    message and agent (unless ``issue_type`` asks for one). Order ``hybrid`` (bd's default)
    puts issues created in the last 48 hours first by priority, then older ones by age.
    """
    now_ns = time.time_ns() if now is None else int(now * 1_000_000_000)
    where = ["i.pinned = 0", "i.ephemeral = 0", "NOT EXISTS (SELECT 1 FROM blocked b WHERE b.issue_id = i.id)",
             "(i.defer_ns IS NULL OR i.defer_ns <= ?)"]
    params: list = [now_ns]
    if status:
        where.append("i.status = ?")
        params.append(status)
    else:
        # Spelled exactly like the partial indexes' WHERE so SQLite can walk them in order.
        where.append(_OPEN)
    if issue_type:
        where.append("i.issue_type = ?")
        params.append(issue_type)
    else:
        marks, vals = _in(schema.READY_EXCLUDED_TYPES)
        where.append(f"i.issue_type NOT IN {marks}")
        params += vals
    _common_filters(where, params, assignee=assignee, unassigned=unassigned, priority=priority,
                    labels=labels, label_any=label_any, parent=parent)
    cond = " AND ".join(where)
    lim = f" LIMIT {int(limit)}" if limit else ""
    indexed = not status
    if sort == "priority":
        sql = f"SELECT i.id FROM issues i WHERE {cond} ORDER BY i.priority, i.created_ns, i.id{lim}"
        ids = [r[0] for r in conn.execute(sql, params)]
    elif sort == "oldest":
        sql = f"SELECT i.id FROM issues i WHERE {cond} ORDER BY i.created_ns, i.id{lim}"
        ids = [r[0] for r in conn.execute(sql, params)]
    else:
        # hybrid (bd's default): created in the last 48 h first, by priority; then older ones, oldest first.
        cutoff = now_ns - 48 * 3600 * 1_000_000_000
        hint = " INDEXED BY issues_open_created" if indexed else ""
        recent = (f"SELECT i.id FROM issues i{hint} WHERE {cond} AND i.created_ns >= ? "
                  f"ORDER BY i.priority, i.created_ns, i.id{lim}")
        ids = [r[0] for r in conn.execute(recent, [*params, cutoff])]
        remaining = None if not limit else int(limit) - len(ids)
        if remaining is None or remaining > 0:
            older = (f"SELECT i.id FROM issues i WHERE {cond} AND (i.created_ns < ? OR i.created_ns IS NULL) "
                     f"ORDER BY i.created_ns, i.id" + (f" LIMIT {remaining}" if remaining else ""))
            ids += [r[0] for r in conn.execute(older, [*params, cutoff])]
    return _hydrate(conn, ids)


_OPEN = "i.status IN ('open', 'in_progress')"


def blocked(conn: sqlite3.Connection, *, limit: int | None = None) -> list[dict]:
    """``bd blocked``: issues with status blocked/deferred or an open ``blocks`` blocker.

    Each result carries ``blocked_by`` (ids of open blockers) and ``blocked_by_count``.
    Like bd v0.43 this reports only ``blocks`` edges (and external refs), so ``ready`` and
    ``blocked`` do not partition the open issues.
    """
    cand, cvals = _in(schema.BLOCKED_CANDIDATE_STATUSES)
    block, bvals = _in(schema.BLOCKER_STATUSES)
    sql = f"""
    SELECT i.id, i.status,
           (SELECT group_concat(d.depends_on_id, char(31)) FROM deps d LEFT JOIN issues b ON b.id = d.depends_on_id
             WHERE d.issue_id = i.id AND d.type = 'blocks'
               AND (b.status IN {block} OR d.depends_on_id LIKE 'external:%')) AS blockers
      FROM issues i
     WHERE i.status IN {cand} AND i.pinned = 0 AND i.ephemeral = 0
     ORDER BY i.priority, i.created_ns, i.id
    """
    rows = conn.execute(sql, bvals + cvals).fetchall()
    picked = [(r[0], sorted(set(r[2].split("\x1f"))) if r[2] else []) for r in rows
              if r[1] in ("blocked", "deferred") or r[2]]
    if limit:
        picked = picked[:limit]
    issues = _hydrate(conn, [p[0] for p in picked])
    for issue, (_id, blockers) in zip(issues, picked, strict=True):
        issue["blocked_by_count"] = len(blockers)
        issue["blocked_by"] = blockers
    return issues


def list_issues(
    conn: sqlite3.Connection,
    *,
    status: tuple[str, ...] = (),
    issue_type: tuple[str, ...] = (),
    priority: tuple[int, ...] = (),
    assignee: str | None = None,
    unassigned: bool = False,
    labels: tuple[str, ...] = (),
    label_any: tuple[str, ...] = (),
    parent: str | None = None,
    include_ephemeral: bool = False,
    include_tombstones: bool = False,
    limit: int | None = None,
    order: str = "priority",
) -> list[dict]:
    """Issues matching every given filter (``bd list``)."""
    where: list[str] = []
    params: list = []
    if status:
        marks, vals = _in(status)
        where.append(f"i.status IN {marks}")
        params += vals
    elif not include_tombstones:
        where.append("i.status != 'tombstone'")
    if issue_type:
        marks, vals = _in(issue_type)
        where.append(f"i.issue_type IN {marks}")
        params += vals
    if priority:
        where.append("i.priority IN (" + ",".join(str(int(p)) for p in priority) + ")")
    if not include_ephemeral:
        where.append("i.ephemeral = 0")
    _common_filters(where, params, assignee=assignee, unassigned=unassigned, priority=None,
                    labels=labels, label_any=label_any, parent=parent)
    sql = "SELECT i.id FROM issues i" + (" WHERE " + " AND ".join(where) if where else "")
    if order == "updated":
        # updated_at is not indexed (only this listing sorts by it): order the matches in Python
        issues = _hydrate(conn, [r[0] for r in conn.execute(sql + " ORDER BY i.id", params)])
        issues.sort(key=lambda i: -(timefmt.parse_ns(i.get("updated_at")) or 0))
        return issues[: int(limit)] if limit else issues
    order_sql = {"priority": "i.priority, i.created_ns DESC, i.id", "created": "i.created_ns DESC, i.id",
                 "id": "i.id"}.get(order, "i.priority, i.id")
    sql += f" ORDER BY {order_sql}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return _hydrate(conn, [r[0] for r in conn.execute(sql, params)])


def _common_filters(where: list[str], params: list, *, assignee: str | None, unassigned: bool,
                    priority: int | None, labels: tuple[str, ...], label_any: tuple[str, ...],
                    parent: str | None) -> None:
    if assignee:
        where.append("i.assignee = ?")
        params.append(assignee)
    if unassigned:
        where.append("i.assignee = ''")
    if priority is not None:
        where.append("i.priority = ?")
        params.append(priority)
    for label in labels:
        where.append("EXISTS (SELECT 1 FROM labels l WHERE l.issue_id = i.id AND l.label = ?)")
        params.append(label)
    if label_any:
        marks, vals = _in(label_any)
        where.append(f"EXISTS (SELECT 1 FROM labels l WHERE l.issue_id = i.id AND l.label IN {marks})")
        params += vals
    if parent:
        where.append(
            "i.id IN (WITH RECURSIVE sub(id) AS (SELECT issue_id FROM deps WHERE depends_on_id = ? "
            "AND type = 'parent-child' UNION SELECT d.issue_id FROM deps d JOIN sub ON d.depends_on_id = sub.id "
            "AND d.type = 'parent-child') SELECT id FROM sub)"
        )
        params.append(parent)


def _hydrate(conn: sqlite3.Connection, ids: list[str]) -> list[dict]:
    lines = index.get_lines(conn, ids)
    return [codec.decode_line(lines[i], "<index>", 0) for i in ids if i in lines]


def dependency_counts(conn: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[int, int]]:
    """``{id: (dependency_count, dependent_count)}`` as in bd's ``IssueWithCounts``."""
    out = {i: (0, 0) for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        deps = dict(conn.execute(
            f"SELECT issue_id, count(*) FROM deps WHERE issue_id IN ({marks}) GROUP BY issue_id", chunk))
        dents = dict(conn.execute(
            f"SELECT depends_on_id, count(*) FROM deps WHERE depends_on_id IN ({marks}) GROUP BY depends_on_id", chunk))
        for i in chunk:
            out[i] = (int(deps.get(i, 0)), int(dents.get(i, 0)))
    return out


def stats(conn: sqlite3.Connection) -> dict:
    """Counts by status and type, plus ready/blocked totals (``bd stats``)."""
    by_status = dict(conn.execute("SELECT status, count(*) FROM issues WHERE ephemeral = 0 GROUP BY status"))
    by_type = dict(conn.execute("SELECT issue_type, count(*) FROM issues WHERE ephemeral = 0 GROUP BY issue_type"))
    total = sum(by_status.values())
    return {
        "total_issues": total,
        "open_issues": by_status.get("open", 0),
        "in_progress_issues": by_status.get("in_progress", 0),
        "closed_issues": by_status.get("closed", 0),
        "blocked_issues": int(conn.execute(
            "SELECT count(*) FROM blocked b JOIN issues i ON i.id = b.issue_id "
            "WHERE i.status IN ('open','in_progress') AND i.ephemeral = 0").fetchone()[0]),
        "ready_issues": len(ready(conn, limit=None)),
        "tombstone_issues": by_status.get("tombstone", 0),
        "by_status": by_status,
        "by_type": by_type,
        "dependencies": int(conn.execute("SELECT count(*) FROM deps").fetchone()[0]),
    }
