"""Output shared by the daemon commands (refinery, witness, deacon, boot): start/stop/status lines."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.env import Environment


def report_start(env: Environment, label: str, result: dict, *, json: bool) -> int:
    """``<label>: started|already running (pid, session)``, or the JSON result."""
    if json:
        env.print_json(result)
    else:
        word = "already running" if result.get("already_running") else "started"
        env.write(f"{label}: {word} (pid {result['pid']}, session {result['session']})")
    return 0


def report_stop(env: Environment, label: str, result: dict, *, json: bool) -> int:
    """``<label>: stopped|killed after the grace period|not running``, or the JSON result."""
    if json:
        env.print_json(result)
    elif not result["was_running"]:
        env.write(f"{label}: not running" + (" (removed its dead session)" if result.get("session_killed") else ""))
    else:
        how = "killed after the grace period" if result.get("forced") else "stopped"
        env.write(f"{label}: {how} (pid {result['pid']})")
    return 0


def running_line(label: str, doc: dict, *, when_stopped: str = "") -> str:
    """The first line of a daemon's status: running (pid, session, since) or not running (why)."""
    if doc["running"]:
        return (f"{label}: running, pid {doc['pid']}, session {doc['session']}"
                + ("" if doc.get("session_exists", True) else " (no tmux session: run in the foreground)")
                + (f", up since {doc['started_at']}" if doc.get("started_at") else ""))
    return f"{label}: not running" + (f" ({when_stopped})" if when_stopped else "")
