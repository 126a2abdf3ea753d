"""The witness's settings (``witness.*``) and where it keeps its files (``<rig>/witness/``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from vermas.errors import DataError
from vermas.town.config import Config
from vermas.town.layout import Town

SPAWN_GRACE_MIN = 60.0   # a polecat still 'spawning' this long after its claim is considered stuck
MAX_NUDGES = 3           # nudges per incarnation without progress before the polecat counts as stuck


@dataclass(frozen=True)
class WitnessSettings:
    """``witness.patrol_interval``, ``witness.idle_after``, ``witness.stuck_after``, ``witness.max_respawns``."""

    patrol_interval: float = 30.0
    idle_after: float = 300.0
    stuck_after: float = 900.0
    max_respawns: int = 3

    @property
    def spawn_grace(self) -> float:
        """How long a launch may take before a polecat stuck in ``spawning`` is handled."""
        return max(SPAWN_GRACE_MIN, self.stuck_after)

    @classmethod
    def load(cls, town: Town, rig: str, environ: dict[str, str] | None = None) -> WitnessSettings:
        config = Config(town_settings=town.settings_path, rig_settings=town.rig(rig).settings_path, environ=environ)
        values = {}
        for key in ("patrol_interval", "idle_after", "stuck_after"):
            value, source = config.lookup(f"witness.{key}")
            if float(value) <= 0:  # type: ignore[arg-type]
                raise DataError(f"config witness.{key} = {value} (from {source}) must be positive",
                                hint=f"vermas config set --rig {rig} witness.{key} {getattr(cls, key)}")
            values[key] = float(value)  # type: ignore[arg-type]
        respawns, source = config.lookup("witness.max_respawns")
        if int(respawns) < 0:  # type: ignore[call-overload]
            raise DataError(f"config witness.max_respawns = {respawns} (from {source}) must be 0 or more",
                            hint=f"vermas config set --rig {rig} witness.max_respawns 3")
        return cls(max_respawns=int(respawns), **values)  # type: ignore[call-overload]

    def as_dict(self) -> dict:
        return {"patrol_interval": self.patrol_interval, "idle_after": self.idle_after,
                "stuck_after": self.stuck_after, "max_respawns": self.max_respawns,
                "spawn_grace": self.spawn_grace, "max_nudges": MAX_NUDGES}


class WitnessHome:
    """Paths of one rig's witness: ``<rig>/witness/{state.json, witness.pid, .lock, .log, .want}``."""

    def __init__(self, town: Town, rig: str) -> None:
        from vermas.roles.daemonkit import DaemonHome
        from vermas.runtime.naming import session_for_address

        self.town = town
        self.rig_name = rig
        self.rig = town.rig(rig)
        self.dir = self.rig.witness_dir
        self.state_path = os.path.join(self.dir, "state.json")
        self.actor = f"{rig}/witness"
        self.daemon = DaemonHome(kind="witness", label=f"the witness of rig {rig}", directory=self.dir,
                                 session=session_for_address(self.actor), actor=self.actor, rig=rig)
        self.log_path = self.daemon.log_path
