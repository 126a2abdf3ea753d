"""The ledger: open a ``.beads`` directory, read through the index, mutate in transactions.

``issues.jsonl`` is the truth. The SQLite index (``vermas-index.db``, git-ignored) is
rebuilt whenever the JSONL changed underneath it (git pull, bd, a hand edit). Every
mutation runs in a :class:`Transaction` under an exclusive lock and leaves ``issues.jsonl``
current before it returns:

1. lock ``.beads/.vermas.lock``; rebuild the index if the JSONL changed; ``BEGIN IMMEDIATE``;
2. apply the changes to the index (readers still see the previous commit);
3. refresh the blocked cache; write the JSONL (temp file + rename: the commit point);
4. record the file signature in the index and ``COMMIT``; append the events; unlock.

A crash before step 3's rename leaves the old file and an uncommitted index; a crash after it
leaves the new file and a stale index signature, so the next command rebuilds. Either way
the file is the old or the new state, never a mix.
"""

from __future__ import annotations

import os
import sqlite3

from vermas.errors import ConflictError, DataError, NotFoundError, UsageError
from vermas.fileops import FileLock, atomic_write_bytes, atomic_write_text
from vermas.ledger import codec, ids, index, jsonlfile, schema, timefmt
from vermas.ledger import events as event_log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ISSUES_FILE = "issues.jsonl"
WISPS_FILE = "wisps.jsonl"  # ephemeral issues: local, never exported, git-ignored
LOCK_FILE = ".vermas.lock"
CONFIG_FILE = "config.yaml"
METADATA_FILE = "metadata.json"
SPLICE_LIMIT = 64  # more changed lines than this: render the whole file instead

GITIGNORE = """# VerMAS / bd local state (never commit)
vermas-index.db
vermas-index.db-*
beads.db
beads.db-*
*.lock
.vermas.lock
wisps.jsonl
daemon.*
bd.sock
.hook-*
redirect
.*.tmp.*
"""


