"""The durable per-rig queue of slung beads waiting for a free polecat slot.

``<rig>/.runtime/sling-queue.json``: a JSON list, oldest first, rewritten atomically.
Each entry: ``{"bead", "formula", "vars", "runtime", "queued_at", "queued_by", "convoy",
"force", "reason"}``. Every read-modify-write happens under the rig's sling lock
(:func:`sling_lock`), the same lock that decides who gets the last free slot.
"""

from __future__ import annotations

import json
import os

from vermas.errors import DataError
from vermas.fileops import FileLock, atomic_write_text
from vermas.town.layout import RigPaths

QUEUE_FILE = "sling-queue.json"


def runtime_dir(rig: RigPaths) -> str:
    return os.path.join(rig.root, ".runtime")


def queue_path(rig: RigPaths) -> str:
    return os.path.join(runtime_dir(rig), QUEUE_FILE)


def sling_lock(rig: RigPaths, *, timeout: float = 120.0) -> FileLock:
    """The rig's dispatch lock: slot allocation and queue changes happen under it."""
    return FileLock(os.path.join(runtime_dir(rig), "sling.lock"), timeout=timeout)


def items(rig: RigPaths) -> list[dict]:
    path = queue_path(rig)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise DataError(f"{path}: malformed JSON: {exc}", hint="fix the file or delete it to drop the queue") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list")
    return [e for e in data if isinstance(e, dict) and e.get("bead")]


def _write(rig: RigPaths, entries: list[dict]) -> None:
    os.makedirs(runtime_dir(rig), exist_ok=True)
    atomic_write_text(queue_path(rig), json.dumps(entries, indent=2) + "\n")


def enqueue(rig: RigPaths, entries: list[dict]) -> list[dict]:
    """Append entries (a bead already queued keeps its place); caller holds :func:`sling_lock`."""
    current = items(rig)
    queued = {e["bead"] for e in current}
    added = [e for e in entries if e["bead"] not in queued]
    if added:
        _write(rig, current + added)
    return added


def pop(rig: RigPaths, count: int) -> list[dict]:
    """Remove and return up to ``count`` oldest entries; caller holds :func:`sling_lock`."""
    current = items(rig)
    if count <= 0 or not current:
        return []
    taken, rest = current[:count], current[count:]
    _write(rig, rest)
    return taken


def push_front(rig: RigPaths, entries: list[dict]) -> None:
    """Put entries back at the head (a dispatch that could not start them); caller holds the lock."""
    if not entries:
        return
    current = [e for e in items(rig) if e["bead"] not in {x["bead"] for x in entries}]
    _write(rig, entries + current)


def remove(rig: RigPaths, bead_id: str) -> bool:
    """Drop a bead from the queue; True when it was there. Caller holds the lock."""
    current = items(rig)
    kept = [e for e in current if e["bead"] != bead_id]
    if len(kept) == len(current):
        return False
    _write(rig, kept)
    return True
