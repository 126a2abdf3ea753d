"""Queue order (no starvation) and hygiene: stale, duplicate and superseded requests."""

from __future__ import annotations

from tests.roles.conftest import git
from vermas.roles.refinery import queue


def _scan(kit):
    with kit.ledger() as ledger:
        return queue.scan(ledger, kit.repo, actor="app/refinery", town_root=kit.town.root)


def test_order_is_priority_then_oldest_first(kit):
    _c1, _s1, old_p2 = kit.work("a1", {"a.py": "A = 1\n"}, "a", priority=2)
    _c2, _s2, new_p2 = kit.work("a2", {"b.py": "B = 1\n"}, "b", priority=2)
    _c3, _s3, urgent = kit.work("a3", {"c.py": "C = 1\n"}, "c", priority=0)
    _c4, _s4, newest_p2 = kit.work("a4", {"d.py": "D = 1\n"}, "d", priority=2)

    assert [m.id for m in _scan(kit).ready] == [urgent, old_p2, new_p2, newest_p2]


def test_no_starvation_oldest_merges_before_newer_arrivals(kit):
    _cat, _src, oldest = kit.work("old", {"old.py": "OLD = 1\n"}, "oldest change")
    merged_order = []
    for i in range(3):  # newer work keeps arriving between rounds
        kit.work(f"new{i}", {f"new{i}.py": f"N = {i}\n"}, f"newer change {i}")
        refinery = kit.refinery()
        try:
            report = refinery.run_round()
        finally:
            refinery.close()
        merged_order += report.merged
    assert merged_order[0] == oldest
    assert len(merged_order) == 3
    kit.run_once()
    assert kit.subjects()[:4] == ["newer change 2", "newer change 1", "newer change 0", "oldest change"]


def test_source_closed_elsewhere_closes_the_request_without_merging(kit):
    before = kit.main()
    cat, source, mr = kit.work("nux", {"a.py": "A = 1\n"}, "a")
    with kit.ledger() as ledger, ledger.transaction("mayor") as tx:
        tx.close(source, "wontfix")

    summary = kit.run_once()

    assert summary["merged"] == [] and summary["stale"] == [mr]
    bead = kit.bead(mr)
    assert bead["status"] == "closed" and bead["close_reason"] == "superseded"
    assert "closed elsewhere (wontfix)" in bead["comments"][-1]["text"]
    assert kit.main() == before and kit.branch_exists(cat.branch)


def test_vanished_branch_is_rejected_but_a_hand_merged_one_counts_as_merged(kit):
    gone, gone_src, gone_mr = kit.work("gone", {"g.py": "G = 1\n"}, "g")
    done, done_src, done_mr = kit.work("done", {"d.py": "D = 1\n"}, "d")
    git("update-ref", "refs/heads/main", done.head, cwd=kit.repo)  # someone merged it by hand
    for cat in (gone, done):
        cat.git("checkout", "--quiet", "--detach")
        git("branch", "-D", cat.branch, cwd=kit.repo)

    summary = kit.run_once()

    assert sorted(summary["stale"]) == sorted([gone_mr, done_mr])
    assert kit.bead(gone_mr)["close_reason"] == "rejected"
    assert kit.bead(gone_src)["status"] == "in_progress"
    assert kit.bead(done_mr)["close_reason"] == "merged"
    assert kit.bead(done_src)["status"] == "closed"


def test_duplicates_collapse_and_resubmission_supersedes(kit):
    cat, source, first = kit.work("nux", {"a.py": "A = 1\n"}, "a")
    duplicate = kit.submit(cat, source)  # same branch, same commit
    other, other_src, stale = kit.work("toast", {"b.py": "B = 1\n"}, "b")
    other.commit({"b.py": "B = 2\n"}, "b, fixed")
    fresh = kit.submit(other, other_src)  # same branch, newer commit

    view = _scan(kit)
    assert {d.mr.id: d.close_reason for d in view.stale} == {duplicate: "superseded", stale: "superseded"}
    assert [m.id for m in view.ready] == [first, fresh]

    summary = kit.run_once()
    assert summary["merged"] == [first, fresh]
    assert "duplicate of" in kit.bead(duplicate)["comments"][-1]["text"]
    assert kit.show("b.py") == "B = 2"
    assert kit.subjects().count("a") == 1
    assert [m["id"] for m in kit.merge_requests(status=("open", "in_progress"))] == []


def test_blocked_request_waits_and_is_listed(kit):
    _cat, _source, mr = kit.work("nux", {"a.py": "A = 1\n"}, "a")
    blocker = kit.task("decide the API first")
    with kit.ledger() as ledger, ledger.transaction("mayor") as tx:
        tx.add_dependency(mr, blocker, "blocks")

    summary = kit.run_once()
    assert summary["merged"] == []
    [row] = [r for r in _scan(kit).entries() if r["id"] == mr]
    assert row["state"] == "blocked" and "dependencies" in row["reason"]

    with kit.ledger() as ledger, ledger.transaction("mayor") as tx:
        tx.close(blocker, "decided")
    assert kit.run_once()["merged"] == [mr]
