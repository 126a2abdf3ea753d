"""Keep one supervised daemon running: restart it with backoff, stop and escalate on a crash loop.

Shared by the deacon (for witnesses, refineries and boot) and boot (for the deacon).
"""

from __future__ import annotations

import time

from vermas.errors import VermasError
from vermas.roles import daemonkit
from vermas.roles.deacon import tracker
from vermas.roles.deacon.targets import Target
from vermas.town import work

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def supervise(target: Target, entry: dict, *, base: float, town_root: str, actor: str,
              log: Callable[[str], None], now: float | None = None, patrol: int | None = None) -> dict | None:
    """Look at ``target`` once; returns what was done (None when nothing needed doing).

    ``patrol`` (the supervisor's patrol number) is recorded in the events, so "restarted
    within N patrols" can be checked from the event log.
    """
    import os

    now = time.time() if now is None else now
    pid = daemonkit.running_pid(target.home)
    beads_dir = os.path.join(town_root, ".beads")
    if pid is not None:
        if entry.get("crash_loop"):  # someone started it by hand: that clears the loop
            tracker.clear(entry)
            log(f"{target.key} runs again (pid {pid}): crash loop cleared")
            return {"target": target.key, "action": "cleared", "pid": pid}
        return None
    if not daemonkit.is_wanted(target.home):
        return None
    verdict, wait = tracker.decide(entry, now, base)
    if verdict == "wait":
        return {"target": target.key, "action": "backoff", "wait_s": round(wait, 1),
                "restarts": len(entry.get("restarts") or ())}
    if verdict == "crash_loop":
        if entry.get("crash_loop"):
            return None  # already escalated; waiting for a human
        entry["crash_loop"] = True
        restarts = len(entry.get("restarts") or ())
        summary = (f"{target.label} is crash-looping: {restarts} restarts in {tracker.WINDOW / 60:.0f} minutes; "
                   f"{actor} stopped restarting it")
        evidence = daemonkit.tail_file(target.home.log_path, 15)
        body = (f"{summary}.\nLast error: {entry.get('last_error') or 'none recorded'}\n"
                f"Log ({target.home.log_path}), last lines:\n{evidence}\n\n"
                f"Fix the cause, then start it again (its 'start' command, or 'vermas up'); "
                f"'vermas deacon clear-backoff {target.key}' lets the deacon try again.")
        try:
            from vermas.town import escalations

            bead = escalations.escalate(town_root, actor, summary, severity="high", body=body, source=actor)
            entry["escalation"] = bead["id"]
        except VermasError as exc:
            log(f"could not escalate the crash loop of {target.key}: {exc.message}")
        log(summary)
        work.emit(beads_dir, f"{_event_prefix(actor)}.crash_loop", actor, {
            "target": target.key, "restarts": restarts, "escalation": entry.get("escalation"), "patrol": patrol})
        return {"target": target.key, "action": "crash_loop", "restarts": restarts,
                "escalation": entry.get("escalation")}
    restarts_before = len(entry.get("restarts") or ())
    try:
        result = target.start()
    except VermasError as exc:
        tracker.record(entry, now, exc.message)
        log(f"restart of {target.key} failed: {exc.message}")
        work.emit(beads_dir, f"{_event_prefix(actor)}.restart_failed", actor, {
            "target": target.key, "error": exc.message[-500:], "attempt": restarts_before + 1, "patrol": patrol})
        return {"target": target.key, "action": "restart_failed", "error": exc.message,
                "attempt": restarts_before + 1}
    if not result.get("started"):  # it came back by itself meanwhile (a racing 'start'): not a restart
        return {"target": target.key, "action": "running", "pid": result.get("pid")}
    tracker.record(entry, now)
    log(f"restarted {target.key} (pid {result.get('pid')}, restart {restarts_before + 1} in the window)")
    work.emit(beads_dir, f"{_event_prefix(actor)}.restarted", actor, {
        "target": target.key, "pid": result.get("pid"), "session": result.get("session"),
        "attempt": restarts_before + 1, "patrol": patrol})
    return {"target": target.key, "action": "restarted", "pid": result.get("pid"), "attempt": restarts_before + 1}


def _event_prefix(actor: str) -> str:
    return "boot" if actor.endswith("boot") else "deacon"
