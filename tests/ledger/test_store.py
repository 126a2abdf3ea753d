"""The store: mutations, the JSONL they leave, bad input, freshness of the index."""

from __future__ import annotations

import json
import os

import pytest

from tests.ledger.conftest import file_ids, read_bytes
from vermas.errors import ConflictError, DataError, NotFoundError, UsageError
from vermas.ledger import codec, index, queries
from vermas.ledger.store import Ledger

TRICKY_TITLES = [
    'He said "hi" and \'bye\'',
    "line one\nline two\r\nline three\ttabbed",
    "naïve café ✓ 日本語 🚀 ‮rtl‮",
    "<script>alert('x')</script> & &amp; <>",
    "u2028\u2028u2029\u2029 and \x01 control",
    "back\\slash and $(rm -rf /) ; `id`",
]


def _lines(ledger: Ledger) -> list[str]:
    with open(ledger.issues_path, encoding="utf-8") as fh:
        return fh.read().split("\n")[:-1]


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_tricky_titles_round_trip_exactly(ledger, title):
    with ledger.transaction("me") as tx:
        issue = tx.create(title, description=title)
    reopened = Ledger.open(ledger.dir)
    got = reopened.get(issue["id"])
    assert got["title"] == title
    assert got["description"] == title
    line = _lines(ledger)[0]
    assert "<" not in line and ">" not in line and "&" not in line  # Go's HTML escaping
    assert json.loads(line)["title"] == title
    assert codec.encode_issue(json.loads(line)) == line


def test_file_is_sorted_canonical_and_current_after_every_mutation(ledger):
    with ledger.transaction("me") as tx:
        ids = [tx.create(f"issue {n}")["id"] for n in range(5)]
    assert file_ids(ledger.issues_path) == sorted(ids)
    with ledger.transaction("me") as tx:
        tx.update(ids[2], status="in_progress", assignee="bob")
        tx.add_label(ids[2], "zeta")
        tx.add_label(ids[2], "alpha")
        tx.add_dependency(ids[3], ids[2])
        tx.add_comment(ids[3], "note")
        tx.close(ids[4], "done")
    on_disk = {json.loads(line)["id"]: json.loads(line) for line in _lines(ledger)}
    assert on_disk[ids[2]]["status"] == "in_progress"
    assert on_disk[ids[2]]["labels"] == ["alpha", "zeta"]
    assert on_disk[ids[3]]["dependencies"][0]["depends_on_id"] == ids[2]
    assert on_disk[ids[3]]["comments"][0]["text"] == "note"
    assert on_disk[ids[4]]["status"] == "closed" and on_disk[ids[4]]["close_reason"] == "done"
    assert "closed_at" in on_disk[ids[4]]
    for line in _lines(ledger):
        assert codec.encode_issue(json.loads(line)) == line


def test_reopen_clears_close_fields_and_delete_leaves_a_tombstone(ledger):
    with ledger.transaction("me") as tx:
        a = tx.create("a")["id"]
        tx.close(a, "failed: nope")
        reopened = tx.reopen(a)
        assert reopened["status"] == "open"
        assert "closed_at" not in reopened and "close_reason" not in reopened
        dead = tx.delete(a, "dup")
    assert dead["status"] == "tombstone" and dead["deleted_by"] == "me" and dead["original_type"] == "task"
    assert a in file_ids(ledger.issues_path)  # tombstones stay in the file
    with pytest.raises(ConflictError), ledger.transaction("me") as tx:
        tx.close(a)


def test_unknown_id_is_not_found(ledger):
    with pytest.raises(NotFoundError) as err:
        ledger.get("t-nope")
    assert err.value.exit_code == 3
    with pytest.raises(NotFoundError), ledger.transaction("me") as tx:
        tx.update("t-nope", title="x")


def test_partial_ids_resolve_and_ambiguity_is_a_usage_error(ledger):
    with ledger.transaction("me") as tx:
        a = tx.create("a", issue_id="t-abc1")["id"]
        tx.create("b", issue_id="t-abc2")
    assert ledger.resolve("abc1") == a
    assert ledger.resolve("t-abc1") == a
    with pytest.raises(UsageError):
        ledger.resolve("abc")


def test_cycle_is_refused_naming_it_and_nothing_changes(ledger):
    with ledger.transaction("me") as tx:
        a, b, c = (tx.create(x)["id"] for x in "abc")
        tx.add_dependency(b, a)
        tx.add_dependency(c, b)
    before = read_bytes(ledger.issues_path)
    with pytest.raises(ConflictError) as err, ledger.transaction("me") as tx:
        tx.add_dependency(a, c)
    assert err.value.exit_code == 5
    assert f"{a} → {c} → {b} → {a}" in err.value.message
    assert read_bytes(ledger.issues_path) == before
    assert not ledger.get(a).get("dependencies")


def test_related_edges_may_form_loops(ledger):
    with ledger.transaction("me") as tx:
        a, b = tx.create("a")["id"], tx.create("b")["id"]
        tx.add_dependency(a, b, "related")
        tx.add_dependency(b, a, "related")
    assert ledger.get(a)["dependencies"][0]["type"] == "related"


def test_invalid_priority_and_empty_title_are_usage_errors(ledger):
    with pytest.raises(UsageError), ledger.transaction("me") as tx:
        tx.create("x", priority=7)
    with pytest.raises(UsageError), ledger.transaction("me") as tx:
        tx.create("   ")


