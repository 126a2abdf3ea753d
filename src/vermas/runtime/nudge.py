"""Nudge modes: how a message reaches an agent without disturbing its work.

- ``wait-idle`` (default): if the agent is idle, type it now (reliable delivery); if it is
  busy, wait up to ``wait`` seconds for it to become idle, then queue it. ``wait`` defaults
  to 0 when the session's hooks are known to run (an activity file exists: the Stop hook
  drains the queue at the end of the current turn) and to 15 s otherwise.
- ``queue``: write it to the session's nudge queue; the ``UserPromptSubmit`` hook (``vermas
  mail check --inject``) or the ``Stop`` hook (``vermas signal stop``) puts it into the
  agent's context as a ``<system-reminder>``, exactly once. Runtimes without hooks get their
  queue typed in by :func:`flush_queue` when idle (the witness calls it on patrol).
- ``immediate``: type it now, busy or not.

A message with a sender is delivered as ``[from <sender>] <message>``.
"""

from __future__ import annotations

import time

from vermas.runtime import activity, nudge_queue, state
from vermas.runtime.errors import AgentExitedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.spec import RuntimeSpec
    from vermas.runtime.tmux import Pane

MODES = ("wait-idle", "queue", "immediate")
HOOKLESS_WAIT = 15.0


def format_message(message: str, sender: str | None) -> str:
    return f"[from {sender}] {message}" if sender else message


def validate_mode(mode: str) -> None:
    if mode not in MODES:
        from vermas.errors import UsageError

        raise UsageError(f"unknown nudge mode {mode!r}", hint="modes: " + ", ".join(MODES))


def enqueue(runtime_dir: str, session: str, message: str, *, sender: str | None, priority: str,
            reason: str) -> dict:
    path = nudge_queue.enqueue(runtime_dir, session, message, sender=sender or "", priority=priority)
    return {"session": session, "status": "queued", "queue_file": path, "reason": reason,
            "pending": nudge_queue.count(runtime_dir, session)}


def wait_idle_then_deliver(pane: Pane, spec: RuntimeSpec, runtime_dir: str, session: str, message: str, *,
                           sender: str | None, priority: str, wait: float | None, deliver) -> dict:
    """The ``wait-idle`` mode; ``deliver(text, only_if)`` types under the session lock (returns its report).

    The idle check runs under the delivery lock on the very screen that will be typed into,
    so two senders can never both see "idle" and type one after the other into a busy agent.
    """
    if wait is None:
        wait = 0.0 if activity.read(runtime_dir, session) else HOOKLESS_WAIT
    deadline = time.monotonic() + wait
    seen: dict = {}

    def only_if_idle(screen: str) -> str | None:
        report = state.detect(pane, spec, runtime_dir, session, screen=screen)
        seen.update(report)
        return None if report["state"] == "idle" else report["state"]

    while True:
        result = deliver(format_message(message, sender), only_if_idle)
        if result.get("status") == "delivered":
            return {"mode": "wait-idle", **result}
        if seen.get("state") == "dead":
            raise AgentExitedError(f"cannot nudge {session}: the agent process exited",
                                   hint=f"see `vermas peek {session}`; restart the agent", evidence=pane.tail(20))
        if time.monotonic() >= deadline:
            return {"mode": "wait-idle", **enqueue(runtime_dir, session, message, sender=sender, priority=priority,
                                                   reason=f"agent {seen.get('state')} ({seen.get('source')})")}
        time.sleep(0.2)


def flush_queue(pane: Pane, spec: RuntimeSpec, runtime_dir: str, session: str, deliver) -> int:
    """Type the pending queue into an idle agent as one ``<system-reminder>`` (hook-less runtimes)."""
    if not nudge_queue.count(runtime_dir, session):
        return 0
    if state.detect(pane, spec, runtime_dir, session)["state"] != "idle":
        return 0
    items = nudge_queue.drain(runtime_dir, session)
    if not items:
        return 0
    try:
        deliver(nudge_queue.format_reminder(items), None)
    except BaseException:
        nudge_queue.release(items)
        raise
    nudge_queue.ack(items)
    return len(items)
