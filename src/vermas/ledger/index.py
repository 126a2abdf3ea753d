"""SQLite index over the JSONL ledger: issue rows, dependencies, labels, blocked cache.

The index is a cache. It is rebuilt from ``issues.jsonl`` (+ local ``wisps.jsonl``)
whenever those files change underneath it, and holds nothing the JSONL lacks (child
counters are recomputed from ids on rebuild).

Blocking follows bd v0.43 (``blocked_cache.go``): ``direct`` holds issues blocked by their
own ``blocks`` / ``conditional-blocks`` / ``waits-for`` dependencies, and ``blocked`` adds
every parent-child descendant of a directly blocked issue. A transaction updates both
incrementally from the issues it touched; large changes recompute them from scratch.
"""

from __future__ import annotations

import json
import sqlite3

from vermas.ledger import schema
from vermas.ledger.timefmt import epoch_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

INDEX_FILE = "vermas-index.db"
SCHEMA_VERSION = "7"
# Above this many seed issues a transaction recomputes the blocked cache from scratch.
INCREMENTAL_LIMIT = 400

_TABLES = ("meta", "lines", "issues", "deps", "labels", "direct", "blocked", "child_counters", "foreign_lines")

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE lines (id TEXT PRIMARY KEY, line TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE issues (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    issue_type TEXT NOT NULL,
    assignee TEXT NOT NULL,
    created_ns INTEGER,
    defer_ns INTEGER,
    failed INTEGER NOT NULL,
    pinned INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL,
    is_template INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX issues_assignee ON issues(assignee) WHERE assignee != '';
CREATE INDEX issues_open_created ON issues(created_ns) WHERE status IN ('open', 'in_progress');
CREATE INDEX issues_open_priority ON issues(priority, created_ns) WHERE status IN ('open', 'in_progress');
CREATE TABLE deps (
    issue_id TEXT NOT NULL,
    depends_on_id TEXT NOT NULL,
    type TEXT NOT NULL,
    gate TEXT,
    spawner TEXT
);
CREATE INDEX deps_issue ON deps(issue_id, type);
CREATE INDEX deps_target ON deps(depends_on_id, type);
CREATE INDEX deps_spawner ON deps(spawner) WHERE spawner IS NOT NULL;
CREATE TABLE labels (issue_id TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY (issue_id, label)) WITHOUT ROWID;
CREATE INDEX labels_label ON labels(label);
CREATE TABLE direct (issue_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE blocked (issue_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE child_counters (parent_id TEXT PRIMARY KEY, last_child INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE foreign_lines (seq INTEGER PRIMARY KEY, line TEXT NOT NULL);
"""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


# Issues directly blocked by their own dependencies; ``{where}`` narrows the dependents.
_DIRECT = f"""
SELECT d.issue_id FROM deps d JOIN issues b ON b.id = d.depends_on_id
 WHERE d.type = 'blocks' AND b.status IN {_in(schema.BLOCKER_STATUSES)} {{where}}
UNION
SELECT d.issue_id FROM deps d JOIN issues b ON b.id = d.depends_on_id
 WHERE d.type = 'conditional-blocks'
   AND (b.status IN {_in(schema.CONDITIONAL_BLOCKER_STATUSES)} OR (b.status = 'closed' AND b.failed = 0))
   {{where}}
UNION
SELECT d.issue_id FROM deps d
 WHERE d.type = 'waits-for' {{where}} AND (
   (d.gate = 'all-children' AND EXISTS (
      SELECT 1 FROM deps c JOIN issues ci ON ci.id = c.issue_id
       WHERE c.depends_on_id = d.spawner AND c.type = 'parent-child'
         AND ci.status NOT IN ('closed', 'tombstone')))
   OR
   (d.gate = 'any-children' AND NOT EXISTS (
      SELECT 1 FROM deps c JOIN issues ci ON ci.id = c.issue_id
       WHERE c.depends_on_id = d.spawner AND c.type = 'parent-child'
         AND ci.status IN ('closed', 'tombstone')))
 )
"""
_DIRECT_ALL = _DIRECT.format(where="")
_DIRECT_SEEDS = _DIRECT.format(where="AND d.issue_id IN (SELECT id FROM temp.seeds)")

# Every parent-child descendant (depth ≤ 50) of the directly blocked issues, plus them.
_BLOCKED_ALL = f"""
WITH RECURSIVE trans(issue_id, depth) AS (
    SELECT issue_id, 0 FROM direct
    UNION
    SELECT d.issue_id, t.depth + 1 FROM trans t
      JOIN deps d ON d.depends_on_id = t.issue_id AND d.type = 'parent-child'
     WHERE t.depth < {schema.PARENT_CHILD_MAX_DEPTH}
)
SELECT DISTINCT issue_id FROM trans
"""
# The seeds and their parent-child descendants: the issues whose blocked flag may change.
_AFFECTED = f"""
WITH RECURSIVE down(issue_id, depth) AS (
    SELECT id, 0 FROM temp.seeds
    UNION
    SELECT d.issue_id, w.depth + 1 FROM down w
      JOIN deps d ON d.depends_on_id = w.issue_id AND d.type = 'parent-child'
     WHERE w.depth < {schema.PARENT_CHILD_MAX_DEPTH}
)
SELECT DISTINCT issue_id FROM down
"""
# An affected issue is blocked when it, or a parent-child ancestor within 50 levels, is direct.
_BLOCKED_AFFECTED = f"""
WITH RECURSIVE up(origin, node, depth) AS (
    SELECT issue_id, issue_id, 0 FROM temp.affected
    UNION
    SELECT u.origin, d.depends_on_id, u.depth + 1 FROM up u
      JOIN deps d ON d.issue_id = u.node AND d.type = 'parent-child'
     WHERE u.depth < {schema.PARENT_CHILD_MAX_DEPTH}
)
SELECT DISTINCT u.origin FROM up u JOIN direct x ON x.issue_id = u.node
"""


def connect(path: str) -> sqlite3.Connection:
    """Open (creating if needed) the index with WAL and a generous busy timeout."""
    conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    # Issue lines average ~0.6 KB: 16 KB pages keep them off overflow pages (bulk inserts ~3x faster).
    # Only takes effect on a new, empty database (before WAL is switched on).
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def schema_current(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError:
        return False
    return bool(row and row[0] == SCHEMA_VERSION)


def create_schema(conn: sqlite3.Connection) -> None:
    """Drop whatever is there and create empty tables (caller holds the ledger lock)."""
    drops = "".join(f"DROP TABLE IF EXISTS {t};" for t in _TABLES)
    conn.executescript(
        "BEGIN IMMEDIATE;" + drops + _DDL
        + f"INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
    )


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


# ------------------------------------------------------------------ rows
def issue_row(issue: dict) -> tuple:
    """The ``issues`` table row for an issue dict (hot in rebuilds and imports: kept lean)."""
    get = issue.get
    priority = get("priority", 0)
    if priority.__class__ is not int:  # bool is not int here, as in bd's schema
        priority = 0
    status = get("status") or "open"
    defer = get("defer_until")
    return (
        issue["id"],
        status,
        priority,
        get("issue_type") or "task",
        get("assignee") or "",
        epoch_ns(get("created_at")),
        epoch_ns(defer) if defer else None,
        # only a closed blocker's reason matters (conditional-blocks)
        1 if status == "closed" and schema.is_failure_reason(get("close_reason")) else 0,
        1 if get("pinned") is True else 0,
        1 if get("ephemeral") is True else 0,
        1 if get("is_template") is True else 0,
    )


def dep_rows(issue: dict) -> list[tuple]:
    rows = []
    for dep in issue.get("dependencies") or ():
        if not isinstance(dep, dict):
            continue
        target = dep.get("depends_on_id")
        if not isinstance(target, str):
            continue
        dep_type = dep.get("type") or "blocks"
        gate = spawner = None
        if dep_type == "waits-for":
            # bd: COALESCE(json_extract(metadata,'$.gate'),'all-children') and
            # COALESCE(json_extract(metadata,'$.spawner_id'), depends_on_id)
            meta = dep_metadata(dep.get("metadata"))
            gate = meta.get("gate")
            gate = "all-children" if gate is None else str(gate)
            spawner = meta.get("spawner_id")
            spawner = target if spawner is None else str(spawner)
        rows.append((issue["id"], target, dep_type, gate, spawner))
    return rows


def dep_metadata(raw: object) -> dict:
    """A dependency's ``metadata`` (a JSON *string* on disk) as a dict."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def label_rows(issue: dict) -> list[tuple]:
    return [(issue["id"], label) for label in issue.get("labels") or () if isinstance(label, str)]


_INSERT_ISSUE = "INSERT OR REPLACE INTO issues VALUES (" + ",".join("?" * 11) + ")"


def put_issue(conn: sqlite3.Connection, issue: dict, line: str) -> None:
    """Insert or replace one issue with its line, dependencies and labels."""
    issue_id = issue["id"]
    conn.execute(_INSERT_ISSUE, issue_row(issue))
    conn.execute("INSERT OR REPLACE INTO lines VALUES (?, ?)", (issue_id, line))
    conn.execute("DELETE FROM deps WHERE issue_id = ?", (issue_id,))
    conn.execute("DELETE FROM labels WHERE issue_id = ?", (issue_id,))
    deps = dep_rows(issue)
    if deps:
        conn.executemany("INSERT INTO deps VALUES (?, ?, ?, ?, ?)", deps)
    labels = label_rows(issue)
    if labels:
        conn.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?)", labels)


def put_issues(conn: sqlite3.Connection, items: list[tuple[dict, str]], existing: Iterable[str] | None = None) -> None:
    """:func:`put_issue` for many ``(issue, line)`` pairs in a few bulk statements.

    ``existing``: the ids among them already in the index (None: unknown, assume any may be).
    """
    replaced = [(issue["id"],) for issue, _l in items] if existing is None else [(i,) for i in existing]
    if replaced:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS put_ids (id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.put_ids")
        conn.executemany("INSERT OR IGNORE INTO temp.put_ids VALUES (?)", replaced)
        conn.execute("DELETE FROM deps WHERE issue_id IN (SELECT id FROM temp.put_ids)")
        conn.execute("DELETE FROM labels WHERE issue_id IN (SELECT id FROM temp.put_ids)")
    conn.executemany(_INSERT_ISSUE, (issue_row(issue) for issue, _l in items))
    conn.executemany("INSERT OR REPLACE INTO lines VALUES (?, ?)", ((issue["id"], line) for issue, line in items))
    conn.executemany("INSERT INTO deps VALUES (?, ?, ?, ?, ?)", (r for issue, _l in items for r in dep_rows(issue)))
    conn.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?)",
                     (r for issue, _l in items for r in label_rows(issue)))


def ephemeral_flags(conn: sqlite3.Connection, ids: list[str]) -> dict[str, bool]:
    """``{id: is_ephemeral}`` for those of ``ids`` that exist."""
    out: dict[str, bool] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        out.update((r[0], bool(r[1])) for r in conn.execute(
            f"SELECT id, ephemeral FROM issues WHERE id IN ({marks})", chunk))
    return out


def parent_targets(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """The parent-child parents the given issues have now."""
    out: set[str] = set()
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        out.update(r[0] for r in conn.execute(
            f"SELECT depends_on_id FROM deps WHERE issue_id IN ({marks}) AND type = 'parent-child'", chunk))
    return out


def drop_issue(conn: sqlite3.Connection, issue_id: str) -> None:
    """Remove an issue (hard delete) from the index."""
    for table, col in (("issues", "id"), ("lines", "id"), ("deps", "issue_id"), ("labels", "issue_id"),
                       ("direct", "issue_id"), ("blocked", "issue_id")):
        conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (issue_id,))


def fill(conn: sqlite3.Connection, records: list[tuple[str, dict]], foreign: list[str]) -> None:
    """Replace the whole index content with ``records`` (inside the caller's transaction)."""
    for table in _TABLES[1:]:
        conn.execute(f"DELETE FROM {table}")
    conn.executemany(_INSERT_ISSUE, (issue_row(obj) for _line, obj in records))
    conn.executemany("INSERT INTO lines VALUES (?, ?)", ((obj["id"], line) for line, obj in records))
    conn.executemany("INSERT INTO deps VALUES (?, ?, ?, ?, ?)", (r for _l, obj in records for r in dep_rows(obj)))
    conn.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?)", (r for _l, obj in records for r in label_rows(obj)))
    conn.executemany("INSERT INTO foreign_lines (line) VALUES (?)", ((line,) for line in foreign))
    counters: dict[str, int] = {}
    for _line, obj in records:
        head, dot, tail = obj["id"].rpartition(".")
        if dot and head and tail.isdigit():
            counters[head] = max(counters.get(head, 0), int(tail))
    conn.executemany("INSERT INTO child_counters VALUES (?, ?)", counters.items())
    rebuild_blocked(conn)


# --------------------------------------------------------- blocked cache
def rebuild_blocked(conn: sqlite3.Connection) -> None:
    """Recompute ``direct`` and ``blocked`` from scratch (bd's ``rebuildBlockedCache``)."""
    conn.execute("DELETE FROM direct")
    conn.execute("INSERT INTO direct " + _DIRECT_ALL)
    conn.execute("DELETE FROM blocked")
    conn.execute("INSERT INTO blocked " + _BLOCKED_ALL)


def refresh_blocked(conn: sqlite3.Connection, touched: set[str], parents: set[str]) -> None:
    """Update the cache after changes to ``touched`` issues (status, deps, creation, removal).

    ``parents`` are the parent-child parents the touched issues had before or after the
    change: their ``waits-for`` waiters must be re-evaluated too.
    """
    if not touched:
        return
    if len(touched) > INCREMENTAL_LIMIT:
        rebuild_blocked(conn)
        return
    seeds = set(touched)
    for chunk in _chunks(sorted(touched)):
        marks = ",".join("?" * len(chunk))
        seeds.update(r[0] for r in conn.execute(
            f"SELECT issue_id FROM deps WHERE depends_on_id IN ({marks}) "
            "AND type IN ('blocks', 'conditional-blocks')", chunk))
    for chunk in _chunks(sorted(parents | touched)):
        marks = ",".join("?" * len(chunk))
        seeds.update(r[0] for r in conn.execute(
            f"SELECT issue_id FROM deps WHERE type = 'waits-for' AND spawner IN ({marks})", chunk))
    if len(seeds) > INCREMENTAL_LIMIT:
        rebuild_blocked(conn)
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS seeds (id TEXT PRIMARY KEY)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS affected (issue_id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.seeds")
    conn.execute("DELETE FROM temp.affected")
    conn.executemany("INSERT INTO temp.seeds VALUES (?)", ((s,) for s in seeds))
    conn.execute("DELETE FROM direct WHERE issue_id IN (SELECT id FROM temp.seeds)")
    conn.execute("INSERT OR IGNORE INTO direct " + _DIRECT_SEEDS)
    conn.execute("INSERT INTO temp.affected " + _AFFECTED)
    if conn.execute("SELECT count(*) FROM temp.affected").fetchone()[0] > INCREMENTAL_LIMIT * 5:
        conn.execute("DELETE FROM blocked")
        conn.execute("INSERT INTO blocked " + _BLOCKED_ALL)
        return
    conn.execute("DELETE FROM blocked WHERE issue_id IN (SELECT issue_id FROM temp.affected)")
    conn.execute("INSERT OR IGNORE INTO blocked " + _BLOCKED_AFFECTED)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ----------------------------------------------------------- child ids
def next_child_number(conn: sqlite3.Connection, parent_id: str) -> int:
    row = conn.execute(
        "INSERT INTO child_counters (parent_id, last_child) VALUES (?, 1) "
        "ON CONFLICT(parent_id) DO UPDATE SET last_child = last_child + 1 RETURNING last_child",
        (parent_id,),
    ).fetchone()
    return int(row[0])


def bump_child_counter(conn: sqlite3.Connection, child_id: str) -> None:
    """An explicit child id ``p.N`` moves p's counter to at least N."""
    head, dot, tail = child_id.rpartition(".")
    if dot and head and tail.isdigit():
        conn.execute(
            "INSERT INTO child_counters (parent_id, last_child) VALUES (?, ?) "
            "ON CONFLICT(parent_id) DO UPDATE SET last_child = max(last_child, excluded.last_child)",
            (head, int(tail)),
        )


def bump_child_counters(conn: sqlite3.Connection, ids: list[str]) -> None:
    """:func:`bump_child_counter` for many ids in one statement."""
    highest: dict[str, int] = {}
    for child_id in ids:
        head, dot, tail = child_id.rpartition(".")
        if dot and head and tail.isdigit():
            highest[head] = max(highest.get(head, 0), int(tail))
    if highest:
        conn.executemany(
            "INSERT INTO child_counters (parent_id, last_child) VALUES (?, ?) "
            "ON CONFLICT(parent_id) DO UPDATE SET last_child = max(last_child, excluded.last_child)",
            highest.items(),
        )


# --------------------------------------------------------------- queries
def get_line(conn: sqlite3.Connection, issue_id: str) -> str | None:
    row = conn.execute("SELECT line FROM lines WHERE id = ?", (issue_id,)).fetchone()
    return row[0] if row else None


def get_lines(conn: sqlite3.Connection, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT id, line FROM lines WHERE id IN ({marks})", chunk).fetchall())
    return out


def exists(conn: sqlite3.Connection, issue_id: str) -> bool:
    return conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone() is not None


def ids_with_prefix(conn: sqlite3.Connection, start: str, limit: int = 50) -> list[str]:
    end = start + "\U0010ffff"
    return [r[0] for r in conn.execute("SELECT id FROM issues WHERE id >= ? AND id < ? LIMIT ?", (start, end, limit))]


def ids_containing(conn: sqlite3.Connection, fragment: str, limit: int = 50) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM issues WHERE instr(id, ?) > 0 LIMIT ?", (fragment, limit))]


def count_top_level(conn: sqlite3.Connection, prefix: str) -> int:
    start = prefix + "-"
    row = conn.execute(
        "SELECT count(*) FROM issues WHERE id >= ? AND id < ? AND instr(substr(id, ?), '.') = 0",
        (start, start + "\U0010ffff", len(start) + 1),
    ).fetchone()
    return int(row[0])


def all_lines(conn: sqlite3.Connection, *, ephemeral: bool) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT l.line FROM issues i JOIN lines l ON l.id = i.id WHERE i.ephemeral = ? ORDER BY i.id",
        (1 if ephemeral else 0,))]


def foreign_lines(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT line FROM foreign_lines ORDER BY seq")]


def has_dependents(conn: sqlite3.Connection, issue_id: str) -> bool:
    """Does any readiness edge point at ``issue_id``?"""
    return conn.execute(
        "SELECT 1 FROM deps WHERE depends_on_id = ? AND type IN "
        + _in(tuple(schema.AFFECTS_READY)) + " LIMIT 1", (issue_id,)).fetchone() is not None


def blocked_among(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        out.update(r[0] for r in conn.execute(f"SELECT issue_id FROM blocked WHERE issue_id IN ({marks})", chunk))
    return out


def is_blocked(conn: sqlite3.Connection, issue_id: str) -> bool:
    return conn.execute("SELECT 1 FROM blocked WHERE issue_id = ?", (issue_id,)).fetchone() is not None


def dependents(conn: sqlite3.Connection, issue_id: str, dep_type: str | None = None) -> list[tuple[str, str]]:
    """``(issue_id, type)`` of every issue with a dependency on ``issue_id``."""
    sql = "SELECT issue_id, type FROM deps WHERE depends_on_id = ?"
    params: tuple = (issue_id,)
    if dep_type:
        sql += " AND type = ?"
        params = (issue_id, dep_type)
    return [(r[0], r[1]) for r in conn.execute(sql + " ORDER BY issue_id", params)]


def dependencies(conn: sqlite3.Connection, issue_id: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT depends_on_id, type FROM deps WHERE issue_id = ? ORDER BY depends_on_id", (issue_id,))]


def parents_of(conn: sqlite3.Connection, issue_id: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT depends_on_id FROM deps WHERE issue_id = ? AND type = 'parent-child'", (issue_id,))]


def statuses(conn: sqlite3.Connection, ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT id, status FROM issues WHERE id IN ({marks})", chunk).fetchall())
    return out
