"""The commands: vermas spec, vermas inspect, vermas eval (in-process CLI on a real town)."""

from __future__ import annotations

import pytest

from tests.verify import fizzbuzz


def test_help_everywhere(vcli):
    for argv in (["spec"], ["spec", "create"], ["spec", "add-criteria"], ["spec", "remove-criteria"], ["spec", "set"],
                 ["spec", "show"], ["spec", "list"], ["spec", "approve"], ["spec", "reopen"], ["spec", "draft"],
                 ["inspect"], ["inspect", "run"], ["inspect", "status"], ["inspect", "show"], ["inspect", "resolve"],
                 ["inspect", "label"], ["inspect", "rework"], ["eval"], ["eval", "verify-accuracy"]):
        r = vcli(*argv, "--help")
        assert r.exit_code == 0 and "usage:" in r.stdout, argv


def test_spec_commands_write_show_and_approve(vcli, vkit):
    bead = vkit.bead("Create FizzBuzz")
    r = vcli("spec", "create", bead, "--threshold", "80%", "--json")
    assert r.exit_code == 0, r.stderr
    spec_id = r.json()["id"]
    assert spec_id == bead.replace("ap-", "ap-spec-") and r.json()["threshold"] == "80%"
    assert vcli("spec", "create", bead).exit_code == 5
    r = vcli("spec", "add-criteria", spec_id, "--description", "prints 100 lines")
    assert r.exit_code == 2 and "--verify" in r.stderr
    r = vcli("spec", "add-criteria", spec_id, "-d", "prints 100 lines", "--verify", fizzbuzz.CRITERIA[0][2],
             "--timeout", "30", "--json")
    assert r.exit_code == 0 and r.json()["criterion"]["id"] == "AC-1"
    short = spec_id.replace("ap-", "", 1)
    r = vcli("spec", "add-criteria", short, "-d", "exit 3 means done", "--verify", "exit 3", "--expect", "3",
             "--hint", "return 3")
    assert r.exit_code == 0 and "added AC-2 (exit 3 within 60s)" in r.stdout
    assert vcli("spec", "add-criteria", bead, "-d", "readable", "--subjective").exit_code == 0
    assert vcli("spec", "remove-criteria", spec_id, "AC-3").exit_code == 0
    assert vcli("spec", "remove-criteria", spec_id, "AC-9").exit_code == 3
    assert vcli("spec", "set", spec_id, "--threshold", "all").exit_code == 0
    assert vcli("spec", "set", spec_id, "--threshold", "most").exit_code == 2
    ready = vcli("ready", "--rig", "app", "--json").json()
    assert bead not in [i["id"] for i in ready]
    r = vcli("spec", "approve", spec_id, "--actor", "overseer", "--note", "ok")
    assert r.exit_code == 0 and "as overseer" in r.stdout
    assert vcli("spec", "approve", spec_id).exit_code == 5
    assert vcli("spec", "add-criteria", spec_id, "-d", "late", "--verify", "true").exit_code == 5
    assert bead in [i["id"] for i in vcli("ready", "--rig", "app", "--json").json()]
    shown = vcli("spec", "show", bead, "--json").json()
    assert shown["state"] == "approved" and shown["approved_by"] == "overseer" and shown["work"]["id"] == bead
    assert [c["id"] for c in shown["criteria"]] == ["AC-1", "AC-2"]
    assert shown["criteria"][1] == {"id": "AC-2", "description": "exit 3 means done", "verify_command": "exit 3",
                                    "expected_exit_code": 3, "timeout_seconds": 60, "objective": True,
                                    "hint": "return 3"}
    text = vcli("spec", "show", spec_id).stdout
    assert "[approved by overseer" in text and "$ exit 3" in text and "if it fails: return 3" in text
    listed = vcli("spec", "list", "--rig", "app", "--json").json()
    assert [(s["id"], s["state"], s["criteria"]) for s in listed] == [(spec_id, "approved", 2)]
    r = vcli("spec", "reopen", spec_id, "--reason", "add a check")
    assert r.exit_code == 0 and bead not in [i["id"] for i in vcli("ready", "--rig", "app", "--json").json()]
    assert vcli("spec", "show", "ap-nope").exit_code == 3
    other = vkit.bead("no spec yet")
    r = vcli("spec", "show", other)
    assert r.exit_code == 3 and f"vermas spec create {other}" in r.stderr


