"""Every ``vermas`` call from an agent session is a sign of life: touch the session's activity record.

The record is the runtime layer's activity file, found through ``$VERMAS_SESSION`` and
``$VERMAS_RUNTIME_DIR`` and updated by :func:`vermas.runtime.activity.touch` (the busy/idle
``state`` the hooks wrote is left alone). Hook commands that write the record themselves
(``mail check``, ``signal``, ``prime --hook``) are skipped, and so are calls within a second
of the last write. Never raises: a heartbeat must not break the command it rides on.
Hook path: standard library only.
"""

from __future__ import annotations

# Hook commands that write the activity record themselves (a second write would only cost time).
_SELF_RECORDING = (("mail", "check"), ("signal",), ("prime", "--hook"))
MIN_INTERVAL = 1.0  # seconds: bursts of calls cost one write


def touch(environ: dict, argv: list[str]) -> None:
    if any(tuple(argv[:len(head)]) == head for head in _SELF_RECORDING):
        return
    session = environ.get("VERMAS_SESSION")
    runtime_dir = environ.get("VERMAS_RUNTIME_DIR")
    if not session or not runtime_dir or "/" in session:
        return
    from vermas.runtime import activity

    try:
        activity.touch(runtime_dir, session, " ".join(argv[:2]), min_interval=MIN_INTERVAL)
    except (OSError, ValueError, TypeError):
        return  # a heartbeat must never break the command it rides on
