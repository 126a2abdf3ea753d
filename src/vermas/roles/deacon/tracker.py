"""Restart bookkeeping for supervised daemons: exponential backoff and crash-loop detection.

Policy (Gas Town's ``restart_tracker``, with the first restart immediate):

* restarts of one daemon in the last ``WINDOW`` (15 min) are remembered;
* the first restart happens at once; each further one waits ``base × 2^(n-1)`` after the
  previous restart (``base`` = 30 s, or the patrol interval when shorter), at most
  ``MAX_DELAY`` (10 min);
* ``CRASH_LOOP`` (5) restarts within the window = a crash loop: the supervisor stops
  restarting that daemon and escalates (once). Restarting it by hand (``vermas witness
  start`` …) or ``vermas deacon clear-backoff`` clears the loop; restarts older than the
  window fall out of it by themselves.

An entry: ``{"restarts": [epoch, …], "crash_loop": false, "escalation": id | null,
"last_error": str | null, "last_restart": "…"}``.
"""

from __future__ import annotations

from vermas.ledger import timefmt

WINDOW = 900.0
CRASH_LOOP = 5
MAX_DELAY = 600.0


def new_entry() -> dict:
    return {"restarts": [], "crash_loop": False, "escalation": None, "last_error": None, "last_restart": None}


def prune(entry: dict, now: float) -> list[float]:
    entry["restarts"] = [t for t in entry.get("restarts") or () if now - float(t) < WINDOW]
    return entry["restarts"]


def delay_after(n: int, base: float) -> float:
    """Wait before the restart that follows ``n`` recent restarts."""
    if n <= 0:
        return 0.0
    return min(MAX_DELAY, base * (2 ** (n - 1)))


def decide(entry: dict, now: float, base: float) -> tuple[str, float]:
    """``("restart", 0)``, ``("wait", seconds_left)`` or ``("crash_loop", 0)``."""
    if entry.get("crash_loop"):
        return "crash_loop", 0.0
    recent = prune(entry, now)
    if len(recent) >= CRASH_LOOP:
        return "crash_loop", 0.0
    if recent:
        due = float(recent[-1]) + delay_after(len(recent), base)
        if now < due:
            return "wait", due - now
    return "restart", 0.0


def record(entry: dict, now: float, error: str | None = None) -> None:
    entry.setdefault("restarts", []).append(now)
    entry["last_restart"] = timefmt.now_str()
    entry["last_error"] = error


def clear(entry: dict) -> None:
    entry.update(new_entry())