class Ledger:
    """One ``.beads`` directory: its JSONL files and their SQLite index."""

    def __init__(self, beads_dir: str) -> None:
        self.dir = os.path.abspath(beads_dir)
        self.issues_path = os.path.join(self.dir, ISSUES_FILE)
        self.wisps_path = os.path.join(self.dir, WISPS_FILE)
        self.lock_path = os.path.join(self.dir, LOCK_FILE)
        self.index_path = os.path.join(self.dir, index.INDEX_FILE)
        self._conn: sqlite3.Connection | None = None
        self._tx: Transaction | None = None
        self._prefix: str | None = None
        # Optional ``progress(message, jsonl_bytes)`` callback, told before a full index rebuild.
        self.progress: Callable[[str, int], None] | None = None

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, beads_dir: str) -> Ledger:
        """Open an existing ledger; :class:`NotFoundError` when there is none."""
        if not is_ledger_dir(beads_dir):
            raise NotFoundError(
                f"no ledger at {beads_dir}",
                hint="run 'vermas init --prefix <prefix>' here, or pass --town/--rig",
            )
        return cls(beads_dir)

    @classmethod
    def init(cls, beads_dir: str, prefix: str) -> Ledger:
        """Create (or adopt) a ledger; writes config, metadata and an empty JSONL if absent."""
        prefix = prefix.rstrip("-")
        if not prefix or any(c.isspace() for c in prefix):
            raise UsageError(f"invalid prefix {prefix!r}: use letters, digits, '-' or '.'")
        os.makedirs(beads_dir, exist_ok=True)
        ledger = cls(beads_dir)
        with FileLock(ledger.lock_path):
            config = os.path.join(ledger.dir, CONFIG_FILE)
            existing = read_config_prefix(config)
            if existing and existing != prefix:
                raise ConflictError(
                    f"{config} already sets issue-prefix: {existing}",
                    hint=f"use --prefix {existing}, or edit {config}",
                )
            if not existing:
                atomic_write_text(config, f"# bd/VerMAS ledger configuration\nissue-prefix: {prefix}\n")
            meta = os.path.join(ledger.dir, METADATA_FILE)
            if not os.path.exists(meta):
                atomic_write_text(meta, '{\n  "database": "beads.db",\n  "jsonl_export": "issues.jsonl"\n}\n')
            ignore = os.path.join(ledger.dir, ".gitignore")
            if not os.path.exists(ignore):
                atomic_write_text(ignore, GITIGNORE)
            if not os.path.exists(ledger.issues_path):
                atomic_write_bytes(ledger.issues_path, b"")
        return ledger

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- index
    @property
    def conn(self) -> sqlite3.Connection:
        """The index connection, rebuilt first if the JSONL changed underneath it."""
        if self._conn is None:
            self._conn = index.connect(self.index_path)
        if self._tx is None:
            self._ensure_fresh(locked=False)
        return self._conn

    def _signature(self) -> str:
        return jsonlfile.signature(self.issues_path) + "|" + jsonlfile.signature(self.wisps_path)

    def _is_fresh(self, conn: sqlite3.Connection) -> bool:
        if not index.schema_current(conn):
            return False
        return index.get_meta(conn, "sig") == self._signature()

    def _ensure_fresh(self, *, locked: bool) -> None:
        assert self._conn is not None
        if self._is_fresh(self._conn):
            return
        if locked:
            self._rebuild()
            return
        with FileLock(self.lock_path):
            if not self._is_fresh(self._conn):
                self._rebuild()

    def _rebuild(self) -> None:
        """Reload the index from the JSONL files (caller holds the lock)."""
        conn = self._conn
        assert conn is not None
        if self.progress is not None:
            size = _size(self.issues_path)
            self.progress(f"rebuilding the ledger index from {self.issues_path} ({size / 1e6:.1f} MB)…", size)
        records, foreign, ordered = _load(self.issues_path)
        wisps, _wforeign, _ = _load(self.wisps_path)
        for _line, obj in wisps:
            obj.setdefault("ephemeral", True)
        if not index.schema_current(conn):
            index.create_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            index.fill(conn, records + wisps, foreign)
            index.set_meta(conn, "sorted", "1" if ordered else "0")
            index.set_meta(conn, "comment_seq", str(_max_comment_id(records + wisps)))
            index.set_meta(conn, "sig", self._signature())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def rebuild(self) -> None:
        """Force a full index rebuild from the JSONL files."""
        if self._conn is None:
            self._conn = index.connect(self.index_path)
        with FileLock(self.lock_path):
            self._rebuild()

    # ---------------------------------------------------------- settings
    @property
    def prefix(self) -> str:
        """The issue prefix: ``config.yaml`` ``issue-prefix``, else the common id prefix."""
        if self._prefix is None:
            prefix = read_config_prefix(os.path.join(self.dir, CONFIG_FILE))
            if not prefix:
                row = self.conn.execute("SELECT id FROM issues WHERE instr(id, '-') > 0 LIMIT 1").fetchone()
                prefix = ids.prefix_of(row[0]) if row else ""
            if not prefix:
                parent = os.path.basename(os.path.dirname(self.dir))
                prefix = "".join(c for c in parent.lower() if c.isalnum()) or "bd"
            self._prefix = prefix
        return self._prefix

    # -------------------------------------------------------------- reads
    def find(self, issue_id: str) -> dict | None:
        line = index.get_line(self.conn, issue_id)
        return codec.decode_line(line, self.issues_path, 0) if line is not None else None

    def get(self, issue_id: str) -> dict:
        """The issue with exactly this id (after partial-id resolution); exit 3 when missing."""
        issue = self.find(issue_id)
        if issue is None:
            issue = self.find(self.resolve(issue_id))
            assert issue is not None
        return issue

    def get_many(self, issue_ids: list[str]) -> dict[str, dict]:
        lines = index.get_lines(self.conn, issue_ids)
        return {k: codec.decode_line(v, self.issues_path, 0) for k, v in lines.items()}

    def exists(self, issue_id: str) -> bool:
        return index.exists(self.conn, issue_id)

    def resolve(self, partial: str) -> str:
        """Full id for ``partial`` (``a3f8`` → ``bd-a3f8…``); exit 3 when none, 2 when ambiguous."""
        conn = self.conn
        if index.exists(conn, partial):
            return partial
        candidates = index.ids_with_prefix(conn, partial)
        if not candidates and "-" not in partial:
            candidates = index.ids_with_prefix(conn, f"{self.prefix}-{partial}")
            if not candidates:
                candidates = [c for c in index.ids_containing(conn, "-" + partial)
                              if c.split("-", 1)[-1].startswith(partial)]
        exact_top = [c for c in candidates if "." not in c[len(partial):]] if candidates else []
        if len(candidates) == 1:
            return candidates[0]
        if len(exact_top) == 1:
            return exact_top[0]
        if not candidates:
            raise NotFoundError(f"no issue {partial!r} in {self.issues_path}",
                                hint="check the id with 'vermas list', or pass --rig for another rig's ledger")
        shown = ", ".join(candidates[:8]) + (" …" if len(candidates) > 8 else "")
        raise UsageError(f"ambiguous id {partial!r}: matches {shown}", hint="give more characters of the id")

    def children(self, issue_id: str) -> list[str]:
        return [i for i, _t in index.dependents(self.conn, issue_id, "parent-child")]

    def is_blocked(self, issue_id: str) -> bool:
        return index.is_blocked(self.conn, issue_id)

    def blocked_among(self, issue_ids: list[str]) -> set[str]:
        """Which of ``issue_ids`` are blocked (one query per 500 ids)."""
        return index.blocked_among(self.conn, issue_ids)

    # ------------------------------------------------------------- writes
    def transaction(self, actor: str, *, correlation_id: str | None = None) -> Transaction:
        """A write transaction (re-entrant: nested calls join the open one)."""
        if self._tx is not None:
            return _Nested(self._tx)  # type: ignore[return-value]
        return Transaction(self, actor, correlation_id=correlation_id)


