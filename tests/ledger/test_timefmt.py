"""Timestamps: Go's RFC 3339 output, exact nanosecond parsing, user-facing time expressions."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vermas.ledger import timefmt


@given(st.integers(0, 4_000_000_000 * 10**9), st.sampled_from([0, 3600, -8 * 3600, 11 * 3600, -5 * 3600 - 1800]))
def test_format_then_parse_is_exact_to_the_nanosecond(ns, offset):
    utc = timefmt.format_ns(ns, utc=True)
    assert timefmt.parse_ns(utc) == timefmt.epoch_ns(utc) == ns
    # the same instant written with another offset
    secs, frac = divmod(ns, 10**9)
    shifted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs + offset))
    if frac:
        shifted += "." + f"{frac:09d}".rstrip("0")
    sign = "+" if offset >= 0 else "-"
    shifted += "Z" if offset == 0 else f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
    assert timefmt.parse_ns(shifted) == timefmt.epoch_ns(shifted) == ns


def test_go_style_trimming():
    assert timefmt.format_ns(1_766_734_249 * 10**9, utc=True) == "2025-12-26T07:30:49Z"
    assert timefmt.format_ns(1_766_734_249 * 10**9 + 500_000_000, utc=True) == "2025-12-26T07:30:49.5Z"


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00", "12:00"])
def test_unparseable_timestamps_are_none(text):
    assert timefmt.parse_ns(text) is None


def test_parse_when_accepts_durations_dates_and_rfc3339():
    now = 1_800_000_000 * 10**9
    assert timefmt.parse_when("90m", now_ns=now) == now - 90 * 60 * 10**9
    assert timefmt.parse_when("1h30m", now_ns=now) == now - 90 * 60 * 10**9
    assert timefmt.parse_when("2026-01-02T03:04:05Z") == timefmt.parse_ns("2026-01-02T03:04:05Z")
    assert timefmt.parse_when("2026-01-02") > 0
    with pytest.raises(ValueError, match="duration"):
        timefmt.parse_when("soon")
