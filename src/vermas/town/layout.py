"""Where everything lives in a town (Gas Town–compatible layout) and how to find a town.

```
<town>/mayor/town.json          the town marker ({"type": "town", ...})
<town>/mayor/rigs.json          rig registry
<town>/.beads/                  town ledger (prefix hq) + routes.jsonl
<town>/settings/config.json     town settings
<town>/.runtime/                local state: nudge queues, heartbeats, locks, pids
<town>/<rig>/.repo.git          the rig's shared bare repository
<town>/<rig>/.beads/            the rig ledger (its own prefix)
<town>/<rig>/polecats/<name>/<rig>/   polecat worktrees
```
"""

from __future__ import annotations

import json
import os

from vermas.errors import NotFoundError
from vermas.ledger.routes import TOWN_MARKER, find_town_root

__all__ = ["TOWN_MARKER", "RigPaths", "Town", "find_town_root", "resolve_town"]


def resolve_town(explicit: str | None, environ: dict[str, str], cwd: str) -> str:
    """``--town`` > ``$VERMAS_TOWN`` > walk up from ``cwd``; NotFoundError when none."""
    for candidate in (explicit, environ.get("VERMAS_TOWN") or None):
        if candidate:
            root = os.path.abspath(os.path.join(cwd, candidate))
            if not os.path.isfile(os.path.join(root, TOWN_MARKER)):
                raise NotFoundError(f"{root} is not a VerMAS town (no {TOWN_MARKER})",
                                    hint="create one with 'vermas install <path>'")
            return root
    root = find_town_root(cwd)
    if root is None:
        raise NotFoundError(f"no town found at or above {cwd}",
                            hint="run inside a town, pass --town PATH, set VERMAS_TOWN, or 'vermas install <path>'")
    return root


class Town:
    """Paths of one town. Cheap to construct; touches no files."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.mayor_dir = os.path.join(self.root, "mayor")
        self.deacon_dir = os.path.join(self.root, "deacon")
        self.beads_dir = os.path.join(self.root, ".beads")
        self.runtime_dir = os.path.join(self.root, ".runtime")
        self.settings_path = os.path.join(self.root, "settings", "config.json")
        self.town_json = os.path.join(self.root, TOWN_MARKER)
        self.rigs_json = os.path.join(self.mayor_dir, "rigs.json")
        self.routes_path = os.path.join(self.beads_dir, "routes.jsonl")
        self.locks_dir = os.path.join(self.runtime_dir, "locks")

    @property
    def name(self) -> str:
        try:
            with open(self.town_json, encoding="utf-8") as fh:
                return str(json.load(fh).get("name") or os.path.basename(self.root))
        except (OSError, ValueError):
            return os.path.basename(self.root)

    def rig(self, name: str) -> RigPaths:
        return RigPaths(self, name)

    def lock(self, name: str) -> str:
        """Path of a named lock file under ``.runtime/locks``."""
        return os.path.join(self.locks_dir, name + ".lock")


class RigPaths:
    """Paths of one rig inside a town."""

    def __init__(self, town: Town, name: str) -> None:
        self.town = town
        self.name = name
        self.root = os.path.join(town.root, name)
        self.repo = os.path.join(self.root, ".repo.git")
        self.beads_dir = os.path.join(self.root, ".beads")
        self.config_json = os.path.join(self.root, "config.json")
        self.settings_path = os.path.join(self.root, "settings", "config.json")
        self.polecats_dir = os.path.join(self.root, "polecats")
        self.crew_dir = os.path.join(self.root, "crew")
        self.witness_dir = os.path.join(self.root, "witness")
        self.refinery_dir = os.path.join(self.root, "refinery")
        self.refinery_worktree = os.path.join(self.refinery_dir, "rig")

    def polecat_home(self, polecat: str) -> str:
        return os.path.join(self.polecats_dir, polecat)

    def polecat_worktree(self, polecat: str) -> str:
        return os.path.join(self.polecats_dir, polecat, self.name)

    def crew_home(self, crew: str) -> str:
        return os.path.join(self.crew_dir, crew)
