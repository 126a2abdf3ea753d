"""Issue-by-issue merge (sync conflicts), log union, and the event log's queries, replay and follow."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from vermas.errors import DataError
from vermas.ledger import codec, events, merge


def _line(issue_id: str, updated: str, **extra) -> str:
    return codec.encode_issue(codec.canonical({"id": issue_id, "title": extra.pop("title", issue_id), "priority": 2,
                                               "created_at": "2026-01-01T00:00:00Z", "updated_at": updated, **extra}))


def test_merge_keeps_everything_and_newest_wins():
    ours = "\n".join([_line("a-1", "2026-01-02T00:00:00Z", title="ours newer"),
                      _line("a-2", "2026-01-02T00:00:00Z", title="ours older"),
                      _line("a-3", "2026-01-01T00:00:00Z"),
                      _line("a-ours", "2026-01-01T00:00:00Z")]) + "\n"
    theirs = "\n".join([_line("a-theirs", "2026-01-01T00:00:00Z"),
                        _line("a-3", "2026-01-01T00:00:00Z"),
                        _line("a-2", "2026-01-02T00:00:00.5Z", title="theirs newer"),
                        _line("a-1", "2026-01-01T23:59:59.999999999Z", title="theirs older")]) + "\n"
    text, stats = merge.merge_issues(ours, theirs)
    got = {json.loads(x)["id"]: json.loads(x)["title"] for x in text.split("\n")[:-1]}
    assert got == {"a-1": "ours newer", "a-2": "theirs newer", "a-3": "a-3", "a-ours": "a-ours",
                   "a-theirs": "a-theirs"}
    assert [json.loads(x)["id"] for x in text.split("\n")[:-1]] == sorted(got)
    assert stats == {"ours_only": 1, "theirs_only": 1, "same": 1, "took_ours": 1, "took_theirs": 1}
    again, _ = merge.merge_issues(theirs, ours)
    assert again == text  # symmetric


def test_merge_tie_is_deterministic_and_prefers_tombstones():
    live = _line("a-1", "2026-01-01T00:00:00Z", status="open")
    dead = _line("a-1", "2026-01-01T00:00:00Z", status="tombstone")
    assert merge.merge_issues(live + "\n", dead + "\n")[0] == dead + "\n"
    assert merge.merge_issues(dead + "\n", live + "\n")[0] == dead + "\n"


def test_merge_refuses_unparseable_sides():
    with pytest.raises(DataError) as err:
        merge.merge_issues(_line("a-1", "2026-01-01T00:00:00Z") + "\n<<<<<<< HEAD\n", "", ours_label="ours.jsonl")
    assert err.value.message.startswith("ours.jsonl:2: ")


def test_log_merge_is_a_timestamp_ordered_union():
    a = [json.dumps({"event_id": f"e{n}", "timestamp": f"2026-01-0{n}T00:00:00Z"}) for n in (1, 3, 5)]
    b = [json.dumps({"event_id": f"e{n}", "timestamp": f"2026-01-0{n}T00:00:00Z"}) for n in (1, 2, 4)]
    merged = merge.merge_log("\n".join(a) + "\n", "\n".join(b) + "\n").split("\n")[:-1]
    assert [json.loads(x)["event_id"] for x in merged] == ["e1", "e2", "e3", "e4", "e5"]


def _log(tmp_path, entries: list[dict]) -> str:
    beads = tmp_path / ".beads"
    beads.mkdir(exist_ok=True)
    events.append(str(beads), entries)
    return str(beads)


def test_filters_stats_and_torn_tail(tmp_path):
    beads = _log(tmp_path, [
        events.new_event("bead.created", "alice", {"bead_id": "x-1"}, timestamp="2026-01-01T00:00:00Z"),
        events.new_event("bead.closed", "bob", {"bead_id": "x-1"}, timestamp="2026-01-03T00:00:00Z"),
        events.new_event("mail.sent", "bob", {"message_id": "m"}, timestamp="2026-01-04T00:00:00Z"),
    ])
    with open(os.path.join(beads, "events.jsonl"), "a") as fh:
        fh.write('{"event_id":"torn","event_ty')  # a writer killed mid-append
    log = events.read(beads)
    assert len(log) == 3
    since = events.stats([e for e in log if events.matches(e, since_ns=1767312000 * 10**9)])  # 2026-01-02
    assert since["total"] == 2
    assert [e["event_type"] for e in log if events.matches(e, types=("bead.*",))] == ["bead.created", "bead.closed"]
    assert [e["actor"] for e in log if events.matches(e, actor="bob", bead="x-1")] == ["bob"]
    assert events.stats(log)["by_actor"] == {"bob": 2, "alice": 1}
    events.append(beads, [events.new_event("after", "c", {})])  # the torn tail is ended first
    assert [e["event_type"] for e in events.read(beads)][-1] == "after"


def test_replay_rebuilds_state_from_events(ledger):
    with ledger.transaction("alice") as tx:
        a = tx.create("first title", description="d", labels=["x"], fields={"acceptance_criteria": "ac"})["id"]
        tx.update(a, title="second title", priority=0)
        tx.add_label(a, "y")
        tx.remove_label(a, "x")
        other = tx.create("other")["id"]
        tx.add_dependency(a, other)
        tx.add_comment(a, "hello")
        tx.close(a, "failed: nope")
        tx.reopen(a)
        tx.update(a, status="in_progress", assignee="bob")
    steps = events.replay(events.read(ledger.dir), a)
    state = steps[-1][1]
    current = ledger.get(a)
    for key in ("title", "priority", "status", "assignee", "labels", "description", "acceptance_criteria"):
        assert state[key] == current[key], key
    assert state["dependencies"] == [["blocks", other]]
    assert state["comments"] == 1 and "close_reason" not in state
    closed_at = next(s for e, s in steps if e["event_type"] == "bead.closed")
    assert closed_at["status"] == "closed" and closed_at["close_reason"] == "failed: nope"


def test_follow_sees_appends_and_file_replacement(tmp_path):
    beads = _log(tmp_path, [events.new_event("old", "a", {})])
    seen: list[str] = []
    done = threading.Event()
    offset = events.size(beads)  # follow from here: "old" is before it

    def reader() -> None:
        for event in events.follow(beads, offset=offset, poll=0.01, stop=done.is_set):
            seen.append(event["event_type"])
            if len(seen) == 3:
                return

    thread = threading.Thread(target=reader)
    thread.start()
    events.append(beads, [events.new_event("one", "a", {}), events.new_event("two", "a", {})])
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    path = os.path.join(beads, "events.jsonl")
    os.replace(path, path + ".old")  # rotated away; a new file appears
    events.append(beads, [events.new_event("three", "a", {})])
    thread.join(timeout=5)
    done.set()
    assert seen == ["one", "two", "three"]  # the pre-existing "old" event is not replayed
