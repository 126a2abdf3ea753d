"""What the witness remembers across patrols and across its own death: ``<rig>/witness/state.json``.

::

    {"version": 1, "rig": "app", "updated_at": "…",
     "polecats": {"nux": {"spawn_id": "9c1e04ab", "nudges": 1, "nudged_at": 1795217557.1,
                          "cleanup_skipped": {"head": "…", "reason": "…"} | null}},
     "beads": {"ap-x7k": {"respawns": 2, "last_spawn_id": "…", "blocked": false,
                          "history": [{"at": "…", "action": "restart", "reason": "…", "spawn_id": "…"}]}},
     "last_patrol": {"at", "duration_ms", "polecats", "actions": [...], "errors": [...]},
     "totals": {"patrols": 0, "nudged": 0, "restarted": 0, "respawned": 0, "reworked": 0, "reaped": 0,
                "cleaned": 0, "spawn_blocked": 0, "merge_ready": 0, "stale_messages": 0, "drained": 0,
                "flushed": 0, "errors": 0}}

Respawn counts live here (not in memory) so a witness that is killed and restarted keeps
counting: a crash-looping polecat still ends in ``SPAWN_BLOCKED``. Writes are atomic.
"""

from __future__ import annotations

import json

from vermas.fileops import atomic_write_text
from vermas.ledger import timefmt

TOTALS = ("patrols", "nudged", "restarted", "respawned", "reworked", "reaped", "cleaned", "spawn_blocked",
          "merge_ready", "stale_messages", "drained", "flushed", "errors")
HISTORY_KEEP = 20
BEADS_KEEP = 500


class Memory:
    def __init__(self, path: str, rig: str) -> None:
        self.path = path
        self.doc = read(path) or {}
        self.doc.setdefault("version", 1)
        self.doc["rig"] = rig
        self.doc.setdefault("polecats", {})
        self.doc.setdefault("beads", {})
        totals = self.doc.setdefault("totals", {})
        for key in TOTALS:
            totals.setdefault(key, 0)

    # ------------------------------------------------------------------ polecats
    def polecat(self, name: str, spawn_id: str | None) -> dict:
        """Per-incarnation memory of a polecat (reset when its spawn id changes)."""
        entry = self.doc["polecats"].get(name)
        if entry is None or entry.get("spawn_id") != spawn_id:
            keep = (entry or {}).get("cleanup_skipped")
            entry = {"spawn_id": spawn_id, "nudges": 0, "nudged_at": None, "cleanup_skipped": keep}
            self.doc["polecats"][name] = entry
        return entry

    # ------------------------------------------------------------------ beads
    def bead(self, bead_id: str) -> dict:
        return self.doc["beads"].setdefault(bead_id, {"respawns": 0, "last_spawn_id": None, "blocked": False,
                                                      "history": []})

    def peek_bead(self, bead_id: str) -> dict:
        return self.doc["beads"].get(bead_id) or {"respawns": 0, "last_spawn_id": None, "blocked": False,
                                                  "history": []}

    def record_spawn(self, bead_id: str, action: str, reason: str, spawn_id: str | None) -> dict:
        entry = self.bead(bead_id)
        entry["respawns"] = int(entry.get("respawns") or 0) + 1
        entry["last_spawn_id"] = spawn_id
        event = {"at": timefmt.now_str(), "action": action, "reason": reason, "spawn_id": spawn_id}
        entry["history"] = [*(entry.get("history") or [])[-(HISTORY_KEEP - 1):], event]
        return entry

    def forget_bead(self, bead_id: str) -> None:
        self.doc["beads"].pop(bead_id, None)

    # ------------------------------------------------------------------ totals
    def count(self, key: str, n: int = 1) -> None:
        self.doc["totals"][key] = int(self.doc["totals"].get(key, 0)) + n

    def save(self) -> None:
        beads = self.doc["beads"]
        if len(beads) > BEADS_KEEP:  # beads that closed without a cleanup (e.g. a reused identity) age out
            def last_seen(item: tuple[str, dict]) -> str:
                history = item[1].get("history") or [{}]
                return str(history[-1].get("at") or "")

            self.doc["beads"] = dict(sorted(beads.items(), key=last_seen)[-BEADS_KEEP:])
        self.doc["updated_at"] = timefmt.now_str()
        atomic_write_text(self.path, json.dumps(self.doc, indent=1, sort_keys=False) + "\n", durable=False)


def read(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
