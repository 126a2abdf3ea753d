"""Nudge modes: how a message reaches an agent without disturbing its work.

- ``wait-idle`` (default): if the agent is idle, type it now (reliable delivery). If it is
  busy, queue it at once (so a Stop hook ending the current turn picks it up) and keep
  watching for ``wait`` seconds: drained by a hook → done; the agent turned idle with the
  message still queued (it finished its turn just before the message was queued) → claim
  it back and type it. Past ``wait`` it stays queued for the next turn boundary. ``wait``
  defaults to 3 s when the session's hooks are known to run (an activity file exists) and
  15 s otherwise (hook-less runtimes need :func:`flush_queue` after that).
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
HOOKED_WAIT = 3.0


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
    import os

    if wait is None:
        wait = HOOKED_WAIT if activity.read(runtime_dir, session) else HOOKLESS_WAIT
    deadline = time.monotonic() + wait
    seen: dict = {}
    text = format_message(message, sender)

    def only_if_idle(screen: str) -> str | None:
        report = state.detect(pane, spec, runtime_dir, session, screen=screen)
        seen.update(report)
        return None if report["state"] == "idle" else report["state"]

    def dead() -> AgentExitedError:
        return AgentExitedError(f"cannot nudge {session}: the agent process exited",
                                hint=f"see `vermas peek {session}`; restart the agent", evidence=pane.tail(20))

    result = deliver(text, only_if_idle)
    if result.get("status") == "delivered":
        return {"mode": "wait-idle", **result}
    if seen.get("state") == "dead":
        raise dead()
    queued = enqueue(runtime_dir, session, message, sender=sender, priority=priority,
                     reason=f"agent {seen.get('state')} ({seen.get('source')})")
    name = os.path.basename(queued["queue_file"])
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if not os.path.exists(queued["queue_file"]):
            return {"mode": "wait-idle", **queued, "status": "delivered", "delivered_by": "hook",
                    "pending": nudge_queue.count(runtime_dir, session)}
        if state.detect(pane, spec, runtime_dir, session)["state"] != "idle":
            continue
        item = nudge_queue.claim(runtime_dir, session, name)
        if item is None:  # a hook took it between the two checks
            continue
        try:
            result = deliver(text, only_if_idle)
        except BaseException:
            nudge_queue.release([item])
            raise
        if result.get("status") == "delivered":
            nudge_queue.ack([item])
            return {"mode": "wait-idle", **result, "delivered_by": "typing (after queueing)"}
        nudge_queue.release([item])
        if seen.get("state") == "dead":
            raise dead()
    return {"mode": "wait-idle", **queued, "pending": nudge_queue.count(runtime_dir, session)}


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
