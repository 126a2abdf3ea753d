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


def _comments(bead: dict) -> str:
    return "\n".join(str(c.get("text", "")) for c in bead.get("comments") or ())


def test_conflicting_branches_second_is_reworked_then_merges_after_fix(kit):
    kit.set("gates.test", "./check.sh")
    _first, _src1, mr1 = kit.work("nux", {"calc.py": "def add(a, b):\n    return a + b  # fast\n"}, "Speed up add")
    second, src2, mr2 = kit.work("toast", {"calc.py": "def add(a, b):\n    return b + a\n"}, "Commute add")

    summary = kit.run_once()

    assert summary["merged"] == [mr1] and summary["rework"] == [mr2]
    mr2_bead = kit.bead(mr2)
    assert mr2_bead["status"] == "closed" and mr2_bead["close_reason"] == "conflict"
    [rework] = [m for m in kit.mails("REWORK_REQUEST toast") if m["assignee"] == "app/toast"]
    assert "Conflict-Files: calc.py" in rework["description"]
    assert kit.recipients("REWORK_REQUEST toast") == ["app/toast", "app/witness"]
    assert git("rev-parse", second.branch, cwd=kit.repo) == second.head  # nothing of the polecat's work is lost
    source = kit.bead(src2)
    assert source["status"] == "hooked" and source["assignee"] == "app/polecats/toast"
    assert "rework" in source["labels"] and "calc.py" in _comments(source)
    with open(kit.paths.beads_dir + "/.hook-app-polecats-toast", encoding="utf-8") as fh:
        assert fh.read() == f"bead:{src2}"

    # The polecat rebases, resolves the conflict, and resubmits: it merges.
    assert not second.rebase("main")  # git itself agrees: a conflict
    second.git("rebase", "--abort")
    second.git("reset", "--quiet", "--hard", "main")
    second.commit({"calc.py": "def add(a, b):\n    return b + a  # fast\n"}, "Commute add")
    mr3 = kit.done(second, src2)  # the bead is back on its hook: `vermas done` again
    summary = kit.run_once()
    assert summary["merged"] == [mr3]
    assert kit.show("calc.py") == "def add(a, b):\n    return b + a  # fast"
    assert kit.bead(src2)["status"] == "closed"
    assert kit.subjects().count("Commute add") == 1 and kit.subjects().count("Speed up add") == 1


def test_branch_breaking_the_tests_is_rejected_with_output_and_target_stays_green(kit):
    kit.set("gates.test", "./check.sh")
    good_before = kit.main()
    cat, source, mr = kit.work("nux", {"bad.py": "x = 'BROKEN'\n"}, "Break things")

    summary = kit.run_once()

    assert summary["rework"] == [mr] and summary["merged"] == []
    assert kit.main() == good_before
    assert git("rev-parse", cat.branch, cwd=kit.repo) == cat.head  # the polecat's commit is kept for the rework
    mr_bead = kit.bead(mr)
    assert mr_bead["close_reason"] == "rejected" and "rejected_stage: test" in mr_bead["description"]
    [mail] = [m for m in kit.mails("REWORK_REQUEST nux") if m["assignee"] == "app/nux"]
    assert "FAIL: BROKEN marker found" in mail["description"]
    assert "Failed-Gate: test" in mail["description"]
    bead = kit.bead(source)
    assert bead["status"] == "hooked" and "FAIL: BROKEN marker found" in _comments(bead)
    # the evidence is kept (first run, the flaky retry, the target check) under .beads/evidence/<source>/gates/
    evidence = f"{kit.paths.beads_dir}/evidence/{source}/gates/{mr}"
    import glob

    logs = sorted(p.rsplit("/", 1)[-1] for p in glob.glob(evidence + "/*/*.log"))
    assert logs == ["test.log", "test.retry.log", "test.target.log"]
    # and the target is green: the gate passes on it
    assert kit.bead(mr)["status"] == "closed"
    assert "BROKEN" not in git("ls-tree", "-r", "--name-only", "main", cwd=kit.repo)


