"""Ledger test fixtures: a fresh ledger per test, fixture paths, small helpers."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

from tests.conftest import FIXTURES
from vermas.ledger.store import Ledger

JSONL_FIXTURES = sorted(glob.glob(os.path.join(FIXTURES, "jsonl", "*.jsonl")))
ROUTE_FIXTURES = os.path.join(FIXTURES, "routes")
LARGEST_FIXTURE = max(JSONL_FIXTURES, key=os.path.getsize)


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    """An empty ledger with prefix ``t`` in ``tmp_path/.beads``."""
    led = Ledger.init(str(tmp_path / ".beads"), "t")
    yield led
    led.close()


def fixture_ledger(tmp_path, fixture: str, prefix: str | None = None) -> Ledger:
    """A ledger whose issues.jsonl is a copy of a fixture file."""
    beads = tmp_path / ".beads"
    beads.mkdir()
    shutil.copyfile(fixture, beads / "issues.jsonl")
    if prefix:
        (beads / "config.yaml").write_text(f"issue-prefix: {prefix}\n")
    return Ledger.open(str(beads))


def file_ids(path: str) -> list[str]:
    import json

    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["id"] for line in fh if line.strip()]


def read_bytes(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def read_text(path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()
