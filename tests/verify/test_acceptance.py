"""End to end with simulated agents, real tmux and git, the refinery daemon: the FizzBuzz dry run and friends.

Nothing here plays a part by hand: the overseer writes the bead and its spec and slings it;
a sim polecat works in its own tmux session and runs ``vermas done``; the refinery daemon (its
own tmux session) rebases, runs the Inspector stage (verifier + sim panel) and routes.
"""

from __future__ import annotations

import time

import pytest

from tests.verify import fizzbuzz

pytestmark = pytest.mark.slow

WAIT = 240.0  # generous: the machine is shared


def wait_for(predicate, what: str, timeout: float = WAIT, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


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