class Transaction:
    """All mutations of one logical change; committed atomically on context exit."""

    def __init__(self, ledger: Ledger, actor: str, *, correlation_id: str | None = None) -> None:
        self.ledger = ledger
        self.actor = actor
        self.correlation_id = correlation_id
        self._lock = FileLock(ledger.lock_path)
        self._changed: dict[str, tuple[bool, dict | None]] = {}  # id -> (was_ephemeral, new issue)
        self._touched: set[str] = set()
        self._parents: set[str] = set()
        self._events: list[dict] = []
        self._lines: dict[str, str] = {}  # id -> encoded line of every issue stored in this transaction
        self.committed_events: list[dict] = []

    # context management ---------------------------------------------------
    def __enter__(self) -> Transaction:
        ledger = self.ledger
        self._lock.acquire()
        try:
            if ledger._conn is None:
                ledger._conn = index.connect(ledger.index_path)
            ledger._ensure_fresh(locked=True)
            _remove_dead_temp_files(ledger.dir)
            ledger._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        ledger._tx = self
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        ledger = self.ledger
        conn = ledger._conn
        assert conn is not None
        try:
            if exc_type is not None:
                conn.execute("ROLLBACK")
                return
            try:
                self._commit(conn)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            # Still under the ledger lock, so the log's order is the commit order.
            event_log.append(ledger.dir, self._events)
            self.committed_events = self._events
        finally:
            ledger._tx = None
            self._lock.release()

    def _commit(self, conn: sqlite3.Connection) -> None:
        if not self._changed:
            conn.execute("COMMIT")
            return
        index.refresh_blocked(conn, self._touched, self._parents)
        persist: dict[str, str | None] = {}
        wisps_changed = False
        for issue_id, (was_ephemeral, issue) in self._changed.items():
            now_ephemeral = bool(issue and issue.get("ephemeral") is True)
            if issue is None:
                if was_ephemeral:
                    wisps_changed = True
                else:
                    persist[issue_id] = None
                continue
            if was_ephemeral or now_ephemeral:
                wisps_changed = True
            if now_ephemeral and not was_ephemeral:
                persist[issue_id] = None
            elif not now_ephemeral:
                persist[issue_id] = self._lines[issue_id]
        ledger = self.ledger
        if persist:
            self._write_issues(conn, persist)
        if wisps_changed:
            body = jsonlfile.render_lines(index.all_lines(conn, ephemeral=True))
            if body or os.path.exists(ledger.wisps_path):
                atomic_write_bytes(ledger.wisps_path, body)
        index.set_meta(conn, "sig", ledger._signature())
        conn.execute("COMMIT")

    def _write_issues(self, conn: sqlite3.Connection, persist: dict[str, str | None]) -> None:
        """Write the changed lines: splice a few, merge many, render the file when it is irregular."""
        path = self.ledger.issues_path
        foreign = index.foreign_lines(conn)
        regular = not foreign and index.get_meta(conn, "sorted") == "1" and os.path.exists(path)
        if regular:
            try:
                if len(persist) <= SPLICE_LIMIT:
                    jsonlfile.splice(path, persist)
                else:
                    jsonlfile.merge_rewrite(path, persist)
                return
            except jsonlfile.NeedsFullRewrite:
                pass
        atomic_write_bytes(path, jsonlfile.render_lines(index.all_lines(conn, ephemeral=False), foreign))
        index.set_meta(conn, "sorted", "1")

    # bookkeeping -------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = self.ledger._conn
        assert conn is not None
        return conn

    def _load(self, issue_id: str) -> dict:
        line = index.get_line(self.conn, issue_id)
        if line is None:
            issue_id = self.ledger.resolve(issue_id)
            line = index.get_line(self.conn, issue_id)
            assert line is not None
        return codec.decode_line(line, self.ledger.issues_path, 0)

    def _store(self, issue: dict, *, blocking_change: bool, old: dict | None = None) -> dict:
        issue = codec.canonical(issue)
        issue_id = issue["id"]
        if issue_id not in self._changed:
            if old is not None:
                was_ephemeral = old.get("ephemeral") is True
            else:
                was_ephemeral = index.ephemeral_flags(self.conn, [issue_id]).get(issue_id, False)
            self._changed[issue_id] = (was_ephemeral, issue)
        else:
            self._changed[issue_id] = (self._changed[issue_id][0], issue)
        line = codec.encode(issue)
        self._lines[issue_id] = line
        index.put_issue(self.conn, issue, line)
        if blocking_change:
            self._touched.add(issue_id)
            for dep in (old or {}).get("dependencies") or ():
                if isinstance(dep, dict) and dep.get("type") == "parent-child":
                    self._parents.add(str(dep.get("depends_on_id")))
            for dep in issue.get("dependencies") or ():
                if dep.get("type") == "parent-child":
                    self._parents.add(str(dep.get("depends_on_id")))
        return issue

    def emit(self, event_type: str, data: dict, *, caused_by: str | None = None,
             correlation_id: str | None = None) -> dict:
        """Queue an event; it is appended to ``events.jsonl`` after the commit."""
        event = event_log.new_event(event_type, self.actor, data,
                                    correlation_id=correlation_id or self.correlation_id, caused_by=caused_by)
        self._events.append(event)
        return event

    # mutations -----------------------------------------------------------------
    def create(
        self,
        title: str,
        *,
        description: str = "",
        issue_type: str = "task",
        priority: int = schema.PRIORITY_DEFAULT,
        status: str = "open",
        assignee: str = "",
        labels: tuple[str, ...] | list[str] = (),
        deps: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
        parent: str | None = None,
        issue_id: str | None = None,
        id_prefix: str | None = None,
        ephemeral: bool = False,
        fields: dict | None = None,
    ) -> dict:
        """Create an issue; ``deps`` are ``(type, target)`` pairs. Returns the stored issue."""
        _check_title(title)
        _check_priority(priority)
        conn = self.conn
        created_at, created_ns = timefmt.now()
        if parent is not None and not index.exists(conn, parent):
            parent = self._load(parent)["id"]  # resolve a partial id (exit 3 when unknown)
        if issue_id is None:
            if parent is not None:
                issue_id = f"{parent}.{index.next_child_number(conn, parent)}"
                while index.exists(conn, issue_id):
                    issue_id = f"{parent}.{index.next_child_number(conn, parent)}"
            else:
                prefix = id_prefix or self.ledger.prefix
                issue_id = ids.generate(
                    prefix, title, description, self.actor, created_ns,
                    _Taken(conn), index.count_top_level(conn, prefix),
                )
        else:
            if index.exists(conn, issue_id):
                raise ConflictError(f"issue {issue_id} already exists")
            index.bump_child_counter(conn, issue_id)
        issue: dict = {"id": issue_id, "title": title}
        if description:
            issue["description"] = description
        issue["status"] = status
        issue["priority"] = priority
        issue["issue_type"] = issue_type
        if assignee:
            issue["assignee"] = assignee
        issue["created_at"] = created_at
        issue["created_by"] = self.actor
        issue["updated_at"] = created_at
        if status == "closed":
            issue["closed_at"] = created_at
        if labels:
            issue["labels"] = sorted(set(labels))
        dependencies = []
        if parent is not None:
            dependencies.append(_dependency(issue_id, parent, "parent-child", created_at, self.actor))
        for dep_type, target in deps:
            dependencies.append(_dependency(issue_id, target, dep_type, created_at, self.actor))
        if dependencies:
            issue["dependencies"] = dependencies
        if ephemeral:
            issue["ephemeral"] = True
        for key, value in (fields or {}).items():
            if not schema.is_empty(key, value):
                issue[key] = value
        issue = self._store(issue, blocking_change=True)
        for dep_type, target in deps:
            if dep_type in schema.AFFECTS_READY:
                self._check_cycle(issue_id, target, dep_type)
        data = {"bead_id": issue_id, "title": title, "description": description, "issue_type": issue_type,
                "priority": priority, "status": status, "created_by": self.actor}
        if assignee:
            data["assignee"] = assignee
        if issue.get("labels"):
            data["labels"] = issue["labels"]
        if dependencies:
            data["dependencies"] = [[d["type"], d["depends_on_id"]] for d in dependencies]
        if ephemeral:
            data["ephemeral"] = True
        for key in fields or ():
            if key in issue and key not in data:
                data[key] = issue[key]
        self.emit("bead.created", data)
        return issue

    def put(self, issue: dict, *, event: str | None = "bead.imported") -> dict:
        """Insert or replace an issue verbatim (import/sync/merge); no timestamps change."""
        codec.validate_record(issue, "<put>", 0)
        old_line = index.get_line(self.conn, issue["id"])
        old = codec.decode_line(old_line, "<index>", 0) if old_line else None
        index.bump_child_counter(self.conn, issue["id"])
        stored = self._store(dict(issue), blocking_change=True, old=old)
        if event:
            self.emit(event, {"bead_id": issue["id"], "replaced": old is not None})
        return stored

    def put_many(self, issues: list[dict], *, event: str | None = "bead.imported",
                 validated: bool = False, lines: dict[str, str] | None = None,
                 existing: set[str] | None = None) -> None:
        """:meth:`put` for many issues at once (import, sync): bulk index writes, one file write.

        With ``event`` set, one event of that type records every id (``data.bead_ids``) instead
        of one event per issue; ``validated`` skips re-checking records already checked on read;
        ``lines`` gives already-canonical lines to store as they are (``{id: line}``);
        ``existing``, when the caller knows it, is the subset of ids already in the ledger.
        """
        if len(issues) <= SPLICE_LIMIT:
            for issue in issues:
                self.put(issue, event=event)
            return
        conn = self.conn
        items: list[tuple[dict, str]] = []
        known = lines or {}
        for issue in issues:
            if not validated:
                codec.validate_record(issue, "<put>", 0)
            canon = codec.canonical(issue)
            line = known.get(canon["id"]) if canon is issue else None
            if line is None:
                line = codec.encode(canon)
            items.append((canon, line))
            self._lines[canon["id"]] = line
        ids_in = [canon["id"] for canon, _line in items]
        known_ids = ids_in if existing is None else [i for i in ids_in if i in existing]
        previous = index.ephemeral_flags(conn, known_ids) if known_ids else {}
        old_parents = index.parent_targets(conn, known_ids) if known_ids else set()
        index.put_issues(conn, items, existing=list(previous))
        index.bump_child_counters(conn, ids_in)
        for canon, _line in items:
            issue_id = canon["id"]
            if issue_id in self._changed:
                self._changed[issue_id] = (self._changed[issue_id][0], canon)
            else:
                self._changed[issue_id] = (previous.get(issue_id, False), canon)
            self._touched.add(issue_id)
            for dep in canon.get("dependencies") or ():
                if isinstance(dep, dict) and dep.get("type") == "parent-child":
                    self._parents.add(str(dep.get("depends_on_id")))
        self._parents.update(old_parents)
        if event:
            self.emit(event, {"bead_ids": ids_in, "replaced": sorted(i for i in ids_in if i in previous)})

    def update(self, issue_id: str, **fields: object) -> dict:
        """Set fields (``None``/empty clears an omitempty field); status changes manage closed_at."""
        issue = self._load(issue_id)
        old = dict(issue)
        now = timefmt.now_str()
        changes: dict[str, list] = {}
        for key, value in fields.items():
            if key in ("id", "created_at", "dependencies", "comments"):
                raise UsageError(f"field {key!r} cannot be changed with update")
            if key == "priority":
                _check_priority(value)
            if key == "title":
                _check_title(str(value))
            before = issue.get(key)
            if value is None or schema.is_empty(key, value):
                if key in schema.ALWAYS_WRITTEN:
                    raise UsageError(f"field {key!r} cannot be empty")
                if key in issue:
                    del issue[key]
            else:
                issue[key] = sorted(set(value)) if key == "labels" else value  # type: ignore[call-overload]
            if issue.get(key) != before:
                changes[key] = [before, issue.get(key)]
        if not changes:
            return issue
        status_change = "status" in changes
        if status_change:
            self._apply_status_side_effects(issue, old.get("status") or "open", now)
        issue["updated_at"] = now
        stored = self._store(issue, blocking_change=status_change or "close_reason" in changes, old=old)
        self.emit("bead.updated", {"bead_id": stored["id"], "changes": changes})
        if status_change:
            self.emit("bead.status_changed", {"bead_id": stored["id"], "from_status": old.get("status") or "open",
                                              "to_status": stored.get("status")})
        return stored

    def _apply_status_side_effects(self, issue: dict, before: str, now: str) -> None:
        after = issue.get("status") or "open"
        if after == "closed" and before != "closed":
            issue["closed_at"] = now
        elif after != "closed" and before == "closed":
            issue.pop("closed_at", None)
            issue.pop("close_reason", None)

    def close(self, issue_id: str, reason: str = "", *, session: str = "") -> dict:
        """Close an issue with an optional reason (drives ``conditional-blocks``)."""
        issue = self._load(issue_id)
        old = dict(issue)
        if issue.get("status") == "closed":
            return issue
        if issue.get("status") == "tombstone":
            raise ConflictError(f"issue {issue['id']} is deleted (tombstone)")
        now = timefmt.now_str()
        issue["status"] = "closed"
        issue["updated_at"] = now
        issue["closed_at"] = now
        if reason:
            issue["close_reason"] = reason
        else:
            issue.pop("close_reason", None)
        if session:
            issue["closed_by_session"] = session
        stored = self._store(issue, blocking_change=True, old=old)
        self.emit("bead.closed", {"bead_id": stored["id"], "reason": reason,
                                  "from_status": old.get("status") or "open"})
        return stored

    def reopen(self, issue_id: str, reason: str = "") -> dict:
        issue = self._load(issue_id)
        old = dict(issue)
        if issue.get("status") != "closed":
            raise ConflictError(f"issue {issue['id']} is not closed (status: {issue.get('status') or 'open'})")
        issue["status"] = "open"
        issue.pop("closed_at", None)
        issue.pop("close_reason", None)
        issue.pop("closed_by_session", None)
        issue["updated_at"] = timefmt.now_str()
        stored = self._store(issue, blocking_change=True, old=old)
        self.emit("bead.reopened", {"bead_id": stored["id"], "reason": reason})
        return stored

    def add_dependency(self, issue_id: str, depends_on_id: str, dep_type: str = "blocks",
                       *, metadata: str | None = None, allow_missing: bool = False) -> dict:
        """``issue_id`` depends on ``depends_on_id`` (``dep add B A``: B needs A)."""
        issue = self._load(issue_id)
        old = dict(issue)
        if depends_on_id.startswith("external:") or (allow_missing and not index.exists(self.conn, depends_on_id)):
            target_id = depends_on_id
        else:
            target_id = self._load(depends_on_id)["id"]
        if target_id == issue["id"]:
            raise ConflictError(f"an issue cannot depend on itself ({target_id})")
        deps = list(issue.get("dependencies") or [])
        for dep in deps:
            if dep.get("depends_on_id") == target_id and dep.get("type") == dep_type:
                return issue
        now = timefmt.now_str()
        dep = _dependency(issue["id"], target_id, dep_type, now, self.actor)
        if metadata:
            dep["metadata"] = metadata
        deps.append(dep)
        deps.sort(key=lambda d: (d.get("issue_id", ""), d.get("created_at", "")))
        issue["dependencies"] = deps
        issue["updated_at"] = now
        stored = self._store(issue, blocking_change=dep_type in schema.AFFECTS_READY, old=old)
        if dep_type in schema.AFFECTS_READY:
            self._check_cycle(issue["id"], target_id, dep_type)
        self.emit("dep.added", {"issue_id": issue["id"], "depends_on_id": target_id, "type": dep_type})
        return stored

    def remove_dependency(self, issue_id: str, depends_on_id: str, dep_type: str | None = None) -> dict:
        issue = self._load(issue_id)
        old = dict(issue)
        deps = list(issue.get("dependencies") or [])
        keep = [d for d in deps if not (d.get("depends_on_id") == depends_on_id
                                         and (dep_type is None or d.get("type") == dep_type))]
        if len(keep) == len(deps):
            raise NotFoundError(f"{issue['id']} has no dependency on {depends_on_id}"
                                + (f" of type {dep_type}" if dep_type else ""))
        removed_types = {str(d.get("type")) for d in deps if d not in keep}
        if keep:
            issue["dependencies"] = keep
        else:
            issue.pop("dependencies", None)
        issue["updated_at"] = timefmt.now_str()
        stored = self._store(issue, blocking_change=bool(removed_types & schema.AFFECTS_READY), old=old)
        self.emit("dep.removed", {"issue_id": issue["id"], "depends_on_id": depends_on_id,
                                  "type": dep_type or ",".join(sorted(removed_types))})
        return stored

    def add_label(self, issue_id: str, label: str) -> dict:
        issue = self._load(issue_id)
        labels = set(issue.get("labels") or [])
        if label in labels:
            return issue
        labels.add(label)
        issue["labels"] = sorted(labels)
        issue["updated_at"] = timefmt.now_str()
        stored = self._store(issue, blocking_change=False)
        self.emit("label.added", {"bead_id": issue["id"], "label": label})
        return stored

    def remove_label(self, issue_id: str, label: str) -> dict:
        issue = self._load(issue_id)
        labels = set(issue.get("labels") or [])
        if label not in labels:
            return issue
        labels.discard(label)
        if labels:
            issue["labels"] = sorted(labels)
        else:
            issue.pop("labels", None)
        issue["updated_at"] = timefmt.now_str()
        stored = self._store(issue, blocking_change=False)
        self.emit("label.removed", {"bead_id": issue["id"], "label": label})
        return stored

    def add_comment(self, issue_id: str, text: str, *, author: str | None = None) -> dict:
        issue = self._load(issue_id)
        seq = int(index.get_meta(self.conn, "comment_seq") or "0") + 1
        index.set_meta(self.conn, "comment_seq", str(seq))
        now = timefmt.now_str()
        comment = {"id": seq, "issue_id": issue["id"], "author": author or self.actor, "text": text, "created_at": now}
        issue["comments"] = [*list(issue.get("comments") or []), comment]
        issue["updated_at"] = now
        self._store(issue, blocking_change=False)
        self.emit("comment.added", {"bead_id": issue["id"], "comment_id": seq})
        return comment

    def delete(self, issue_id: str, reason: str = "") -> dict:
        """Turn an issue into a tombstone (bd's inline deletion record)."""
        issue = self._load(issue_id)
        old = dict(issue)
        if issue.get("status") == "tombstone":
            return issue
        now = timefmt.now_str()
        issue["original_type"] = issue.get("issue_type") or "task"
        issue["status"] = "tombstone"
        issue["updated_at"] = now
        issue["deleted_at"] = now
        issue["deleted_by"] = self.actor
        if reason:
            issue["delete_reason"] = reason
        stored = self._store(issue, blocking_change=True, old=old)
        self.emit("bead.deleted", {"bead_id": issue["id"], "reason": reason})
        return stored

    def purge(self, issue_id: str) -> None:
        """Remove an issue outright (wisps, burned molecules); no tombstone is left."""
        issue = self._load(issue_id)
        real_id = issue["id"]
        was_ephemeral = issue.get("ephemeral") is True
        for dep in issue.get("dependencies") or ():
            if dep.get("type") == "parent-child":
                self._parents.add(str(dep.get("depends_on_id")))
        index.drop_issue(self.conn, real_id)
        prior = self._changed.get(real_id)
        self._changed[real_id] = (prior[0] if prior else was_ephemeral, None)
        self._touched.add(real_id)
        self.emit("bead.purged", {"bead_id": real_id})

    # checks ----------------------------------------------------------------------
    def _check_cycle(self, issue_id: str, target: str, dep_type: str) -> None:
        """Refuse an edge issue→target that closes a cycle among readiness edges."""
        if not index.has_dependents(self.conn, issue_id):
            return  # nothing depends on issue_id, so no path can lead back to it (O(1) for new issues)
        path = _find_path(self.conn, target, issue_id)
        if path is not None:
            cycle = " → ".join([issue_id, *path])
            raise ConflictError(
                f"dependency {issue_id} → {target} ({dep_type}) would create a cycle: {cycle}",
                hint="remove one of the dependencies in the cycle first ('vermas dep cycles' lists them)",
            )


