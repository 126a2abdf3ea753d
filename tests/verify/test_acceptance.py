"""End to end with simulated agents, real tmux and git, the refinery daemon: the FizzBuzz dry run and friends.

Nothing here plays a part by hand: the overseer writes the bead and its spec and slings it;
a sim polecat works in its own tmux session and runs ``vermas done``; the refinery daemon (its
own tmux session) rebases, runs the Inspector stage (verifier + sim panel) and routes.
"""

from __future__ import annotations

import json

import pytest

from tests.support import poll
from tests.verify import fizzbuzz

pytestmark = pytest.mark.slow

WAIT = 240.0  # generous: the machine is shared


def wait_for(predicate, what: str, timeout: float = WAIT, interval: float = 0.25):
    return poll(predicate, timeout=timeout, interval=interval, what=what)


@pytest.fixture
def e2e(vkit, vcli, monkeypatch):
    """The kit with sim polecats (no work formula) and a running refinery daemon; stopped afterwards."""
    from vermas.roles.refinery import daemon

    monkeypatch.delenv("VERMAS_VERIFY_RESLING")  # the real thing: FAIL re-slings the polecat
    vkit.set_town("polecats.formula", "none")
    vkit.set("merge.poll_interval", 0.3)
    yield vkit
    try:
        daemon.stop(vkit.town, vkit.rig, timeout=10)
    except Exception:
        pass


def start_refinery(kit) -> None:
    from vermas.roles.refinery import daemon

    daemon.start(kit.town, kit.rig, wait=60)


def write_spec_with_cli(vcli, bead: str) -> str:
    r = vcli("spec", "create", bead, "--json")
    assert r.exit_code == 0, r.stderr
    spec_id = r.json()["id"]
    for cid, description, command, hint in fizzbuzz.CRITERIA:
        args = ["spec", "add-criteria", spec_id, "--id", cid, "--description", description, "--verify", command]
        if hint:
            args += ["--hint", hint]
        r = vcli(*args)
        assert r.exit_code == 0, r.stderr
    assert vcli("spec", "approve", spec_id, "--actor", "overseer").exit_code == 0
    return spec_id


def test_fizzbuzz_correct_passes_and_merges(e2e, vcli):
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description())
    write_spec_with_cli(vcli, bead)
    start_refinery(e2e)
    r = vcli("sling", bead, "app")
    assert r.exit_code == 0, r.stderr
    wait_for(lambda: e2e.get(bead)["status"] == "closed", "the bead to be merged and closed")
    assert e2e.main_file("fizzbuzz.py") == fizzbuzz.CORRECT
    [verdict] = e2e.verdicts(bead)
    assert (verdict["verdict"], verdict["criteria_passed"], verdict["criteria_total"]) == ("PASS", 8, 8)
    assert not e2e.mails("REWORK_REQUEST") and not e2e.escalations()


def test_fizzbuzz_3_before_15_is_reworked_with_check_15_first_and_merges(e2e, vcli):
    e2e.runtime("sim-wrong-first", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "wrong-solution=first"}})
    e2e.set_town("runtime.polecat", "sim-wrong-first")
    e2e.set_town("verify.runtime", "sim")
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description())
    write_spec_with_cli(vcli, bead)
    start_refinery(e2e)
    assert vcli("sling", bead, "app").exit_code == 0
    wait_for(lambda: e2e.get(bead)["status"] == "closed", "the reworked bead to merge")
    # no human acted: the only actors on the bead after sling are the polecat and the refinery
    first, second = e2e.verdicts(bead)
    assert first["verdict"] == "FAIL" and first["failed_criteria"] == ["AC-2", "AC-8"]
    assert any("check 15 first" in fix for fix in first["required_fixes"])
    assert second["verdict"] == "PASS" and second["criteria_passed"] == 8
    assert first["mr"] != second["mr"]
    assert e2e.main_file("fizzbuzz.py") == fizzbuzz.CORRECT
    comments = [c["text"] for c in e2e.get(bead).get("comments", [])]
    rework = [c for c in comments if c.startswith("[refinery] REWORK")]
    assert rework and "check 15 first" in rework[0] and "AC-2" in rework[0]
    assert any("check 15 first" in m["description"] for m in e2e.mails("REWORK_REQUEST"))
    assert not e2e.escalations()
    slings = [e for e in e2e.events("sling.") if e["event_type"] == "sling.rework"]
    assert slings and slings[0]["data"]["mode"] == "restarted"


def _transcript_events(kit, kind: str) -> list[dict]:
    import glob
    import os

    events = []
    for path in glob.glob(os.path.join(kit.root, ".runtime", "sim", "*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == kind:
                    events.append(event)
    return events


def test_a_polecat_that_claims_done_without_work_never_merges(e2e, vcli):
    e2e.runtime("sim-liar", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "claim-done"}})
    e2e.set_town("runtime.polecat", "sim-liar")
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description())
    e2e.spec(bead)
    main_before = e2e.main_commit()
    start_refinery(e2e)
    assert vcli("sling", bead, "app").exit_code == 0
    # the sim ran 'vermas done' without doing anything; done refused an empty branch
    done = wait_for(lambda: _transcript_events(e2e, "done"), "the polecat's done attempt")
    assert done[0]["exit"] != 0
    assert _transcript_events(e2e, "fault")[0]["kind"] == "claim-done"
    assert vcli("refinery", "run", "--rig", "app", "--once").exit_code == 5  # the daemon holds the queue
    assert e2e.merge_requests() == []
    assert e2e.main_commit() == main_before and e2e.main_file("fizzbuzz.py") is None
    assert e2e.get(bead)["status"] != "closed"


