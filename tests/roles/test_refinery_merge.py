"""Single-request merges: each strategy, conflicts, gate failures, pre-existing failures, flaky gates."""

from __future__ import annotations

import pytest

from tests.roles.conftest import git


@pytest.mark.parametrize("strategy", ["ff", "merge", "squash"])
def test_happy_merge_lands_change_once_and_closes_everything(kit, strategy):
    kit.set("merge.strategy", strategy)
    kit.set("gates.test", "./check.sh")
    before = kit.main()
    cat, source, mr = kit.work("nux", {"feature.py": "VALUE = 1\n"}, "Add feature value")

    summary = kit.run_once()

    assert summary["merged"] == [mr]
    assert kit.show("feature.py") == "VALUE = 1"
    subjects = kit.subjects()
    assert subjects.count("Add feature value") == 1
    assert git("merge-base", "--is-ancestor", before, "main", cwd=kit.repo) == ""
    if strategy == "merge":
        assert any(s.startswith(f"Merge {cat.branch} into main") for s in subjects)
        assert len(git("rev-list", "--parents", "-n", "1", "main", cwd=kit.repo).split()) == 3
    else:
        assert subjects[0] == "Add feature value"
    mr_bead = kit.bead(mr)
    assert mr_bead["status"] == "closed" and mr_bead["close_reason"] == "merged"
    assert f"merge_commit: {kit.main()}" in mr_bead["description"]
    assert kit.bead(source)["status"] == "closed"
    assert not kit.branch_exists(cat.branch)
    assert kit.recipients("MERGED nux") == sorted(["app/nux", "app/witness", "mayor/"])
