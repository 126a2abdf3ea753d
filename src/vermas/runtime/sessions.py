"""Per-session records: what was started, where, with which runtime (``<runtime>/sessions/<name>.json``).

Written by a provider at start; read by ``vermas nudge``/``peek`` (which runtime, so which
busy markers and whether hooks drain the queue), by the witness (workdir, address) and by
restarts (``--resume`` with the agent's own session id, taken from the activity file)::

    {"session": "vm-app-nux", "address": "app/polecats/nux", "runtime": "claude",
     "spec": {…RuntimeSpec.to_dict()…}, "workdir": "/town/app/polecats/nux/app",
     "argv": [...], "settings": "/…/.claude/settings.json", "vermas_session_id": "4f…",
     "socket": "vmtest-1", "pane_id": "%3", "pid": 4242, "started_at": 1795217557.1}
"""

from __future__ import annotations

import json
import os


def write(runtime_dir: str, session: str, record: dict) -> str:
    from vermas.fileops import atomic_write_text
    from vermas.runtime.paths import session_record_path

    path = session_record_path(runtime_dir, session)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n", durable=False)
    return path


def read(runtime_dir: str, session: str) -> dict | None:
    from vermas.runtime.paths import session_record_path

    try:
        with open(session_record_path(runtime_dir, session), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def spec_of(record: dict | None):
    """The :class:`~vermas.runtime.spec.RuntimeSpec` stored in a record (None when absent or invalid)."""
    if not record or not isinstance(record.get("spec"), dict):
        return None
    from vermas.runtime.errors import RuntimeConfigError
    from vermas.runtime.spec import parse_runtime

    table = {k: v for k, v in record["spec"].items() if k not in ("name", "source")}
    if table.get("headless") is None:
        table.pop("headless", None)
    try:
        return parse_runtime(record["spec"].get("name") or record.get("runtime") or "recorded", table,
                             source="session record")
    except RuntimeConfigError:
        return None
