"""Acceptance: conflicts, failing gates and batches, end to end with rework through the witness."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RIG, git, sim_steps, wait_for, write_file_step
from vermas.town import protocol

pytestmark = pytest.mark.slow


def _rework_requests(town) -> list[protocol.ReworkRequest]:
    out = []
    for message in town.mails("REWORK_REQUEST", to=f"{RIG}/witness"):
        record = protocol.parse(message["title"], message["description"])
        assert isinstance(record, protocol.ReworkRequest)
        out.append(record)
    return out


def _session_contexts(town, session: str) -> list[str]:
    return [e["text"] for e in town.transcript(session)
            if e["event"] == "context" and e.get("source") == "SessionStart"]


def test_conflicting_branches_second_is_reworked_then_merges(town):
    first = town.file_bead("shared.txt", "written by the first bead", title="First shared")
    second = town.file_bead("shared.txt", "written by the second bead", title="Second shared")
    town.up()
    slung = town.sling(first, second)
    town.wait_merged([first, second], timeout=300)

    # exactly one of them conflicted, was told which file, reworked on the new target, and merged
    [rework] = _rework_requests(town)
    assert rework.conflict_files == "shared.txt"
    loser = rework.issue
    assert loser in (first, second)
    winner = second if loser == first else first
    bead = town.issue(loser)
    [handed_back] = town.rig_events("refinery.rework")
    assert handed_back["data"]["bead_id"] == loser and handed_back["data"]["hooked_to"] == \
        f"{RIG}/polecats/{rework.polecat}"
    [note] = [c["text"] for c in bead["comments"] if c["text"].startswith("[refinery] REWORK")]
    assert "conflicts with main in: shared.txt" in note
    # the polecat's new session was primed with that context (prime shows the rework note)
    polecat = rework.polecat
    contexts = _session_contexts(town, f"vm-{RIG}-{polecat}")
    assert any("Rework requested" in c and "shared.txt" in c for c in contexts), contexts
    reworked = [e for e in town.rig_events("witness.reworked") if e["data"]["bead_id"] == loser]
    assert len(reworked) == 1 and reworked[0]["data"]["polecat"] == f"{RIG}/polecats/{polecat}"
    # the reworked change is the last word on the file; both changes are in main exactly once
    assert town.show("shared.txt") == ("written by the second bead" if loser == second
                                       else "written by the first bead")
    subjects = town.subjects()
    for bead_id in (first, second):
        assert subjects.count(f"{bead_id}: {town.issue(bead_id)['title']}") == 1
    rejected = [m for m in town.merge_requests() if m.get("close_reason") == "conflict"]
    assert [m["title"] for m in rejected] == [f"Merge: {loser}"]
    assert town.issue(winner)["close_reason"] == "merged"
    wait_for(lambda: town.convoy_of(slung)["status"] == "closed", timeout=60, what="the convoy to land")
    town.wait_cleaned()
    town.assert_nothing_lost()


def test_branch_breaking_the_gate_is_rejected_with_output_target_stays_green(town):
    runtime = town.fault_runtime("sim-wrong-once", "wrong-solution")
    body = ("Add the feature.\n\n" + sim_steps(write_file_step("feature.txt", "a good feature"))
            + sim_steps(write_file_step("feature.txt", "BROKEN feature"), tag="sim-wrong"))
    bead = town.bead("Feature with a gate", body)
    town.up()
    town.sling(bead, runtime=runtime)
    town.wait_merged([bead], timeout=300)

    # the first submission was rejected by the test gate, with the gate's output
    [rework] = _rework_requests(town)
    assert rework.issue == bead and rework.extra.get("Failed-Gate") == "test"
    message = next(iter(town.mails("REWORK_REQUEST", to=f"{RIG}/witness")))
    assert "FAIL: BROKEN marker found" in message["description"]
    rejected = [m for m in town.merge_requests() if m.get("close_reason") == "rejected"]
    assert len(rejected) == 1
    note = [c["text"] for c in town.issue(bead)["comments"] if c["text"].startswith("[refinery] REWORK")]
    assert note and "FAIL: BROKEN marker found" in note[0]
    # the target never held the broken change: no commit of main ever contains BROKEN
    for commit in git("rev-list", "main", cwd=town.rig.repo).splitlines():
        assert not _grep_hits(town, commit), f"main's history holds the broken change at {commit}"
    assert town.show("feature.txt") == "a good feature"
    # the reworked session was the second incarnation (no fault) and knew why it came back
    polecat = rework.polecat
    contexts = _session_contexts(town, f"vm-{RIG}-{polecat}")
    assert any("Rework requested" in c and "BROKEN" in c for c in contexts)
    town.assert_nothing_lost()


def _grep_hits(town, commit: str) -> bool:
    import subprocess

    proc = subprocess.run(["git", "grep", "-q", "BROKEN", commit, "--", ".", ":!check.sh"], cwd=town.rig.repo,
                          capture_output=True)
    return proc.returncode == 0


def test_batch_of_five_with_one_culprit(town):
    town.set("merge.batch_size", "5")
    town.set("polecats.max", "5")
    runtime = town.fault_runtime("sim-wrong-once", "wrong-solution")
    good = [town.file_bead(f"batch{n}.txt", f"batch change {n}") for n in range(4)]
    culprit = town.bead("Culprit", "Breaks the tests the first time.\n\n"
                        + sim_steps(write_file_step("culprit.txt", "fine now"))
                        + sim_steps(write_file_step("culprit.txt", "BROKEN"), tag="sim-wrong"))
    town.sling(*good[:2])
    town.sling(culprit, runtime=runtime)
    town.sling(*good[2:])
    # all five requests are queued before the refinery starts: one batch
    wait_for(lambda: len([m for m in town.merge_requests() if m["status"] == "open"]) == 5, timeout=180,
             what="five merge requests")
    town.up()
    town.wait_merged([*good, culprit], timeout=300)

    log = town.rig_events()
    rejected = [e for e in log if e["event_type"] == "refinery.rejected"]
    assert [e["data"]["bead_id"] for e in rejected] == [culprit], "only the culprit is reworked"
    merged = [i for i, e in enumerate(log) if e["event_type"] == "refinery.merged"]
    assert sorted(log[i]["data"]["bead_id"] for i in merged[:4]) == sorted(good), \
        "the four good requests merge from the batch"
    assert log[merged[4]]["data"]["bead_id"] == culprit
    # the good four landed before the culprit was even resubmitted
    submitted = [i for i, e in enumerate(log) if e["event_type"] == "mr.submitted"
                 and e["data"].get("source_issue") == culprit]
    assert len(submitted) == 2 and merged[3] < submitted[1]
    assert town.show("culprit.txt") == "fine now"
    town.assert_nothing_lost()
