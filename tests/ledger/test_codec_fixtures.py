"""Loading then writing every fixture ledger gives back the same bytes (sorted by id)."""

import glob
import json
import os

import pytest

from tests.conftest import FIXTURES
from vermas.ledger import codec

LEDGERS = sorted(glob.glob(os.path.join(FIXTURES, "jsonl", "*.jsonl")))


def test_fixtures_present():
    assert len(LEDGERS) == 7


@pytest.mark.parametrize("path", LEDGERS, ids=os.path.basename)
def test_round_trip_is_byte_exact_after_sorting(path):
    with open(path, encoding="utf-8") as fh:
        original = fh.read()
    records, foreign = codec.read_records(path)
    assert not foreign
    written = codec.render([obj for _line, obj in records])
    expected = "".join(sorted(original.splitlines(keepends=True), key=lambda line: json.loads(line)["id"]))
    assert written == expected
    if "gastown__issues" not in path and "glovebox" not in path:
        assert written == original  # already sorted: identical bytes