def test_child_ids_count_up_per_parent(ledger):
    with ledger.transaction("me") as tx:
        epic = tx.create("epic", issue_type="epic")["id"]
        kids = [tx.create(f"k{n}", parent=epic)["id"] for n in range(3)]
    assert kids == [f"{epic}.1", f"{epic}.2", f"{epic}.3"]
    assert ledger.children(epic) == kids
    reopened = Ledger.open(ledger.dir)
    reopened.rebuild()
    with reopened.transaction("me") as tx:
        assert tx.create("k4", parent=epic)["id"] == f"{epic}.4"


def test_malformed_line_names_file_and_line_and_leaves_file_untouched(ledger):
    with ledger.transaction("me") as tx:
        tx.create("good")
    with open(ledger.issues_path, "a", encoding="utf-8") as fh:
        fh.write('{"id":"t-bad","title": oops}\n')
    before = read_bytes(ledger.issues_path)
    fresh = Ledger.open(ledger.dir)
    with pytest.raises(DataError) as err:
        fresh.conn  # noqa: B018 - the freshness check reloads the file
    assert err.value.message.startswith(f"{ledger.issues_path}:2: ")
    assert err.value.exit_code == 1
    with pytest.raises(DataError), fresh.transaction("me") as tx:
        tx.create("never written")
    assert read_bytes(ledger.issues_path) == before


def test_index_follows_hand_edits_of_the_jsonl(ledger):
    with ledger.transaction("me") as tx:
        a = tx.create("a")
    edited = dict(a, title="edited by hand", status="closed")
    with open(ledger.issues_path, "w", encoding="utf-8") as fh:
        fh.write(codec.encode_issue(edited) + "\n")
    assert ledger.get(a["id"])["title"] == "edited by hand"
    assert queries.ready(ledger.conn) == []


def test_wisps_live_in_wisps_jsonl_only(ledger):
    with ledger.transaction("me") as tx:
        wisp = tx.create("wisp", ephemeral=True)["id"]
        real = tx.create("real")["id"]
    assert file_ids(ledger.issues_path) == [real]
    assert file_ids(ledger.wisps_path) == [wisp]
    assert [i["id"] for i in queries.ready(ledger.conn)] == [real]
    with ledger.transaction("me") as tx:
        tx.purge(wisp)
    assert not ledger.exists(wisp)
    assert file_ids(ledger.wisps_path) == []


def test_unknown_fields_and_values_survive_updates(ledger):
    odd = {"id": "t-odd", "title": "odd", "status": "review", "priority": 1, "issue_type": "rig",
           "created_at": "2026-01-02T03:04:05.5-08:00", "updated_at": "2026-01-02T03:04:05.5-08:00",
           "future_field": {"nested": [1, 2]}, "work_type": "mutex"}
    with ledger.transaction("me") as tx:
        tx.put(odd)
        tx.update("t-odd", priority=3)
    got = json.loads(_lines(ledger)[0])
    assert got["future_field"] == {"nested": [1, 2]} and got["status"] == "review" and got["issue_type"] == "rig"
    assert got["created_at"] == "2026-01-02T03:04:05.5-08:00"
    assert list(got)[:3] == ["id", "title", "status"]


def test_events_record_every_mutation(ledger):
    from vermas.ledger import events

    with ledger.transaction("alice", correlation_id="conv-1") as tx:
        a = tx.create("a")["id"]
        tx.update(a, status="in_progress")
        tx.close(a, "ok")
    log = events.read(ledger.dir)
    assert [e["event_type"] for e in log] == ["bead.created", "bead.updated", "bead.status_changed", "bead.closed"]
    assert {e["actor"] for e in log} == {"alice"} and {e["correlation_id"] for e in log} == {"conv-1"}
    assert set(log[0]) == {"event_id", "event_type", "timestamp", "actor", "correlation_id", "caused_by", "data"}


def test_rolled_back_transaction_leaves_no_trace(ledger):
    with ledger.transaction("me") as tx:
        tx.create("kept")
    before = read_bytes(ledger.issues_path)
    with pytest.raises(RuntimeError), ledger.transaction("me") as tx:
        tx.create("dropped")
        raise RuntimeError("boom")
    assert read_bytes(ledger.issues_path) == before
    assert [i["title"] for i in queries.list_issues(ledger.conn)] == ["kept"]


def test_bulk_put_many_matches_individual_puts(tmp_path):
    from bench.ledger_gen import generate

    issues = generate(300, 500, prefix="t")
    one = Ledger.init(str(tmp_path / "a" / ".beads"), "t")
    many = Ledger.init(str(tmp_path / "b" / ".beads"), "t")
    with one.transaction("me") as tx:
        for issue in issues:
            tx.put(issue)
    with many.transaction("me") as tx:
        tx.put_many(issues)
    assert read_bytes(one.issues_path) == read_bytes(many.issues_path)
    blocked = "SELECT issue_id FROM blocked ORDER BY issue_id"
    assert one.conn.execute(blocked).fetchall() == many.conn.execute(blocked).fetchall()
    assert index.count_top_level(many.conn, "t") == 300
    assert os.path.getsize(many.issues_path) > 0