def test_spec_draft_asks_the_designer_then_the_strategist(vcli, vkit):
    bead = vkit.bead("Create FizzBuzz", "What it must do:\n- prints 100 lines: `test $(python fizzbuzz.py | wc -l) "
                     "-eq 100`\n- line 15 is FizzBuzz: `python fizzbuzz.py | sed -n 15p | grep -qx FizzBuzz`\n"
                     "- the code reads well\n- Constraint: standard library only\n")
    r = vcli("spec", "draft", bead, "--dry-run", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["written"] is False and data["spec"] is None
    assert [c["verify_command"] for c in data["criteria"]] == [
        "test $(python fizzbuzz.py | wc -l) -eq 100", "python fizzbuzz.py | sed -n 15p | grep -qx FizzBuzz"]
    assert data["untestable"] == ["the code reads well"]
    assert data["requirements"]["constraints"] == ["standard library only"]
    assert vcli("spec", "show", bead).exit_code == 3  # nothing written
    r = vcli("spec", "draft", bead)
    assert r.exit_code == 0 and "(draft)" in r.stdout and "untestable" in r.stdout
    shown = vcli("spec", "show", bead, "--json").json()
    assert shown["state"] == "draft" and len(shown["criteria"]) == 2
    assert shown["requirements"]["functional"][0].startswith("R1: prints 100 lines")
    assert vcli("spec", "draft", bead).exit_code == 0  # adds after the existing ones
    assert [c["id"] for c in vcli("spec", "show", bead, "--json").json()["criteria"]] == ["AC-1", "AC-2", "AC-3",
                                                                                          "AC-4"]
    assert vcli("spec", "draft", bead, "--replace").exit_code == 0
    assert len(vcli("spec", "show", bead, "--json").json()["criteria"]) == 2
    vkit.runtime("sim-noise", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "garbage-output"}})
    vkit.set_town("verify.runtime.designer", "sim-noise")
    r = vcli("spec", "draft", bead)
    assert r.exit_code == 1 and "designer (sim-noise) gave no usable answer: garbage" in r.stderr


@pytest.mark.slow
def test_inspect_run_show_status_label_and_accuracy(vcli, vkit):
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    r = vcli("inspect", "run", bead)
    assert r.exit_code == 3 and "--commit" in r.stderr  # nothing submitted yet
    r = vcli("inspect", "run", bead, "--commit", "main", "--objective-only", "--json")
    assert r.exit_code == 1 and r.json()["verdict"] == "FAIL"  # the criteria fail before the work: a good spec
    mr = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.WRONG})
    r = vcli("inspect", "run", mr, "--json")
    assert r.exit_code == 1, r.stderr
    data = r.json()
    assert data["mr"] == mr and data["verdict"] == "FAIL" and data["failed_criteria"] == ["AC-2", "AC-8"]
    assert set(data["panel"]) == {"advocate", "critic", "judge"} and data["panel"]["judge"]["ok"]
    text = vcli("inspect", "show", bead).stdout
    assert "verdict: FAIL" in text and "check 15 first" in text and "judge (sim): FAIL" in text
    assert "AC-2   fail" in text
    status = vcli("inspect", "status", "--json").json()
    assert [(row["bead"], row["verdict"]) for row in status["latest"]] == [(bead, "FAIL")]
    one = vcli("inspect", "status", bead, "--json").json()
    assert one["spec"]["state"] == "approved" and len(one["runs"]) == 2 and one["merge_requests"][0]["id"] == mr
    mr2 = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT})
    r = vcli("inspect", "run", bead, "--audit")  # the newest open request, with an auditor review
    assert r.exit_code == 0 and "PASS" in r.stdout and "panel auditor" in r.stdout
    assert vcli("inspect", "show", bead, "--json").json()["mr_id"] == mr2
    first_run = vcli("inspect", "status", bead, "--json").json()["runs"][1]["run_id"]
    assert vcli("inspect", "show", bead, "--run", first_run, "--json").json()["verdict"] == "FAIL"
    assert vcli("inspect", "label", bead, "correct").exit_code == 0
    result = vcli("inspect", "status", bead, "--json").json()["runs"][1]["id"]
    assert vcli("inspect", "label", bead, "incorrect", "--result", result, "--note", "AC-2 was right").exit_code == 0
    acc = vcli("eval", "verify-accuracy", "--json").json()
    assert (acc["verdicts"], acc["labelled"], acc["correct"], acc["accuracy"]) == (3, 2, 1, 0.5)
    assert acc["false_positive_rate"] == 1.0 and acc["false_negative_rate"] == 0.0
    assert "accuracy: 50.0%" in vcli("eval", "verify-accuracy").stdout
    kinds = {e["event_type"] for e in vkit.events()}
    assert {"verify.labeled", "verify.auditor", "verify.spec_approved"} <= kinds


