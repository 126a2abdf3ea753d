"""The per-session nudge queue: files enqueued by ``vermas nudge``, drained exactly once by hooks.

Gas Town's format (``internal/nudge/queue.go``), so either side can read the other's queue::

    <runtime>/nudge_queue/<session>/<unix-nanos>-<8hex>.json
      {"sender", "message", "priority": "normal|urgent", "kind", "thread_id", "severity",
       "timestamp", "expires_at", "deliver_after"}      (timestamps RFC 3339, UTC)

Rules: time-to-live 30 min (normal) or 2 h (urgent), expired nudges are dropped; at most
50 pending per session (:class:`QueueFullError` beyond); files are written atomically
(temp + rename); draining holds the queue's flock (``<queue>/.lock``), renames each file to
``.claimed``, and the caller removes the claims with :func:`ack` once the text is out.
Claims older than 5 min (a drainer that died) are returned to the queue. Urgent nudges
drain first, then oldest first. Hot path: standard library only.
"""

from __future__ import annotations

import json
import os
import time

MAX_PENDING = 50
TTL_SECONDS = {"normal": 30 * 60, "urgent": 2 * 60 * 60}
CLAIM_STALE_SECONDS = 5 * 60
PRIORITIES = ("normal", "urgent")


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _parse_time(value: object) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime

    text = value.replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python wants at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _dir(runtime_dir: str, session: str) -> str:
    from vermas.runtime.paths import queue_dir

    return queue_dir(runtime_dir, session)


def _lock(directory: str):
    from vermas.fileops import FileLock

    return FileLock(os.path.join(directory, ".lock"), timeout=30.0)


def _pending_files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(".json") and not n.startswith("."))


def enqueue(runtime_dir: str, session: str, message: str, *, sender: str = "", priority: str = "normal",
            kind: str = "nudge", thread_id: str = "", severity: str = "", deliver_after: float | None = None,
            ttl: float | None = None) -> str:
    """Queue ``message`` for ``session``; returns the file path."""
    from vermas.errors import UsageError
    from vermas.fileops import atomic_write_text

    if priority not in PRIORITIES:
        raise UsageError(f"nudge priority must be one of {', '.join(PRIORITIES)}, got {priority!r}")
    if not message:
        raise UsageError("cannot queue an empty nudge")
    directory = _dir(runtime_dir, session)
    os.makedirs(directory, exist_ok=True)
    now = time.time()
    entry = {
        "sender": sender,
        "message": message,
        "priority": priority,
        "kind": kind,
        "thread_id": thread_id,
        "severity": severity,
        "timestamp": _rfc3339(now),
        "expires_at": _rfc3339(now + (ttl if ttl is not None else TTL_SECONDS[priority])),
        "deliver_after": _rfc3339(deliver_after) if deliver_after else "",
    }
    with _lock(directory):
        if len(_pending_files(directory)) >= MAX_PENDING:
            from vermas.runtime.errors import QueueFullError

            raise QueueFullError(f"nudge queue of {session} is full ({MAX_PENDING} pending)",
                                 hint="the agent is not draining its queue: is it alive? (vermas peek " + session + ")")
        name = f"{time.time_ns()}-{os.urandom(4).hex()}.json"
        path = os.path.join(directory, name)
        atomic_write_text(path, json.dumps(entry, ensure_ascii=False) + "\n", durable=False)
    return path


def _load(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pending(runtime_dir: str, session: str) -> list[dict]:
    """Queued nudges not yet claimed (expired ones included until a drain drops them)."""
    directory = _dir(runtime_dir, session)
    out = []
    for name in _pending_files(directory):
        data = _load(os.path.join(directory, name))
        if data is not None:
            data["_file"] = name
            out.append(data)
    return out


def count(runtime_dir: str, session: str) -> int:
    return len(_pending_files(_dir(runtime_dir, session)))


def drain(runtime_dir: str, session: str, *, now: float | None = None) -> list[dict]:
    """Claim every deliverable nudge (exactly once across concurrent drainers); call :func:`ack` after output."""
    directory = _dir(runtime_dir, session)
    if not os.path.isdir(directory):
        return []
    now = time.time() if now is None else now
    claimed: list[dict] = []
    with _lock(directory):
        for name in os.listdir(directory):
            if name.endswith(".claimed"):
                path = os.path.join(directory, name)
                try:
                    if now - os.stat(path).st_mtime > CLAIM_STALE_SECONDS:
                        os.replace(path, path[: -len(".claimed")] + ".json")
                except OSError:
                    pass
        for name in _pending_files(directory):
            path = os.path.join(directory, name)
            data = _load(path)
            if data is None:  # unreadable: set aside so it cannot block the queue, keep as evidence
                os.replace(path, path + ".bad")
                continue
            expires = _parse_time(data.get("expires_at"))
            if expires is not None and expires < now:
                os.unlink(path)
                continue
            after = _parse_time(data.get("deliver_after"))
            if after is not None and after > now:
                continue
            claim = path[: -len(".json")] + ".claimed"
            os.replace(path, claim)
            os.utime(claim, (now, now))
            data["_claim"] = claim
            data["_file"] = name
            claimed.append(data)
    claimed.sort(key=lambda d: (0 if d.get("priority") == "urgent" else 1, d["_file"]))
    return claimed


def claim(runtime_dir: str, session: str, name: str) -> dict | None:
    """Claim one queued nudge by file name (None when a hook already drained it); :func:`ack` after use."""
    directory = _dir(runtime_dir, session)
    path = os.path.join(directory, name)
    with _lock(directory):
        data = _load(path)
        if data is None:
            return None
        claim_path = path[: -len(".json")] + ".claimed"
        os.replace(path, claim_path)
        data["_claim"] = claim_path
        data["_file"] = name
        return data


def ack(items: list[dict]) -> None:
    """Remove the claims of delivered nudges."""
    for item in items:
        claim = item.get("_claim")
        if claim:
            try:
                os.unlink(claim)
            except FileNotFoundError:
                pass


def release(items: list[dict]) -> None:
    """Return claimed nudges to the queue (the output could not be written)."""
    for item in items:
        claim = item.get("_claim")
        if claim:
            try:
                os.replace(claim, claim[: -len(".claimed")] + ".json")
            except FileNotFoundError:
                pass


def format_reminder(items: list[dict]) -> str:
    """The ``<system-reminder>`` block the UserPromptSubmit hook prints for the agent's context."""
    if not items:
        return ""
    lines = ["<system-reminder>",
             f"You have {len(items)} queued nudge(s), delivered at this turn boundary (oldest first):"]
    for i, item in enumerate(items, 1):
        who = item.get("sender") or "unknown sender"
        when = item.get("timestamp") or ""
        tag = " [URGENT]" if item.get("priority") == "urgent" else ""
        text = str(item.get("message", "")).replace("</system-reminder>", "</system-reminder >")
        lines.append("")
        lines.append(f"[{i}]{tag} from {who}" + (f" at {when}" if when else "") + ":")
        lines.append(text)
    lines.append("</system-reminder>")
    return "\n".join(lines)