class _Nested:
    """A nested ``with ledger.transaction()``: joins the open transaction, commits nothing."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def __enter__(self) -> Transaction:
        return self._tx

    def __exit__(self, *exc: object) -> None:
        return None


class _Taken:
    """``id in taken`` against the index (for id generation)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __contains__(self, issue_id: object) -> bool:
        return index.exists(self._conn, str(issue_id))


def _find_path(conn: sqlite3.Connection, start: str, goal: str) -> list[str] | None:
    """Ids on a readiness-edge path start→…→goal (following ``depends_on``), or None."""
    types = tuple(schema.AFFECTS_READY)
    marks = ",".join("?" * len(types))
    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            if node == goal:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])  # type: ignore[arg-type]
                return list(reversed(path))
            for (target,) in conn.execute(
                f"SELECT depends_on_id FROM deps WHERE issue_id = ? AND type IN ({marks})", (node, *types)
            ):
                if target not in previous:
                    previous[target] = node
                    nxt.append(target)
        frontier = nxt
    return None


def _dependency(issue_id: str, target: str, dep_type: str, created_at: str, actor: str) -> dict:
    dep = {"issue_id": issue_id, "depends_on_id": target, "type": dep_type, "created_at": created_at}
    if actor:
        dep["created_by"] = actor
    return dep


