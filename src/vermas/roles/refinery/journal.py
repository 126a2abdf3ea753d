"""The refinery's journal and status file, ``<rig>/refinery/state.json`` (replaced atomically).

::

    {"version": 1, "rig": "app", "pid": 4242, "updated_at": "…",
     "attempt": null | {"id", "phase", "target", "base", "tip", "mrs": [ids], "started_at",
                        "stage", "gate_pgid", "gate_marker", "plan": {…}, "done": [step, …]},
     "last_result": null | {"at", "attempt", "merged": [ids], "rework": [ids], "parked": [ids],
                            "released": [ids], "tip", "error", …},
     "totals": {"rounds", "merged", "rework", "parked", "stale_closed", "errors"}}

Phases of an attempt: ``building`` → ``gating`` → ``moving`` → ``outcomes``. Only the write
that enters ``moving`` (the plan, just before the target's compare-and-swap) is fsynced: it
is the one a restart needs to tell whether the target moved. After a SIGKILL the page cache
keeps the other writes; after a power cut they are rebuilt from the ledger and git.
"""

from __future__ import annotations

import json
import os
import secrets

from vermas.errors import DataError
from vermas.fileops import atomic_write_text
from vermas.ledger import timefmt

PHASES = ("building", "gating", "moving", "outcomes")
TOTAL_KEYS = ("rounds", "merged", "rework", "parked", "stale_closed", "errors")


class Journal:
    """In-memory copy of ``state.json``; every change is written through."""

    def __init__(self, path: str, rig: str) -> None:
        self.path = path
        self.rig = rig
        self.doc = self._read()

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            doc = {}
        except ValueError as exc:
            raise DataError(f"{self.path}: malformed refinery journal: {exc}",
                            hint="stop the refinery, check the target branch, then delete the file") from None
        if not isinstance(doc, dict):
            raise DataError(f"{self.path}: expected a JSON object")
        doc.setdefault("version", 1)
        doc.setdefault("rig", self.rig)
        doc.setdefault("attempt", None)
        doc.setdefault("last_result", None)
        totals = doc.setdefault("totals", {})
        for key in TOTAL_KEYS:
            totals.setdefault(key, 0)
        return doc

    def reload(self) -> dict:
        self.doc = self._read()
        return self.doc

    def write(self, *, durable: bool = False) -> None:
        self.doc["updated_at"] = timefmt.now_str()
        self.doc["pid"] = os.getpid()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.doc, indent=2) + "\n", durable=durable)

    # ------------------------------------------------------------------ attempt
    @property
    def attempt(self) -> dict | None:
        return self.doc.get("attempt")

    def begin(self, target: str, mr_ids: list[str]) -> dict:
        attempt = {"id": "att-" + secrets.token_hex(4), "phase": "building", "target": target, "base": None,
                   "tip": None, "mrs": list(mr_ids), "started_at": timefmt.now_str(), "stage": None,
                   "gate_pgid": 0, "gate_marker": "", "plan": None, "done": []}
        self.doc["attempt"] = attempt
        self.write()
        return attempt

    def update(self, *, durable: bool = False, write: bool = True, **fields: object) -> None:
        """Change fields of the current attempt and write the journal (``write=False``: in memory only)."""
        attempt = self.doc.get("attempt")
        if attempt is None:
            return
        attempt.update(fields)
        if write:
            self.write(durable=durable)

    def step_done(self, step: str) -> None:
        """Mark an outcome step done (in memory: every step is idempotent, so it is written with the
        next journal write only; a replay after a crash may redo a step, which then changes nothing)."""
        attempt = self.doc.get("attempt")
        if attempt is not None and step not in attempt["done"]:
            attempt["done"].append(step)

    def is_done(self, step: str) -> bool:
        attempt = self.doc.get("attempt")
        return bool(attempt) and step in attempt.get("done", [])

    def finish(self, result: dict, **counts: int) -> None:
        """Clear the attempt, record ``result`` as the last result and add ``counts`` to the totals."""
        self.doc["attempt"] = None
        result = dict(result)
        result.setdefault("at", timefmt.now_str())
        self.doc["last_result"] = result
        self.doc.pop("last_error", None)  # a finished round supersedes an earlier failing pass
        totals = self.doc["totals"]
        for key, value in counts.items():
            totals[key] = int(totals.get(key, 0)) + int(value)
        self.write()

    def count(self, **counts: int) -> None:
        totals = self.doc["totals"]
        for key, value in counts.items():
            totals[key] = int(totals.get(key, 0)) + int(value)
        self.write()


def read_state(path: str) -> dict | None:
    """``state.json`` for status displays (None when absent or unreadable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
