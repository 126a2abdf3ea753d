"""The append-only event log ``.beads/events.jsonl``: one JSON object per mutation.

Shape: ``{event_id, event_type, timestamp, actor, correlation_id, caused_by, data}``.
Appends are single ``write`` calls under a lock, so concurrent writers never tear lines;
readers skip a torn final line left by a writer that was killed mid-append.
"""

from __future__ import annotations

import json
import os

from vermas.fileops import append_line
from vermas.ledger import timefmt

EVENTS_FILE = "events.jsonl"


def new_event(event_type: str, actor: str, data: dict, *, correlation_id: str | None = None,
              caused_by: str | None = None, timestamp: str | None = None) -> dict:
    return {
        "event_id": "evt-" + os.urandom(6).hex(),
        "event_type": event_type,
        "timestamp": timestamp or timefmt.now_str(),
        "actor": actor,
        "correlation_id": correlation_id,
        "caused_by": caused_by,
        "data": data,
    }


def append(beads_dir: str, events: list[dict]) -> None:
    """Append events (one locked write each) to ``<beads_dir>/events.jsonl``."""
    if not events:
        return
    path = os.path.join(beads_dir, EVENTS_FILE)
    text = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)
    append_line(path, text, lock_path=os.path.join(beads_dir, ".events.lock"))


def read(beads_dir: str, *, upto: int | None = None) -> list[dict]:
    """Every well-formed event in the log, oldest first (only the first ``upto`` bytes if given)."""
    path = os.path.join(beads_dir, EVENTS_FILE)
    out: list[dict] = []
    try:
        with open(path, "rb") as fh:
            data = fh.read() if upto is None else fh.read(upto)
    except FileNotFoundError:
        return out
    for raw in data.split(b"\n")[:-1]:  # the last piece is "" or a torn line from a killed writer
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict) and "event_type" in event:
            out.append(event)
    return out


def size(beads_dir: str) -> int:
    try:
        return os.path.getsize(os.path.join(beads_dir, EVENTS_FILE))
    except OSError:
        return 0


# ------------------------------------------------------------------ queries
def bead_of(event: dict) -> str | None:
    """The bead an event is about (``data.bead_id`` or ``data.issue_id``), if any."""
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    value = data.get("bead_id") or data.get("issue_id")
    return value if isinstance(value, str) else None


def beads_of(event: dict) -> set[str]:
    """Every bead an event concerns: :func:`bead_of` plus ids listed in ``data.bead_ids`` (bulk events)."""
    out = set()
    single = bead_of(event)
    if single:
        out.add(single)
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("bead_ids"), list):
        out.update(i for i in data["bead_ids"] if isinstance(i, str))
    return out


def matches(event: dict, *, types: tuple[str, ...] = (), actor: str | None = None,
            since_ns: int | None = None, bead: str | None = None) -> bool:
    """Does an event pass the filters? ``types`` are globs (``bead.*``), any may match."""
    if types:
        from fnmatch import fnmatchcase

        kind = str(event.get("event_type", ""))
        if not any(fnmatchcase(kind, pattern) for pattern in types):
            return False
    if actor and event.get("actor") != actor:
        return False
    if since_ns is not None:
        stamp = timefmt.parse_ns(event.get("timestamp"))
        if stamp is None or stamp < since_ns:
            return False
    return not (bead and bead not in beads_of(event))