def _check_title(title: str) -> None:
    if not title or not title.strip():
        raise UsageError("title must not be empty")
    if len(title) > schema.TITLE_MAX:
        raise UsageError(f"title is {len(title)} characters; the limit is {schema.TITLE_MAX}")


def _check_priority(priority: object) -> None:
    if not isinstance(priority, int) or isinstance(priority, bool) or not (
        schema.PRIORITY_MIN <= priority <= schema.PRIORITY_MAX
    ):
        raise UsageError(f"priority must be an integer 0-4 (0 = critical), got {priority!r}")


def _load(path: str) -> tuple[list[tuple[str, dict]], list[str], bool]:
    """Records of a JSONL file (last duplicate wins) and whether ids were strictly sorted."""
    try:
        records, foreign = codec.read_records(path)
    except FileNotFoundError:
        return [], [], True
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    ordered = all(records[i][1]["id"] < records[i + 1][1]["id"] for i in range(len(records) - 1))
    if not ordered:
        seen: dict[str, tuple[str, dict]] = {}
        for line, obj in records:
            seen[obj["id"]] = (line, obj)
        records = list(seen.values())
    return records, foreign, ordered


def _remove_dead_temp_files(beads_dir: str) -> None:
    """Temp files of our JSONL writes left by a killed writer (we hold the lock, so none is live)."""
    for name in os.listdir(beads_dir):
        if name.startswith((f".{ISSUES_FILE}.tmp.", f".{WISPS_FILE}.tmp.")):
            try:
                os.unlink(os.path.join(beads_dir, name))
            except FileNotFoundError:
                pass


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _max_comment_id(records: list[tuple[str, dict]]) -> int:
    best = 0
    for _line, obj in records:
        for comment in obj.get("comments") or ():
            if isinstance(comment, dict) and isinstance(comment.get("id"), int):
                best = max(best, comment["id"])
    return best


def is_ledger_dir(beads_dir: str) -> bool:
    return os.path.isdir(beads_dir) and any(
        os.path.exists(os.path.join(beads_dir, name)) for name in (ISSUES_FILE, CONFIG_FILE, METADATA_FILE)
    )


def read_config_prefix(config_path: str) -> str | None:
    """``issue-prefix:`` from a bd ``config.yaml`` (a one-key read; no YAML library needed)."""
    try:
        with open(config_path, encoding="utf-8") as fh:
            for raw in fh:
                line = raw.split("#", 1)[0].strip()
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("issue-prefix", "issue_prefix"):
                    value = value.strip().strip("\"'").rstrip("-")
                    return value or None
    except FileNotFoundError:
        return None
    return None