def test_a_garbage_verdict_is_needs_human_escalated_parked_then_resolved_by_a_human(e2e, vcli):
    e2e.runtime("sim-garbage", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "garbage-verdict"}})
    e2e.set_town("verify.runtime.judge", "sim-garbage")
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description())
    e2e.spec(bead)
    start_refinery(e2e)
    assert vcli("sling", bead, "app").exit_code == 0
    escalation = wait_for(lambda: e2e.escalations(), "the escalation to the mayor")[0]
    assert escalation["related_bead"] == bead and "inspect resolve" in escalation["details"]
    [parked] = wait_for(lambda: [m for m in e2e.merge_requests() if "mq:parked" in (m.get("labels") or [])],
                        "the parked merge request")
    assert "parked_stage: inspector" in parked["description"]
    [verdict] = e2e.verdicts(bead)
    assert verdict["verdict"] == "NEEDS_HUMAN" and verdict["rule"] == "panel"
    assert e2e.main_file("fizzbuzz.py") is None and e2e.get(bead)["status"] != "closed"
    mayor_mail = e2e.mails("ESCALATION")
    assert any(m["assignee"] == "mayor/" for m in mayor_mail)
    # a human decides; the request is unparked and merges (its objective criteria are re-run first)
    r = vcli("inspect", "resolve", bead, "--verdict", "PASS", "--reason", "read the code: it is right",
             "--actor", "overseer", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["action"] == "unparked" and r.json()["escalations_closed"] == [escalation["id"]]
    wait_for(lambda: e2e.get(bead)["status"] == "closed", "the resolved bead to merge")
    assert e2e.main_file("fizzbuzz.py") == fizzbuzz.CORRECT
    last = e2e.verdicts(bead)[-1]
    assert last["verdict"] == "PASS" and last["decided_by"] == "human" and last["criteria_passed"] == 8
    assert not e2e.escalations()


def test_a_hanging_criterion_times_out_and_fails(e2e, vcli, monkeypatch):
    import subprocess

    monkeypatch.setenv("VERMAS_VERIFY_RESLING", "0")  # one round: the rework loop is tested above
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description(wrong=None))
    criteria = [*fizzbuzz.CRITERIA[:2], ("AC-3", "a check that never ends", "sleep 987.654 & sleep 987.654", "",
                                         True, 2.0)]
    e2e.spec(bead, criteria)
    start_refinery(e2e)
    assert vcli("sling", bead, "app").exit_code == 0
    verdict = wait_for(lambda: e2e.verdicts(bead), "the verdict")[0]
    assert verdict["verdict"] == "FAIL" and verdict["failed_criteria"] == ["AC-3"]
    [result] = [r for r in _latest_results(e2e, bead) if r["id"] == "AC-3"]
    assert result["status"] == "timeout" and result["exit_code"] is None
    assert result["error"] == "timed out after 2s (process group killed)"
    assert subprocess.run(["pgrep", "-f", "sleep 987.654"], capture_output=True).returncode == 1  # group killed
    wait_for(lambda: e2e.merge_requests() and all(m["status"] == "closed" for m in e2e.merge_requests()),
             "the request to be rejected")
    assert e2e.main_file("fizzbuzz.py") is None


def _latest_results(kit, bead: str) -> list[dict]:
    import os

    with open(os.path.join(kit.paths.beads_dir, "evidence", bead, "results.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_sling_refuses_work_without_an_approved_spec_and_force_reason_is_recorded(e2e, vcli):
    e2e.runtime("idle", {"command": "bash", "args": ["-c", "sleep 3600", "idle"], "prompt_mode": "arg",
                         "ready_delay_ms": 0})
    e2e.set_town("runtime.default", "idle")
    bead = e2e.bead("Create FizzBuzz app in Python", fizzbuzz.bead_description())
    r = vcli("sling", bead, "app")
    assert r.exit_code == 5 and "has no test spec" in r.stderr and f"vermas spec create {bead}" in r.stderr
    spec_id = e2e.spec(bead, approve=False)
    r = vcli("sling", bead, "app")
    assert r.exit_code == 5 and f"{spec_id} is not approved" in r.stderr and f"spec approve {spec_id}" in r.stderr
    assert e2e.get(bead)["status"] == "open" and "gate-bypass" not in (e2e.get(bead).get("labels") or [])
    r = vcli("sling", bead, "app", "--force")
    assert r.exit_code == 2 and "--reason" in r.stderr
    r = vcli("sling", bead, "app", "--force", "--reason", "hotfix: spec follows", "--actor", "mayor", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["gate_bypassed"] == [bead] and r.json()["results"][0]["status"] == "started"
    after = e2e.get(bead)
    assert after["status"] == "hooked" and "gate-bypass" in after["labels"]
    assert any(c["text"].startswith("GATE_BYPASS: hotfix: spec follows (by mayor") for c in after["comments"])
    [event] = [e for e in e2e.events("sling.gate_bypass")]
    assert event["data"]["by"] == "mayor" and event["data"]["reason"] == "hotfix: spec follows"
    assert event["data"]["spec_state"] == "draft"
    # an approved spec passes the gate without --force
    other = e2e.bead("Another feature")
    e2e.spec(other, [("AC-1", "true", "true", "")])
    r = vcli("sling", other, "app", "--json")
    assert r.exit_code == 0 and r.json()["gate_bypassed"] == []
