"""Every ``vermas`` call from an agent session is a sign of life: touch the session's activity record.

The record is the runtime layer's activity file (``<runtime>/activity/<session>.json``,
:mod:`vermas.runtime.activity`), found through the session's ``$VERMAS_SESSION`` and
``$VERMAS_RUNTIME_DIR``. Only ``ts``/``timestamp`` move and ``last_cli``/``cli_calls`` are
kept; the busy/idle ``state`` the hooks wrote is left alone. Hook commands that write the
record themselves (``mail check``, ``signal``, ``prime --hook``) are skipped, and so are calls
within a second of the record's last write (one write per burst). Never raises (a
heartbeat must not break the command it rides on). Hook path: standard library only.
"""

from __future__ import annotations

import json
import os
import time

# Hook commands that write the activity record themselves (a second write would only cost time).
_SELF_RECORDING = (("mail", "check"), ("signal",), ("prime", "--hook"))
MIN_INTERVAL = 1.0  # seconds: bursts of calls cost one write


def touch(environ: dict, argv: list[str]) -> None:
    if any(tuple(argv[:len(head)]) == head for head in _SELF_RECORDING):
        return
    session = environ.get("VERMAS_SESSION")
    runtime_dir = environ.get("VERMAS_RUNTIME_DIR")
    if not session or not runtime_dir or "/" in session:
        return
    path = os.path.join(runtime_dir, "activity", session + ".json")
    try:
        if time.time() - os.stat(path).st_mtime < MIN_INTERVAL:
            return  # touched (or written by a hook) within the last second: that sign of life stands
    except OSError:
        pass
    try:
        try:
            with open(path, encoding="utf-8") as fh:
                record = json.load(fh)
            if not isinstance(record, dict):
                record = {}
        except (OSError, ValueError):
            record = {}
        now = time.time()
        record.setdefault("session", session)
        record.setdefault("state", "unknown")
        record["ts"] = now
        record["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        record["last_cli"] = " ".join(argv[:2])
        record["cli_calls"] = int(record.get("cli_calls") or 0) + 1
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except (OSError, ValueError, TypeError):
        return
