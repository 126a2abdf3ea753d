"""Polecat identities and their state files (persistent identity, ephemeral sessions).

Each polecat has a home ``<rig>/polecats/<name>/`` holding its worktree (``<rig>/`` inside
it) and its state file ``polecat.json``, written atomically under ``.lock``::

    {"name", "rig", "address", "state", "bead", "branch", "base", "base_commit",
     "worktree", "session", "runtime", "formula", "molecule", "incarnation", "spawn_id",
     "created_at", "updated_at", "started_at", "finished", "last", "error"}

States: ``idle`` (no work), ``spawning`` (slot claimed, worktree/session being made),
``working`` (bead hooked, session started), ``done`` is never stored: ``vermas done``
returns the polecat to ``idle`` and records the job under ``last``. ``incarnation``
counts sessions started for this polecat and ``spawn_id`` is unique per session start,
so supervision can tell one incarnation from the next. A polecat occupies a slot exactly
while it has a bead (state ``spawning`` or ``working``).
"""

from __future__ import annotations

import json
import os
import secrets

from vermas.errors import DataError, NotFoundError
from vermas.fileops import FileLock, atomic_write_text
from vermas.ledger import timefmt
from vermas.town.identity import Agent
from vermas.town.layout import RigPaths

STATE_FILE = "polecat.json"
LOCK_FILE = ".lock"
BUSY_STATES = ("spawning", "working")
STATES = ("idle", "spawning", "working")


def state_path(rig: RigPaths, name: str) -> str:
    return os.path.join(rig.polecat_home(name), STATE_FILE)


def names(rig: RigPaths) -> list[str]:
    """Every polecat identity of the rig (directories under ``polecats/`` with a state file)."""
    try:
        entries = sorted(os.listdir(rig.polecats_dir))
    except FileNotFoundError:
        return []
    return [e for e in entries if os.path.isfile(os.path.join(rig.polecats_dir, e, STATE_FILE))]


def load(rig: RigPaths, name: str) -> dict:
    """The state of one polecat; NotFoundError (exit 3) names the rig's polecats."""
    path = state_path(rig, name)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        known = ", ".join(names(rig)) or "none yet"
        raise NotFoundError(f"rig {rig.name} has no polecat {name!r} (polecats: {known})",
                            hint=f"'vermas polecat list {rig.name}' shows them") from None
    except ValueError as exc:
        raise DataError(f"{path}: malformed JSON: {exc}", hint="fix or delete the file") from None
    return data


def try_load(rig: RigPaths, name: str) -> dict | None:
    try:
        return load(rig, name)
    except NotFoundError:
        return None


def all_states(rig: RigPaths) -> list[dict]:
    out = []
    for name in names(rig):
        state = try_load(rig, name)
        if state is not None:
            out.append(state)
    return out


def lock(rig: RigPaths, name: str) -> FileLock:
    """The per-polecat lock (state changes of one polecat are serialised)."""
    return FileLock(os.path.join(rig.polecat_home(name), LOCK_FILE))


def new_state(rig: RigPaths, name: str) -> dict:
    agent = Agent("polecat", rig.name, name)
    now = timefmt.now_str()
    return {
        "name": name, "rig": rig.name, "address": agent.address, "state": "idle", "bead": None,
        "branch": None, "base": None, "base_commit": None, "worktree": rig.polecat_worktree(name),
        "session": agent.session, "runtime": None, "formula": None, "molecule": None,
        "incarnation": 0, "spawn_id": None, "created_at": now, "updated_at": now, "started_at": None,
        "finished": None, "last": None, "error": None,
    }


def save(rig: RigPaths, state: dict) -> dict:
    """Write a polecat's state atomically (creates its home on first save)."""
    state["updated_at"] = timefmt.now_str()
    home = rig.polecat_home(state["name"])
    os.makedirs(home, exist_ok=True)
    # Not fsync'ed: the rename keeps it whole across a killed process, and the durable truth of a
    # job (bead status + assignee) is in the ledger, which the witness reconciles against.
    atomic_write_text(state_path(rig, state["name"]), json.dumps(state, indent=2, sort_keys=False) + "\n",
                      durable=False)
    return state


def update(rig: RigPaths, name: str, **changes: object) -> dict:
    """Load, change and save one polecat's state under its lock."""
    with lock(rig, name):
        state = load(rig, name)
        state.update(changes)
        return save(rig, state)


def new_spawn_id() -> str:
    return secrets.token_hex(4)


def busy(rig: RigPaths) -> list[dict]:
    """Polecats occupying a slot (they have a bead)."""
    return [s for s in all_states(rig) if s.get("state") in BUSY_STATES and s.get("bead")]


def holder_of(rig: RigPaths, bead_id: str) -> dict | None:
    """The polecat whose state says it holds ``bead_id``."""
    for state in all_states(rig):
        if state.get("bead") == bead_id and state.get("state") in BUSY_STATES:
            return state
    return None
