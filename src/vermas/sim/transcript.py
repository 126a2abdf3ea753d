"""The simulated agent's transcript: one JSON object per line, appended as things happen.

Path: ``--transcript``, else ``$VERMAS_SIM_TRANSCRIPT``, else ``$VERMAS_RUNTIME_DIR/sim/<session>.jsonl``
when both ``$VERMAS_RUNTIME_DIR`` and ``$VERMAS_SESSION`` are set, else none. Events:
``start``, ``dialog``, ``context`` (hook output added to context, with ``source``), ``prompt``
(exact submitted text), ``blocked_prompt``, ``tool`` (command, exit, blocked, reason), ``work``,
``done``, ``stop``, ``fault``, ``interrupt``, ``exit``. Every line has ``t`` (epoch seconds).
"""

from __future__ import annotations

import json
import os
import time


def default_path(environ: dict) -> str | None:
    explicit = environ.get("VERMAS_SIM_TRANSCRIPT")
    if explicit:
        return explicit
    runtime_dir, session = environ.get("VERMAS_RUNTIME_DIR"), environ.get("VERMAS_SESSION")
    if runtime_dir and session:
        return os.path.join(runtime_dir, "sim", session + ".jsonl")
    return None


class Transcript:
    def __init__(self, path: str | None) -> None:
        self.path = path
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def event(self, name: str, /, **fields: object) -> None:
        if not self.path:
            return
        line = json.dumps({"t": round(time.time(), 6), "event": name, **fields}, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


def read(path: str) -> list[dict]:
    """All complete events of a transcript (a torn last line is skipped)."""
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.endswith("\n"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        continue
    except FileNotFoundError:
        return []
    return out
