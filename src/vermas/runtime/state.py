"""Busy/idle detection: hooks first (activity files), the pane second, and last activity.

Rules (Gas Town's, with the hook-first order the peers converged on):

- the pane is dead (``remain-on-exit`` shows "Pane is dead") → ``dead``;
- a startup dialog is showing → ``dialog`` (never idle: typing would answer the dialog);
- the hooks say ``busy`` → busy, unless that record is older than ``stale_after`` seconds
  and the pane looks idle on ``polls`` consecutive polls (a Stop hook that never fired);
  a busy marker in the pane always means busy;
- the hooks say ``idle`` → idle when the pane agrees (ready prompt visible, no busy marker;
  for runtimes without a prompt prefix: no busy marker), busy if the pane shows a marker;
- no hook record (or ``unknown``, e.g. after an interrupt) → the pane alone: ready prompt
  visible and no busy marker on ``polls`` consecutive polls ``interval`` apart (runtimes
  without a prompt prefix: no busy marker and an unchanged screen).
"""

from __future__ import annotations

import time

from vermas.runtime import activity, dialogs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.spec import RuntimeSpec
    from vermas.runtime.tmux import Pane

TAIL_LINES = 8
DEAD_MARKER = "Pane is dead"


def _tail(text: str, n: int = TAIL_LINES) -> list[str]:
    rows = [row.replace("\xa0", " ") for row in text.split("\n")]
    rows = [row for row in rows if row.strip()]
    return rows[-n:]


def classify_pane(text: str, spec: RuntimeSpec) -> str:
    """``dead``, ``dialog``, ``busy``, ``idle`` or ``unknown`` from the visible screen alone."""
    rows = _tail(text)
    if rows and rows[-1].startswith(DEAD_MARKER):
        return "dead"
    if spec.dialogs and dialogs.detect(text, spec.dialogs):
        return "dialog"
    low = "\n".join(rows).lower()
    if any(marker.lower() in low for marker in spec.busy_markers):
        return "busy"
    prefix = spec.ready_prompt_prefix.replace("\xa0", " ")
    if prefix:
        stripped = prefix.strip()
        for row in rows:
            line = row.lstrip()
            if line.startswith(prefix) or (stripped and line == stripped):
                return "idle"
        return "unknown"
    return "idle"


def detect(pane: Pane, spec: RuntimeSpec, runtime_dir: str | None, session: str, *, polls: int = 2,
           interval: float = 0.1, stale_after: float = 60.0, screen: str | None = None) -> dict:
    """``{"state", "source", "hook_state", "hook_age"}``; ``state`` is one of dead/dialog/busy/idle/unknown.

    ``screen`` is a capture the caller already has (saves a tmux call on the fast path).
    """
    record = activity.read(runtime_dir, session) if runtime_dir else None
    hook_state = record.get("state") if record else None
    hook_age = time.time() - float(record.get("ts", 0)) if record else None
    report = {"hook_state": hook_state, "hook_age": round(hook_age, 3) if hook_age is not None else None}
    if screen is None:
        # tmux's pane_dead is set when the pty closes; the "Pane is dead" line only once the
        # process is reaped, which tmux sometimes delays: ask tmux, in the same call.
        info, screen = pane.snapshot("pane_dead")
        if info.get("pane_dead"):
            return {"state": "dead", "source": "tmux", **report}
    seen = classify_pane(screen, spec)
    if seen in ("dead", "dialog", "busy"):
        return {"state": seen, "source": "pane", **report}
    if hook_state == "busy" and hook_age is not None and hook_age < stale_after:
        return {"state": "busy", "source": "hook", **report}
    if hook_state == "idle" and seen == "idle":
        return {"state": "idle", "source": "hook+pane", **report}
    # No trustworthy hook record (none, unknown, or a stale busy): the pane on consecutive polls.
    previous = screen
    for _ in range(max(polls, 1) - 1):
        if seen != "idle":
            break
        time.sleep(interval)
        screen = pane.capture()
        seen = classify_pane(screen, spec)
        if seen == "idle" and not spec.ready_prompt_prefix and screen != previous:
            seen = "unknown"  # prefix-less runtimes: a changing screen is not idle
        previous = screen
    source = "pane (hook stale)" if hook_state == "busy" else "pane"
    return {"state": seen, "source": source, **report}


def last_activity(pane: Pane, runtime_dir: str | None, session: str) -> float | None:
    """Epoch seconds of the latest sign of life: a hook event or output in the pane."""
    record = activity.read(runtime_dir, session) if runtime_dir else None
    hook_ts = float(record["ts"]) if record and record.get("ts") else None
    pane_ts = pane.info("window_activity").get("window_activity")
    times = [t for t in (hook_ts, pane_ts) if t]
    return max(times) if times else None
