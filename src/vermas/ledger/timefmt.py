"""Timestamps the way Go's ``time.Time`` marshals them (RFC 3339, nanoseconds, local offset).

bd keeps the writer's local UTC offset and trims trailing zeros of the fraction. We keep
timestamps as the original strings (Python's datetime truncates to microseconds) and turn
them into epoch seconds only for comparisons.
"""

from __future__ import annotations

import time


def format_ns(epoch_ns: int, *, utc: bool = False) -> str:
    """RFC 3339 with up to 9 fractional digits (zeros trimmed) and the local offset or ``Z``."""
    secs, frac = divmod(epoch_ns, 1_000_000_000)
    tm = time.gmtime(secs) if utc else time.localtime(secs)
    offset = 0 if utc else tm.tm_gmtoff
    text = time.strftime("%Y-%m-%dT%H:%M:%S", tm)
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    if offset == 0:
        return text + "Z"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def now() -> tuple[str, int]:
    """The current time as ``(rfc3339_string, unix_nanoseconds)``."""
    ns = time.time_ns()
    return format_ns(ns), ns


def now_str() -> str:
    return format_ns(time.time_ns())


def parse_epoch(text: str | None) -> float | None:
    """Seconds since the epoch for an RFC 3339 string, or None when absent/unparseable."""
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``90s``, ``5m``, ``2h``, ``1d``, ``1h30m`` or a bare number."""
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    try:
        return float(text)
    except ValueError:
        pass
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = text[i : i + 2] if text[i : i + 2] == "ms" else ch
        if unit not in units or not number:
            raise ValueError(f"bad duration {text!r} (use e.g. 30s, 5m, 2h, 1d)")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise ValueError(f"bad duration {text!r}: number {number} has no unit")
    return total