@pytest.mark.slow
def test_resolve_fail_sends_a_parked_request_back_through_the_refinerys_rework_path(vcli, vkit):
    vkit.runtime("sim-garbage", {"extends": "sim", "env": {"VERMAS_SIM_FAULTS": "garbage-verdict"}})
    vkit.set_town("verify.runtime.judge", "sim-garbage")
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    mr = vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT}, name="nux")
    summary = vkit.refine()
    assert summary["parked"] == [mr]
    waiting = vcli("inspect", "status").stdout
    assert "waiting for a human" in waiting and f"vermas inspect resolve {bead}" in waiting
    r = vcli("inspect", "resolve", bead, "--verdict", "FAIL", "--reason", "use a lookup table",
             "--fix", "AC-2: precompute the words", "--no-resling", "--actor", "overseer", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["action"] == "rejected" and data["source"] == "hooked" and len(data["escalations_closed"]) == 1
    assert vkit.get(mr)["status"] == "closed" and "rejected_stage: inspector" in vkit.get(mr)["description"]
    after = vkit.get(bead)
    assert after["status"] == "hooked" and after["assignee"] == "app/polecats/nux" and "rework" in after["labels"]
    context = [c["text"] for c in after["comments"] if c["text"].startswith(f"[refinery] REWORK {mr}")]
    assert context and "precompute the words" in context[0]
    assert any("precompute the words" in m["description"] for m in vkit.mails("REWORK_REQUEST"))
    last = vkit.verdicts(bead)[-1]
    assert (last["verdict"], last["human"], last["created_by"]) == ("FAIL", True, "overseer")
    assert vcli("inspect", "resolve", bead, "--verdict", "MAYBE", "--reason", "x").exit_code == 2


def test_sling_rework_needs_failure_context(vcli, vkit):
    bead = vkit.bead("x")
    vkit.spec(bead, [("AC-1", "true", "true", "")])
    r = vcli("sling", bead, "app", "--rework")
    assert r.exit_code == 2 and "no failure context" in r.stderr
    with vkit.ledger() as ledger:
        spec_id = ledger.get(bead)["dependencies"][0]["depends_on_id"]
    r = vcli("sling", spec_id, "app", "--force", "--reason", "x")
    assert r.exit_code == 2 and "test-spec" in r.stderr


@pytest.mark.slow
def test_inspect_run_track_records_the_run_as_a_mol_inspect_verify_wisp(vcli, vkit):
    bead = vkit.bead("Create FizzBuzz", fizzbuzz.bead_description())
    vkit.spec(bead)
    vkit.submit_work(bead, {"fizzbuzz.py": fizzbuzz.CORRECT})
    r = vcli("inspect", "run", bead, "--track", "--objective-only", "--json")
    assert r.exit_code == 0, r.stderr
    molecule = r.json()["molecule"]
    assert molecule["errors"] == [] and molecule["id"].startswith("ap-wisp-")
    listed = vcli("list", "--rig", "app", "--all", "--json").json()
    digests = [i for i in listed if i["title"] == "Digest: mol-inspect-verify"]
    assert len(digests) == 1 and digests[0]["status"] == "closed"  # every step finished, the wisp was squashed
    events = [e for e in vkit.events("mol.") if e["event_type"] == "mol.step_completed"]
    assert {"load-spec", "checkout", "verifier", "rules", "record", "route"} <= {
        e["data"].get("key") or e["data"].get("step_key") or e["data"].get("step") for e in events}
