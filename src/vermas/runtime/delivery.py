"""Reliable, literal input delivery into an agent's pane.

One delivery, step by step:

1. **serialise**: take the session's cross-process lock (``locks/delivery-<session>.lock``),
   so two senders never interleave keystrokes in one pane;
2. **sanitise**: drop control characters (ESC, C-c, BEL, DEL…), tabs become spaces,
   ``\\r\\n``/``\\r`` become ``\\n``; newlines are kept;
3. **check the pane**: a dead pane is an :class:`AgentExitedError`; copy mode is cancelled;
4. **type literally**: single-line text up to 1 KB with ``send-keys -l`` (512-byte chunks,
   key names and leading dashes typed as text); multi-line or longer text with
   ``load-buffer`` + ``paste-buffer -p`` (bracketed paste: newlines do not submit);
   runtimes without bracketed paste get newlines turned into spaces (reported);
5. **settle**: wait until the text is visible (its tail shows in the pane, or the screen
   changed and stopped changing), then the runtime's ``settle_ms`` paste debounce;
6. **Enter as a separate key press**, then **confirm** that the input was accepted: the
   ``UserPromptSubmit`` hook bumped the session's prompt counter, or the pane changed;
   up to 3 retries of Enter (confirmation windows 0.5 s, 1 s, 2 s, 2 s);
7. never landed: the half-typed input is cleared (the runtime's ``clear_input_keys``) and
   :class:`DeliveryError` says so. Nothing is ever passed through a shell.
"""

from __future__ import annotations

import os
import time

from vermas.runtime import activity
from vermas.runtime.errors import AgentExitedError, DeliveryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.spec import RuntimeSpec
    from vermas.runtime.tmux import Pane

CONFIRM_TIMEOUTS = (0.5, 1.0, 2.0, 2.0)  # the first Enter, then 3 retries
PASTE_THRESHOLD = 1024
LOCK_TIMEOUT = 30.0
TAIL_CHARS = 16


