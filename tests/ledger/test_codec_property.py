"""Property tests for the JSONL codec: lossless, canonical, Go-escaped, file-level round trips."""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from vermas.ledger import codec, schema
from vermas.ledger.store import Ledger

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
STAMP = st.sampled_from(["2025-12-25T00:59:03.667211-08:00", "2026-01-31T08:24:11.240505865+01:00",
                         "2025-12-26T07:30:49Z", "2026-01-02T03:04:05.1+11:00"])


@st.composite
def issues(draw, issue_id: str | None = None) -> dict:
    issue: dict = {"id": issue_id or "x-" + draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1,
                                                         max_size=6)),
                   "title": draw(TEXT)}
    for key in ("description", "design", "notes", "assignee", "close_reason"):
        if draw(st.booleans()):
            issue[key] = draw(TEXT.filter(bool))
    issue["status"] = draw(st.sampled_from([*schema.STATUSES, "custom-status"]))
    issue["priority"] = draw(st.integers(0, 4))
    issue["issue_type"] = draw(st.sampled_from([*schema.ISSUE_TYPES, "unknown-type"]))
    issue["created_at"] = draw(STAMP)
    issue["updated_at"] = draw(STAMP)
    if draw(st.booleans()):
        issue["labels"] = sorted(set(draw(st.lists(TEXT.filter(bool), max_size=3))))
        if not issue["labels"]:
            del issue["labels"]
    if draw(st.booleans()):
        issue["dependencies"] = [{"issue_id": issue["id"], "depends_on_id": draw(TEXT.filter(bool)),
                                  "type": draw(st.sampled_from(schema.DEPENDENCY_TYPES)),
                                  "created_at": draw(STAMP)}]
    if draw(st.booleans()):
        issue["timeout"] = draw(st.integers(0, 10**15))
    if draw(st.booleans()):
        issue["an_unknown_future_key"] = draw(st.one_of(TEXT, st.integers(), st.booleans(),
                                                        st.lists(st.integers(), max_size=3)))
    return codec.canonical(issue)


@settings(max_examples=300, deadline=None)
@given(issues())
def test_encode_decode_is_lossless_and_stable(issue):
    line = codec.encode_issue(issue)
    assert "\n" not in line and "\r" not in line
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in line  # Go's encoder escapes them
    assert not any(ord(c) < 0x20 for c in line)
    back = codec.decode_line(line, "<test>", 1)
    assert back == issue
    assert list(back) == list(issue)  # key order kept
    assert codec.encode_issue(back) == line


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(schema.KEY_ORDER[1:]), st.integers(1, 9), max_size=8))
def test_canonical_order_follows_bd_struct_order(fields):
    issue = {"id": "x-1", **fields}
    shuffled = dict(reversed(list(issue.items())))
    ordered = list(codec.canonical(shuffled))
    assert ordered == sorted(ordered, key=lambda k: schema.KEY_RANK[k])


@settings(max_examples=40, deadline=None)
@given(st.lists(issues(), min_size=1, max_size=6, unique_by=lambda i: i["id"]))
def test_ledger_file_round_trip_is_byte_exact(batch):
    body = codec.render(batch)
    with tempfile.TemporaryDirectory() as tmp:
        beads = os.path.join(tmp, ".beads")
        os.makedirs(beads)
        path = os.path.join(beads, "issues.jsonl")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(body)
        ledger = Ledger.open(beads)
        try:
            assert {i["id"]: i for i in (ledger.get(x["id"]) for x in batch)} == {i["id"]: i for i in batch}
            # a write to one issue leaves every other line byte-identical
            with ledger.transaction("t") as tx:
                tx.update(batch[0]["id"], priority=(batch[0]["priority"] + 1) % 5)
            with open(path, encoding="utf-8") as fh:
                after = fh.read().split("\n")  # not splitlines(): U+0085 and friends are raw in lines
            before = body.split("\n")
            changed = [a for a, b in zip(after, before, strict=True) if a != b]
            assert len(changed) == 1 and json.loads(changed[0])["id"] == batch[0]["id"]
        finally:
            ledger.close()
