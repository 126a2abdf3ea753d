"""The deacon's settings (``deacon.*``) and where the deacon and boot keep their files.

``<town>/deacon/``: ``deacon.pid``/``.lock``/``.log``/``.want`` (the daemon), ``heartbeat.json``
(written every patrol; boot reads it), ``state.json`` (restart trackers, last patrol, totals).
``<town>/deacon/boot/``: ``boot.pid``/``.lock``/``.log``/``.want`` and ``state.json``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from vermas.errors import DataError
from vermas.fileops import atomic_write_text
from vermas.ledger import timefmt
from vermas.roles.daemonkit import DaemonHome
from vermas.town.config import Config
from vermas.town.layout import Town


@dataclass(frozen=True)
class DeaconSettings:
    """``deacon.patrol_interval`` (60 s) and ``deacon.heartbeat_stale`` (300 s)."""

    patrol_interval: float = 60.0
    heartbeat_stale: float = 300.0

    @classmethod
    def load(cls, town: Town, environ: dict[str, str] | None = None) -> DeaconSettings:
        config = Config(town_settings=town.settings_path, environ=environ)
        values = {}
        for key in ("patrol_interval", "heartbeat_stale"):
            value, source = config.lookup(f"deacon.{key}")
            if float(value) <= 0:  # type: ignore[arg-type]
                raise DataError(f"config deacon.{key} = {value} (from {source}) must be positive",
                                hint=f"vermas config set deacon.{key} {getattr(cls, key)}")
            values[key] = float(value)  # type: ignore[arg-type]
        return cls(**values)

    @property
    def backoff_base(self) -> float:
        """First delay between restarts of one daemon: 30 s, or the patrol interval when shorter."""
        return min(30.0, self.patrol_interval)

    @property
    def boot_interval(self) -> float:
        """How often boot checks the deacon: every patrol interval, at least twice per stale period."""
        return min(self.patrol_interval, self.heartbeat_stale / 2)

    def as_dict(self) -> dict:
        return {"patrol_interval": self.patrol_interval, "heartbeat_stale": self.heartbeat_stale,
                "backoff_base": self.backoff_base, "boot_interval": self.boot_interval}


class DeaconHome:
    def __init__(self, town: Town) -> None:
        self.town = town
        self.dir = town.deacon_dir
        self.heartbeat_path = os.path.join(self.dir, "heartbeat.json")
        self.state_path = os.path.join(self.dir, "state.json")
        self.daemon = DaemonHome(kind="deacon", label="the deacon", directory=self.dir, session="vm-deacon",
                                 actor="deacon")
        self.log_path = self.daemon.log_path


class BootHome:
    def __init__(self, town: Town) -> None:
        self.town = town
        self.dir = os.path.join(town.deacon_dir, "boot")
        self.state_path = os.path.join(self.dir, "state.json")
        self.daemon = DaemonHome(kind="boot", label="boot (the deacon's watchdog)", directory=self.dir,
                                 session="vm-boot", actor="deacon/boot")
        self.log_path = self.daemon.log_path


# ---------------------------------------------------------------------- heartbeat
def write_heartbeat(home: DeaconHome, *, patrols: int, last_patrol_ms: float | None, interval: float) -> None:
    now = time.time()
    doc = {"pid": os.getpid(), "ts": now, "timestamp": timefmt.now_str(), "patrols": patrols,
           "last_patrol_ms": last_patrol_ms, "interval": interval}
    atomic_write_text(home.heartbeat_path, json.dumps(doc) + "\n", durable=False)


def read_heartbeat(home: DeaconHome) -> dict | None:
    try:
        with open(home.heartbeat_path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def heartbeat_age(home: DeaconHome, now: float | None = None) -> float | None:
    doc = read_heartbeat(home)
    if not doc:
        return None
    try:
        return max(0.0, (now or time.time()) - float(doc.get("ts") or 0))
    except (TypeError, ValueError):
        return None


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: str, doc: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc["updated_at"] = timefmt.now_str()
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n", durable=False)