def stats(events: list[dict]) -> dict:
    """Counts by type and by actor, and the time span covered."""
    by_type: dict[str, int] = {}
    by_actor: dict[str, int] = {}
    for event in events:
        kind = str(event.get("event_type", "?"))
        by_type[kind] = by_type.get(kind, 0) + 1
        who = str(event.get("actor") or "?")
        by_actor[who] = by_actor.get(who, 0) + 1
    return {
        "total": len(events),
        "first": events[0].get("timestamp") if events else None,
        "last": events[-1].get("timestamp") if events else None,
        "by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_actor": dict(sorted(by_actor.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def replay(events: list[dict], bead_id: str) -> list[tuple[dict, dict]]:
    """The bead's state after each of its events, rebuilt from the events alone.

    Start from ``bead.created`` (title, description, type, priority, status, assignee,
    labels, dependencies), apply ``bead.updated`` changes, status changes, closes, reopens,
    deletions, labels, dependencies and comments. Returns ``[(event, state_after), …]``.
    """
    state: dict = {"id": bead_id}
    out: list[tuple[dict, dict]] = []
    for event in events:
        if bead_id not in beads_of(event):
            continue
        kind = str(event.get("event_type", ""))
        _apply(state, "bead.imported" if bead_of(event) != bead_id else kind, event.get("data") or {})
        snapshot = json.loads(json.dumps(state))
        out.append((event, snapshot))
    return out


def _apply(state: dict, kind: str, data: dict) -> None:
    if kind == "bead.created":
        for key, value in data.items():
            if key not in ("bead_id", "dependencies") and value not in (None, "", []):
                state[key] = value
        state.setdefault("status", "open")
        if data.get("dependencies"):
            state["dependencies"] = [list(d) for d in data["dependencies"]]
    elif kind == "bead.updated":
        for key, change in (data.get("changes") or {}).items():
            after = change[1] if isinstance(change, list) and len(change) == 2 else change
            if after in (None, "", []):
                state.pop(key, None)
            else:
                state[key] = after
    elif kind == "bead.status_changed":
        state["status"] = data.get("to_status")
    elif kind == "bead.closed":
        state["status"] = "closed"
        if data.get("reason"):
            state["close_reason"] = data["reason"]
    elif kind == "bead.reopened":
        state["status"] = "open"
        state.pop("close_reason", None)
    elif kind == "bead.deleted":
        state["status"] = "tombstone"
    elif kind == "bead.purged":
        state["purged"] = True
    elif kind == "bead.imported":
        state["imported"] = True
    elif kind in ("label.added", "label.removed"):
        labels = set(state.get("labels") or [])
        (labels.add if kind == "label.added" else labels.discard)(data.get("label"))
        if labels:
            state["labels"] = sorted(x for x in labels if isinstance(x, str))
        else:
            state.pop("labels", None)
    elif kind == "dep.added":
        deps = [d for d in state.get("dependencies") or []]
        deps.append([data.get("type"), data.get("depends_on_id")])
        state["dependencies"] = deps
    elif kind == "dep.removed":
        types = set(str(data.get("type") or "").split(",")) - {""}
        deps = [d for d in state.get("dependencies") or []
                if not (d[1] == data.get("depends_on_id") and (not types or d[0] in types))]
        if deps:
            state["dependencies"] = deps
        else:
            state.pop("dependencies", None)
    elif kind == "comment.added":
        state["comments"] = int(state.get("comments", 0)) + 1


def follow(beads_dir: str, *, offset: int | None = None, poll: float = 0.1, stop=None):
    """Yield events appended to the log after byte ``offset`` (default: its current end), like ``tail -f``.

    Polls every ``poll`` seconds; copes with the file appearing late, being truncated or
    replaced. ``stop()`` is checked between polls; return True to end the generator.
    """
    import time

    path = os.path.join(beads_dir, EVENTS_FILE)
    position = 0
    inode = None
    pending = b""
    first = True
    start = size(beads_dir) if offset is None else offset
    while True:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            if inode != st.st_ino or st.st_size < position:
                position = min(start, st.st_size) if first else 0
                inode = st.st_ino
                pending = b""
            first = False
            if st.st_size > position:
                with open(path, "rb") as fh:
                    fh.seek(position)
                    chunk = fh.read()
                position += len(chunk)
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    try:
                        event = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(event, dict) and "event_type" in event:
                        yield event
        else:
            first = False
        if stop is not None and stop():
            return
        time.sleep(poll)
