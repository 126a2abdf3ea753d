"""Activity files written by the agent's hooks: the primary busy/idle signal and the prompt counter.

``<runtime>/activity/<session>.json``::

    {"session": "vm-app-nux", "state": "busy|idle|unknown", "event": "UserPromptSubmit",
     "ts": 1795217557.12, "timestamp": "2026-11-20T23:32:37Z", "prompts": 12, "turns": 11,
     "agent_session_id": "<the CLI's own session id, for --resume>", "pid": 4242}

``UserPromptSubmit`` (``vermas mail check --inject``) sets ``busy`` and bumps ``prompts``,
which is how delivery confirms that typed input was accepted; ``Stop`` (``vermas signal
stop``) sets ``idle`` and bumps ``turns``; ``SessionStart`` sets ``idle``; an interrupt
sets ``unknown`` so the pane decides. Writes are atomic (temp + rename).

Hot path: standard library only.
"""

from __future__ import annotations

import json
import os
import time


def path_for(runtime_dir: str, session: str) -> str:
    from vermas.runtime.paths import activity_path

    return activity_path(runtime_dir, session)


def read(runtime_dir: str, session: str) -> dict | None:
    """The activity record, or None when the session has none (no hooks ran) or it is unreadable."""
    try:
        with open(path_for(runtime_dir, session), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def record(runtime_dir: str, session: str, *, state: str, event: str, prompt: bool = False, turn: bool = False,
           agent_session_id: str | None = None, extra: dict | None = None) -> dict:
    """Update the session's activity record; returns the new record."""
    from vermas.fileops import atomic_write_text

    path = path_for(runtime_dir, session)
    current = read(runtime_dir, session) or {}
    now = time.time()
    data = {
        "session": session,
        "state": state,
        "event": event,
        "ts": now,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "prompts": int(current.get("prompts", 0)) + (1 if prompt else 0),
        "turns": int(current.get("turns", 0)) + (1 if turn else 0),
        "agent_session_id": agent_session_id or current.get("agent_session_id") or "",
        "pid": os.getppid(),
    }
    if extra:
        data.update(extra)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps(data, ensure_ascii=False) + "\n", durable=False)
    return data


def touch(runtime_dir: str, session: str, cli: str, *, min_interval: float = 1.0) -> bool:
    """A sign of life from a CLI call: move ``ts`` and count ``cli_calls``, leaving the hooks' ``state``.

    Skips (returns False) when the record was written within ``min_interval`` seconds, so a burst
    of calls costs one write.
    """
    from vermas.fileops import atomic_write_text

    path = path_for(runtime_dir, session)
    try:
        if time.time() - os.stat(path).st_mtime < min_interval:
            return False
    except OSError:
        pass
    record = read(runtime_dir, session) or {}
    now = time.time()
    record.setdefault("session", session)
    record.setdefault("state", "unknown")
    record["ts"] = now
    record["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    record["last_cli"] = cli
    record["cli_calls"] = int(record.get("cli_calls") or 0) + 1
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps(record, ensure_ascii=False) + "\n", durable=False)
    return True


def prompt_count(runtime_dir: str, session: str) -> int:
    data = read(runtime_dir, session)
    return int(data.get("prompts", 0)) if data else 0
