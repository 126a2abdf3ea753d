"""The append-only event log ``.beads/events.jsonl``: one JSON object per mutation.

Shape: ``{event_id, event_type, timestamp, actor, correlation_id, caused_by, data}``.
Appends are single ``write`` calls under a lock, so concurrent writers never tear lines;
readers skip a torn final line left by a writer that was killed mid-append.
"""

from __future__ import annotations

import json
import os
import secrets

from vermas.fileops import append_line
from vermas.ledger import timefmt

EVENTS_FILE = "events.jsonl"


def new_event(event_type: str, actor: str, data: dict, *, correlation_id: str | None = None,
              caused_by: str | None = None, timestamp: str | None = None) -> dict:
    return {
        "event_id": "evt-" + secrets.token_hex(6),
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


def read(beads_dir: str) -> list[dict]:
    """Every well-formed event in the log, oldest first."""
    path = os.path.join(beads_dir, EVENTS_FILE)
    out: list[dict] = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            if not raw.endswith("\n"):
                break  # torn final line from a killed writer
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict) and "event_type" in event:
                out.append(event)
    return out
