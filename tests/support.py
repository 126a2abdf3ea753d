"""Helpers shared by test areas."""

from __future__ import annotations

import time


def poll(predicate, *, timeout: float, interval: float, what: str = "condition"):
    """Call ``predicate`` until it returns something truthy and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
