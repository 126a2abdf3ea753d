"""The Inspector as the refinery's last stage: PASS merges, FAIL reworks with context, NEEDS_HUMAN parks."""

from __future__ import annotations

import json
import os

import pytest

from tests.verify import fizzbuzz

pytestmark = pytest.mark.slow


def test_correct_fizzbuzz_passes_and_merges(vkit):
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    mr = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT})
    summary = vkit.refine()
    assert summary["merged"] == [mr], summary
    assert vkit.main_file("fizzbuzz.py") == fizzbuzz.CORRECT
    assert vkit.get(bead)["status"] == "closed"
    [verdict] = vkit.verdicts(bead)
    assert verdict["verdict"] == "PASS" and verdict["criteria_passed"] == 8 and verdict["criteria_total"] == 8
    assert verdict["confidence"] >= 0.7 and verdict["mr"] == mr
    evidence = verdict["evidence"]
    for name in ("spec.json", "results.json", "verdict.json", "changes.json", "diff.patch", "briefs/judge.json",
                 "briefs/advocate.json", "briefs/critic.json"):
        assert os.path.exists(os.path.join(evidence, name)), name
    latest = os.path.join(vkit.paths.beads_dir, "evidence", bead, "verdict.json")
    with open(latest, encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["verdict"] == "PASS" and doc["summary"] == {"total": 8, "passed": 8, "failed": 0, "audited": 0}
    kinds = [e["event_type"] for e in vkit.events()]
    for kind in ("verify.started", "verify.spec", "verify.checkout", "verify.test_executed", "verify.verifier",
                 "verify.advocate", "verify.critic", "verify.judge", "verify.verdict", "verify.recorded"):
        assert kind in kinds, kind
    assert kinds.count("verify.test_executed") == 8
    merged = vkit.mails("MERGED")
    assert merged and not vkit.mails("REWORK_REQUEST")


def test_checking_3_before_15_fails_ac2_and_goes_back_with_check_15_first(vkit):
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    mr = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.WRONG}, name="nux")
    summary = vkit.refine()
    assert summary["merged"] == [] and summary["rework"] == [mr], summary
    assert vkit.main_file("fizzbuzz.py") is None
    closed = vkit.merge_request(mr)
    assert closed["status"] == "closed" and "rejected_stage: inspector" in closed["description"]
    [verdict] = vkit.verdicts(bead)
    assert verdict["verdict"] == "FAIL" and verdict["failed_criteria"] == ["AC-2", "AC-8"]
    assert any("check 15 first" in fix for fix in verdict["required_fixes"])
    bead_now = vkit.get(bead)
    assert "rework" in bead_now["labels"]
    assert bead_now["status"] == "hooked" and bead_now["assignee"] == "app/polecats/nux"
    context = [c["text"] for c in bead_now.get("comments", []) if c["text"].startswith("[refinery] REWORK")]
    assert context and "check 15 first" in context[0] and "AC-2" in context[0]
    reworks = vkit.mails("REWORK_REQUEST")
    assert sorted(m["assignee"] for m in reworks) == ["app/nux", "app/witness"]
    for rework in reworks:
        assert "Failed-Criteria: AC-2, AC-8" in rework["description"] and "check 15 first" in rework["description"]


def test_needs_human_parks_and_escalates_once_and_a_later_verdict_settles_it(vkit):
    vkit.runtime("sim-garbage", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "garbage-verdict"}})
    vkit.set("verify.runtime.judge", "sim-garbage")
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    mr = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT})
    assert vkit.refine()["parked"] == [mr]
    assert vkit.refine()["parked"] == []  # parked requests wait; nothing runs twice
    [escalation] = vkit.escalations()
    assert escalation["related_bead"] == bead and escalation["source"] == f"inspector:{mr}"
    parked = vkit.get(mr)
    assert "mq:parked" in parked["labels"] and "vermas inspect resolve" in parked["description"]
    # the polecat resubmits; the judge works again: the verdict on the new request settles the escalation
    vkit.set("verify.runtime.judge", "sim")
    mr2 = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT, "README.md": "# sample\n\nFizzBuzz.\n"})
    assert vkit.refine()["merged"] == [mr2]
    assert vkit.escalations() == []


def test_a_chore_without_a_spec_merges_on_the_gates_alone(vkit):
    bead = vkit.bead("Tidy the README", kind="chore")
    mr = vkit.submit_work(bead, {"README.md": "# sample, tidied\n"})
    assert vkit.refine()["merged"] == [mr]
    [verdict] = vkit.verdicts(bead)
    assert (verdict["verdict"], verdict["rule"]) == ("PASS", "not-required")