def test_failure_already_on_the_target_is_filed_as_bug_and_branch_merges(kit):
    upstream_break = kit.polecat("setup")
    upstream_break.commit({"legacy.py": "TODO = 'BROKEN'\n"}, "Legacy breakage")
    git("update-ref", "refs/heads/main", upstream_break.head, cwd=kit.repo)
    kit.set("gates.test", "./check.sh")
    _cat1, _src1, mr1 = kit.work("nux", {"a.py": "A = 1\n"}, "Add a")
    _cat2, _src2, mr2 = kit.work("toast", {"b.py": "B = 1\n"}, "Add b")

    summary = kit.run_once()

    assert summary["merged"] == [mr1, mr2] and summary["rework"] == []
    with kit.ledger() as ledger:
        from vermas.ledger import queries

        bugs = queries.list_issues(ledger.conn, status=("open",), labels=("refinery:target-failure",))
    assert len(bugs) == 1 and bugs[0]["issue_type"] == "bug" and bugs[0]["title"] == "Gate 'test' fails on main"
    [merged_mail] = [m for m in kit.mails("MERGED nux") if m["assignee"] == "app/nux"]
    assert bugs[0]["id"] in merged_mail["description"]
    assert len(kit.mails("ESCALATION: gate test fails")) == 1


def test_flaky_gate_is_retried_once_and_merges(kit, tmp_path):
    marker = tmp_path / "flaked"
    kit.set("gates.test", f"if [ -e {marker} ]; then echo ok; else touch {marker}; echo flaky; exit 1; fi")
    _cat, _source, mr = kit.work("nux", {"a.py": "A = 1\n"}, "Add a")

    summary = kit.run_once()

    assert summary["merged"] == [mr]
    [merged_mail] = [m for m in kit.mails("MERGED nux") if m["assignee"] == "app/nux"]
    assert "Gate test failed once and passed on retry (flaky)" in merged_mail["description"]


def test_target_moved_during_the_round_is_not_overwritten(kit, tmp_path):
    hotfix = kit.polecat("human")
    hotfix.commit({"hotfix.txt": "urgent\n"}, "hotfix pushed by a human")
    mark = tmp_path / "moved"
    # while the gate runs, a human moves main: the refinery's compare-and-swap must lose
    kit.set("gates.test", f"if [ ! -e {mark} ]; then touch {mark}; "
                          f"git -C {kit.repo} update-ref refs/heads/main {hotfix.head}; fi; ./check.sh")
    _cat, _source, mr = kit.work("nux", {"feature.py": "X = 1\n"}, "feature")

    summary = kit.run_once()

    assert summary["merged"] == [mr] and summary["rounds"] == 2  # lost the swap once, re-queued, merged
    subjects = kit.subjects()
    assert subjects.count("hotfix pushed by a human") == 1 and subjects.count("feature") == 1
    assert git("merge-base", "--is-ancestor", hotfix.head, "main", cwd=kit.repo) == ""


def test_push_upstream_syncs_first_and_verifies_the_push(kit):
    git("config", "receive.denyCurrentBranch", "updateInstead", cwd=kit.source)
    kit.set("merge.push_upstream", True)
    # someone pushed to the upstream meanwhile: the refinery builds on it
    (__import__("pathlib").Path(kit.source) / "upstream.txt").write_text("from upstream\n")
    git("add", "-A", cwd=kit.source)
    git("commit", "--quiet", "-m", "upstream change", cwd=kit.source)
    _cat, _source, mr = kit.work("nux", {"feature.py": "X = 1\n"}, "feature")

    summary = kit.run_once()

    assert summary["merged"] == [mr]
    upstream = git("rev-parse", "main", cwd=kit.source)
    assert upstream == kit.main()
    assert kit.subjects()[:2] == ["feature", "upstream change"]


def test_source_bead_in_the_town_ledger_is_closed_on_merge(kit):
    cat = kit.polecat("nux")
    with kit.town_ledger() as ledger, ledger.transaction("mayor") as tx:
        source = tx.create("town-level work slung to a rig", issue_type="task", status="hooked",
                           assignee=cat.address)["id"]
    assert source.startswith("hq-")
    cat.commit({"a.py": "A = 1\n"}, "town work")
    mr = kit.submit(cat, source)  # the MR lives in the rig ledger; its source in the town's

    assert kit.run_once()["merged"] == [mr]
    with kit.town_ledger() as ledger:
        bead = ledger.get(source)
    assert bead["status"] == "closed" and bead["close_reason"] == "merged"