def sanitize(text: str) -> str:
    """Text safe to type: ``\\r\\n``/``\\r`` → ``\\n``, tab → space, other control characters dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or not (ord(ch) < 32 or 127 <= ord(ch) < 160))


def lock_path(runtime_dir: str | None, session: str, socket: str | None = None) -> str:
    if runtime_dir:
        from vermas.runtime.paths import delivery_lock_path

        return delivery_lock_path(runtime_dir, session)
    import tempfile

    base = os.path.join(tempfile.gettempdir(), f"vermas-{os.getuid()}", "locks")
    return os.path.join(base, f"delivery-{socket or 'default'}-{session}.lock")


def deliver(pane: Pane, text: str, *, spec: RuntimeSpec, session: str, runtime_dir: str | None = None,
            lock_timeout: float = LOCK_TIMEOUT, confirm_timeouts: tuple[float, ...] = CONFIRM_TIMEOUTS,
            settle_timeout: float | None = None, only_if=None) -> dict:
    """Type ``text`` into ``pane`` and submit it; returns a report, raises a typed error when it never lands.

    Report: ``{"session", "status": "delivered", "method": "keys|paste", "attempts": <Enter
    presses>, "confirmed_by": "hook|pane", "bytes", "transformed": bool, "elapsed_ms",
    "lock_wait_ms"}``. ``only_if(screen) -> str | None`` is checked under the lock, on the
    screen about to be typed into: a non-None answer (e.g. ``"busy"``) cancels the delivery
    and is returned as ``{"status": <answer>, …}`` (how ``wait-idle`` stays atomic).
    """
    from vermas.errors import UsageError
    from vermas.fileops import FileLock

    started = time.perf_counter()
    clean = sanitize(text)
    if not clean.strip():
        raise UsageError("nothing to deliver: the message is empty once control characters are removed")
    transformed = clean != text
    if "\n" in clean and spec.paste != "bracketed":
        clean = " ".join(part for part in clean.split("\n"))
        transformed = True
    with FileLock(lock_path(runtime_dir, session, pane.server.socket), timeout=lock_timeout):
        locked = time.perf_counter()
        report = _deliver_locked(pane, clean, spec=spec, session=session, runtime_dir=runtime_dir,
                                 confirm_timeouts=confirm_timeouts, settle_timeout=settle_timeout, only_if=only_if)
    report.update(transformed=transformed, lock_wait_ms=round((locked - started) * 1000, 2),
                  elapsed_ms=round((time.perf_counter() - started) * 1000, 2))
    return report


VIEW_FIELDS = ("cursor_x", "cursor_y", "pane_dead")


def _view(pane: Pane) -> tuple[str, bool]:
    """What the agent shows: the screen plus the cursor position (a TUI may only move the cursor)."""
    info, screen = pane.snapshot(*VIEW_FIELDS)
    return f"{screen}\x00@{info.get('cursor_x')},{info.get('cursor_y')}", bool(info.get("pane_dead"))


def _ensure_typable(pane: Pane, session: str) -> str:
    """The view (screen + cursor), once the pane is known to be alive and out of copy mode."""
    info, screen = pane.snapshot("pane_dead", "pane_dead_status", "pane_in_mode", "cursor_x", "cursor_y")
    if info.get("pane_dead"):
        status = info.get("pane_dead_status")
        if status is None:
            status = pane.dead_status()
        raise AgentExitedError(f"cannot deliver to {session}: the agent process exited (status {status})",
                               hint=f"see its last output with `vermas peek {session}`; restart the agent",
                               evidence=pane.tail(20), exit_status=status)
    if info.get("pane_in_mode"):
        pane.cancel_mode()
        return _view(pane)[0]
    return f"{screen}\x00@{info.get('cursor_x')},{info.get('cursor_y')}"


def _deliver_locked(pane: Pane, clean: str, *, spec: RuntimeSpec, session: str, runtime_dir: str | None,
                    confirm_timeouts: tuple[float, ...], settle_timeout: float | None, only_if) -> dict:
    before = _ensure_typable(pane, session)
    if only_if is not None:
        refusal = only_if(before.rsplit("\x00@", 1)[0])
        if refusal:
            return {"session": session, "status": refusal, "attempts": 0}
    size = len(clean.encode("utf-8"))
    if spec.paste == "bracketed" and ("\n" in clean or size > PASTE_THRESHOLD):
        pane.paste(clean, bracketed=True, buffer=f"vm-{session}-{os.getpid()}-{os.urandom(3).hex()}")
        method = "paste"
    else:
        pane.send_literal(clean)
        method = "keys"
    if settle_timeout is None:
        settle_timeout = min(0.5 + size / 2000.0, 5.0)
    snapshot = _settle(pane, clean, before, settle_timeout)
    if spec.settle_ms:
        time.sleep(spec.settle_ms / 1000.0)
        snapshot = _view(pane)[0]
    prompts0 = activity.prompt_count(runtime_dir, session) if runtime_dir else 0
    attempts = 0
    for window in confirm_timeouts:
        attempts += 1
        if attempts > 1:
            _ensure_typable(pane, session)
        pane.send_keys("Enter")
        confirmed = _confirm(pane, snapshot, window, runtime_dir, session, prompts0)
        if confirmed:
            return {"session": session, "status": "delivered", "method": method, "attempts": attempts,
                    "confirmed_by": confirmed, "bytes": size}
        snapshot = _view(pane)[0]
    cleared = False
    if spec.clear_input_keys:
        try:
            pane.send_keys(*spec.clear_input_keys)
            cleared = True
        except Exception:  # the report below is what matters; a failed clear is mentioned in it
            cleared = False
    raise DeliveryError(
        f"message typed into {session} was never accepted: {attempts} Enter presses, no sign of submission"
        + ("; the typed input was cleared" if cleared else "; the typed input may still be in the input box"),
        hint=f"look at the agent with `vermas peek {session}` (a dialog or menu may be open); "
             "retry, or queue the message with --mode queue",
        session=session, attempts=attempts, cleared=cleared)


def _tail_of(text: str) -> str:
    last = text.rstrip().rsplit("\n", 1)[-1].rstrip()
    return last[-TAIL_CHARS:]


def _settle(pane: Pane, clean: str, before: str, timeout: float) -> str:
    """Wait until the typed text is visible; return the screen to compare against after Enter.

    Visible means its tail shows in the pane; failing that (a UI that abbreviates pastes),
    the screen changed and then stayed the same for at least 20 ms.
    """
    tail = _tail_of(clean)
    deadline = time.monotonic() + timeout
    delay = 0.001
    previous, stable_since = None, 0.0
    while True:
        screen = _view(pane)[0]
        now = time.monotonic()
        if screen != before:
            if tail and tail in screen:
                return screen
            if screen == previous:
                if now - stable_since >= 0.02:
                    return screen
            else:
                previous, stable_since = screen, now
        if now >= deadline:
            return screen
        time.sleep(delay)
        delay = min(delay * 2, 0.025)


def _confirm(pane: Pane, snapshot: str, window: float, runtime_dir: str | None, session: str,
             prompts0: int) -> str | None:
    deadline = time.monotonic() + window
    delay = 0.001
    while True:
        if runtime_dir and activity.prompt_count(runtime_dir, session) > prompts0:
            return "hook"
        view, dead = _view(pane)
        if view != snapshot:
            return "pane"
        if dead:
            return None  # no reaction, then gone: the next attempt reports the exit (AgentExitedError)
        if time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
