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
    global _fromisoformat
    if _fromisoformat is None:
        from datetime import datetime

        _fromisoformat = datetime.fromisoformat
    try:
        return _fromisoformat(text).timestamp()
    except (ValueError, TypeError):
        return None


_fromisoformat = None
_EPOCH = None
_MICROSECOND = None
_DAY_CACHE: dict[str, int] = {}  # "YYYY-MM-DD" + offset -> epoch seconds of that local midnight


def epoch_ns(text: str | None) -> int | None:
    """Exact epoch nanoseconds of an RFC 3339 string, fast (the index computes three per issue).

    The common shapes (``…Z`` / ``…±HH:MM``, 0-9 fractional digits) are parsed with slicing and
    a per-day cache; anything else goes through :func:`parse_ns`.
    """
    if not text:
        return None
    n = len(text)
    if n < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt" or text[13] != ":" or text[16] != ":":
        return parse_ns(text)
    last = text[-1]
    if last in "Zz":
        body_end, zone = n - 1, "Z"
    elif n >= 25 and text[-3] == ":" and text[-6] in "+-":
        body_end, zone = n - 6, text[-6:]
    else:
        return None
    base = _DAY_CACHE.get(text[:10] + zone)
    try:
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
        if base is None:
            base = _day_start(text[:10], zone)
        frac = 0
        if body_end > 19:
            digits = text[20:body_end]
            if text[19] != "." or not digits.isdigit() or len(digits) > 9:
                return None
            frac = int(digits) * 10 ** (9 - len(digits))
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    return (base + hour * 3600 + minute * 60 + second) * 1_000_000_000 + frac


def _day_start(day: str, zone: str) -> int:
    """Epoch seconds of midnight of ``day`` at UTC offset ``zone`` (validated; cached)."""
    import calendar
    from datetime import date

    when = date.fromisoformat(day)  # raises ValueError for impossible dates
    offset = 0
    if zone != "Z":
        offset = (int(zone[1:3]) * 60 + int(zone[4:6])) * 60
        if zone[0] == "-":
            offset = -offset
    value = calendar.timegm((when.year, when.month, when.day, 0, 0, 0, 0, 0, 0)) - offset
    if len(_DAY_CACHE) < 100_000:
        _DAY_CACHE[day + zone] = value
    return value


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


def parse_ns(text: str | None) -> int | None:
    """Exact nanoseconds since the epoch for an RFC 3339 string (no µs truncation), or None."""
    if not text or len(text) < 20 or text[10] not in "Tt ":
        return None
    import calendar

    try:
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    except ValueError:
        return None
    rest = text[19:]
    frac_ns = 0
    if rest.startswith("."):
        digits = ""
        i = 1
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        if not digits or len(digits) > 9:
            return None
        frac_ns = int(digits.ljust(9, "0"))
        rest = rest[i:]
    if rest in ("Z", "z"):
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        try:
            offset = (int(rest[1:3]) * 60 + int(rest[4:6])) * 60
        except ValueError:
            return None
        if rest[0] == "-":
            offset = -offset
    else:
        return None
    try:
        secs = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return (secs - offset) * 1_000_000_000 + frac_ns


def parse_when(text: str, *, now_ns: int | None = None) -> int:
    """A point in time from user input, as epoch nanoseconds.

    Accepts RFC 3339 (``2026-01-02T03:04:05Z``), a date (``2026-01-02``, local midnight), or a
    duration meaning "that long ago" (``90s``, ``15m``, ``2h``, ``7d``, ``1h30m``).
    Raises ``ValueError`` with a readable message otherwise.
    """
    text = text.strip()
    exact = parse_ns(text)
    if exact is not None:
        return exact
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            tm = time.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise ValueError(f"bad date {text!r} (use YYYY-MM-DD)") from None
        return int(time.mktime(tm)) * 1_000_000_000
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(
            f"bad time {text!r}: use a duration (30m, 2h, 7d), a date (2026-01-31) or RFC 3339"
        ) from None
    now = time.time_ns() if now_ns is None else now_ns
    return now - int(seconds * 1_000_000_000)
