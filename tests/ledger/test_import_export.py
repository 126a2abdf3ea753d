"""Import (merge by updated_at) and export, with the real fixture ledgers."""

from __future__ import annotations

import json
import os

import pytest

from tests.ledger.conftest import JSONL_FIXTURES, fixture_ledger, read_bytes, read_text
from vermas.errors import DataError
from vermas.ledger import codec, importer, index, jsonlfile, queries
from vermas.ledger.store import Ledger


def _export(ledger: Ledger) -> str:
    conn = ledger.conn
    return jsonlfile.render_lines(index.all_lines(conn, ephemeral=False), index.foreign_lines(conn)).decode()


def _sorted_lines(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")[:-1]
    return "".join(line + "\n" for line in sorted(lines, key=lambda line: json.loads(line)["id"]))


@pytest.mark.parametrize("fixture", JSONL_FIXTURES, ids=os.path.basename)
def test_import_into_empty_ledger_then_export(ledger, fixture):
    incoming, others = importer.read_file(fixture)
    the_plan = importer.run(ledger, incoming, "importer", source=fixture)
    assert len(the_plan.created) == len(incoming) and not the_plan.updated and not the_plan.skipped
    assert others == 0
    exported = _export(ledger)
    assert exported == read_text(ledger.issues_path)
    if "glovebox" in fixture:  # v1.x lines: read leniently, written back as v0.43 lines
        originals = {json.loads(x)["id"]: json.loads(x) for x in read_text(fixture).split("\n")[:-1]}
        for line in exported.split("\n")[:-1]:
            got = json.loads(line)
            want = {k: v for k, v in originals[got["id"]].items() if k not in importer.COMPUTED_KEYS}
            assert got == want
    else:
        assert exported == _sorted_lines(fixture)  # byte-exact, sorted by id
    again = importer.run(ledger, incoming, "importer")
    assert len(again.unchanged) == len(incoming) and not again.changes


def test_fixture_opened_in_place_answers_queries_and_keeps_bytes(tmp_path):
    fixture = next(f for f in JSONL_FIXTURES if "steveyegge__beads" in f)
    ledger = fixture_ledger(tmp_path, fixture, prefix="bd")
    original = read_bytes(fixture)
    stats = queries.stats(ledger.conn)
    assert stats["total_issues"] == 918 and stats["tombstone_issues"] == 311
    ready = queries.ready(ledger.conn, limit=None)
    assert all(i["status"] in ("open", "in_progress") for i in ready)
    target = ready[0]["id"]
    with ledger.transaction("me") as tx:
        tx.update(target, notes="touched")
    after = read_bytes(ledger.issues_path).split(b"\n")
    before = original.split(b"\n")
    diff = [n for n, (a, b) in enumerate(zip(after, before, strict=True)) if a != b]
    assert len(diff) == 1 and json.loads(after[diff[0]])["id"] == target


def test_unsorted_fixture_is_sorted_on_first_write(tmp_path):
    fixture = next(f for f in JSONL_FIXTURES if "steveyegge__gastown" in f)
    ledger = fixture_ledger(tmp_path, fixture, prefix="gt")
    with ledger.transaction("me") as tx:
        tx.create("new one")
    with open(ledger.issues_path, encoding="utf-8") as fh:
        ids = [json.loads(line)["id"] for line in fh]
    assert ids == sorted(ids) and len(ids) == 2670


def _issue(issue_id: str, updated: str, **extra) -> dict:
    return codec.canonical({"id": issue_id, "title": extra.pop("title", issue_id), "status": "open", "priority": 2,
                            "issue_type": "task", "created_at": "2026-01-01T00:00:00Z", "updated_at": updated,
                            **extra})


def test_merge_rules_newer_wins_older_skipped_tombstones_stay(ledger):
    with ledger.transaction("me") as tx:
        tx.put_many([_issue("t-a", "2026-01-02T00:00:00Z", title="ours"),
                     _issue("t-b", "2026-01-05T00:00:00Z", title="ours"),
                     _issue("t-c", "2026-01-02T00:00:00Z", status="tombstone", deleted_at="2026-01-02T00:00:00Z"),
                     _issue("t-d", "2026-01-02T00:00:00.000000001Z", title="ours")], event=None)
    incoming = [
        _issue("t-a", "2026-01-03T00:00:00Z", title="theirs, newer"),
        _issue("t-b", "2026-01-04T00:00:00Z", title="theirs, older"),
        _issue("t-c", "2026-02-01T00:00:00Z", title="resurrected?"),
        _issue("t-d", "2026-01-02T00:00:00.000000002Z", title="theirs, 1 ns newer"),
        _issue("t-e", "2026-01-01T00:00:00Z", title="brand new"),
        _issue("t-a", "2026-01-03T00:00:00Z", title="theirs, newer"),  # repeated: last line wins
    ]
    the_plan = importer.run(ledger, incoming, "me")
    assert [i["id"] for i in the_plan.created] == ["t-e"]
    assert sorted(i["id"] for i in the_plan.updated) == ["t-a", "t-d"]
    assert sorted(i for i, _r in the_plan.skipped) == ["t-b", "t-c"]
    assert ledger.get("t-a")["title"] == "theirs, newer"
    assert ledger.get("t-b")["title"] == "ours"
    assert ledger.get("t-c")["status"] == "tombstone"
    assert ledger.get("t-d")["title"] == "theirs, 1 ns newer"
    summary = the_plan.summary()
    assert (summary["created"], summary["updated"], summary["unchanged"], summary["skipped"]) == (1, 2, 0, 2)


def test_malformed_import_file_changes_nothing(ledger, tmp_path):
    with ledger.transaction("me") as tx:
        tx.create("existing")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(codec.encode_issue(_issue("t-x", "2026-01-01T00:00:00Z")) + "\n" + '{"id": "t-y", "title"\n')
    before = read_bytes(ledger.issues_path)
    with pytest.raises(DataError) as err:
        importer.read_file(str(bad))
    assert err.value.message.startswith(f"{bad}:2: ")
    assert read_bytes(ledger.issues_path) == before


def test_dry_run_reports_without_writing(ledger):
    before = read_bytes(ledger.issues_path)
    plan = importer.run(ledger, [_issue("t-new", "2026-01-01T00:00:00Z")], "me", dry_run=True)
    assert [i["id"] for i in plan.created] == ["t-new"]
    assert read_bytes(ledger.issues_path) == before
    assert not ledger.exists("t-new")


def test_v1_memory_records_are_counted_and_skipped(tmp_path):
    path = tmp_path / "v1.jsonl"
    path.write_text('{"_type":"memory","key":"k","value":"v"}\n'
                    '{"_type":"issue","id":"g-1","title":"t","status":"open","priority":1,"issue_type":"task",'
                    '"created_at":"2026-07-18T00:52:01Z","updated_at":"2026-07-18T00:52:01Z","dependency_count":0,'
                    '"dependent_count":0,"comment_count":0}\n')
    incoming, others = importer.read_file(str(path))
    assert others == 1
    assert incoming == [{"id": "g-1", "title": "t", "status": "open", "priority": 1, "issue_type": "task",
                         "created_at": "2026-07-18T00:52:01Z", "updated_at": "2026-07-18T00:52:01Z"}]
