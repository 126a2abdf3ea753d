"""The gate stage interface: PASS / FAIL / NEEDS_HUMAN, parking, providers, timeouts, broken stages."""

from __future__ import annotations

import pytest

from tests.roles.stagekit import DecidedStage, ExplodingStage
from vermas.errors import DataError
from vermas.roles.refinery.settings import RefinerySettings
from vermas.roles.refinery.stages import CommandStage, StageHost, load_stages


def test_needs_human_parks_the_request_until_a_human_resolves_it(kit, tmp_path, cli):
    decisions = tmp_path / "decisions"
    decisions.mkdir()
    env = {"VERMAS_REFINERY_STAGES": "tests.roles.stagekit:provider", "STAGEKIT_DIR": str(decisions)}
    environ = {**__import__("os").environ, **env}
    kit.set("gates.test", "./check.sh")
    _cat, source, mr = kit.work("nux", {"fizz.py": "print('fizz')\n"}, "FizzBuzz")
    before = kit.main()

    summary = kit.run_once(environ=environ)

    assert summary["parked"] == [mr] and summary["merged"] == [] and summary["rework"] == []
    bead = kit.bead(mr)
    assert bead["status"] == "open" and "mq:parked" in bead["labels"]
    assert "parked_stage: inspector" in bead["description"]
    assert kit.main() == before
    assert kit.bead(source)["status"] == "in_progress"  # not sent back: nobody blamed the polecat
    assert len(kit.mails("ESCALATION: NEEDS_HUMAN on merge request")) == 1

    # Parked requests wait: another run changes nothing and mails nobody again.
    assert kit.run_once(environ=environ)["parked"] == []
    assert len(kit.mails("ESCALATION: NEEDS_HUMAN")) == 1
    r = cli("mq", "status", "--town", kit.town.root, "--rig", "app", "--json")
    assert r.exit_code == 0, r.stderr
    [parked] = r.json()["parked"]
    assert parked["id"] == mr and parked["parked_stage"] == "inspector"
    assert "below 0.7" in parked["parked_reason"]

    # The human decides PASS and re-queues it.
    (decisions / source).write_text("PASS")
    r = cli("mq", "retry", mr, "--town", kit.town.root, "--rig", "app")
    assert r.exit_code == 0, r.stderr
    assert "unparked" in r.stdout
    assert kit.run_once(environ=environ)["merged"] == [mr]
    assert kit.show("fizz.py") == "print('fizz')"


def test_inspector_fail_sends_failed_criteria_and_required_fixes(kit, tmp_path):
    (tmp_path / "d").mkdir()
    _cat, source, mr = kit.work("nux", {"fizz.py": "print('fizz')\n"}, "FizzBuzz")
    (tmp_path / "d" / source).write_text("FAIL")
    refinery = kit.refinery(stages=[DecidedStage(str(tmp_path / "d"))])
    try:
        report = refinery.run_round()
    finally:
        refinery.close()
    assert report.rework == [mr]
    [mail] = [m for m in kit.mails("REWORK_REQUEST nux") if m["assignee"] == "app/nux"]
    assert "Failed-Criteria: AC-2" in mail["description"]
    assert "- check 15 first" in mail["description"]
    comments = "\n".join(c["text"] for c in kit.bead(source)["comments"])
    assert "check 15 first" in comments


def test_a_stage_that_raises_never_passes(kit):
    _cat, _source, mr = kit.work("nux", {"a.py": "A = 1\n"}, "a")
    refinery = kit.refinery(stages=[ExplodingStage()])
    try:
        report = refinery.run_round()
    finally:
        refinery.close()
    assert report.parked == [mr] and report.merged == []
    assert "RuntimeError: the LLM CLI crashed" in kit.bead(mr)["description"]


def test_gate_timeout_is_a_failure_and_kills_the_gate(kit, tmp_path):
    kit.set("gates.timeout", 1)
    pidfile = tmp_path / "gate.pid"
    kit.set("gates.test", f"if [ -e hang ]; then echo $$ > {pidfile}; sleep 60; fi")
    _cat, _source, mr = kit.work("nux", {"hang": "x\n"}, "hang forever")

    summary = kit.run_once()

    assert summary["rework"] == [mr]
    assert "timed out after 1s" in kit.bead(mr)["comments"][-1]["text"]
    from vermas.roles.refinery.daemon import pid_alive

    assert not pid_alive(int(pidfile.read_text()))


def test_stage_providers_are_loaded_from_the_environment(kit, tmp_path):
    settings = RefinerySettings(gates=(("lint", "true"), ("test", "./check.sh")), verify_enabled=False)
    host = StageHost(kit.town.root, "app", settings, {"VERMAS_REFINERY_STAGES": "tests.roles.stagekit:provider",
                                                        "STAGEKIT_DIR": str(tmp_path)})
    stages = load_stages(host)
    assert [s.name for s in stages] == ["lint", "test", "inspector"]
    assert isinstance(stages[0], CommandStage)
    with pytest.raises(DataError, match="cannot be loaded"):
        load_stages(StageHost(kit.town.root, "app", settings, {"VERMAS_REFINERY_STAGES": "no.such.module:f"}))
    with pytest.raises(DataError, match="share the name"):
        load_stages(StageHost(kit.town.root, "app", RefinerySettings(gates=(("test", "a"),)),
                              {"VERMAS_REFINERY_STAGES": "tests.roles.stagekit:provider,tests.roles.stagekit:provider",
                               "STAGEKIT_DIR": str(tmp_path)}))


def test_bad_settings_are_reported_with_their_source(kit):
    kit.set("merge.strategy", "rebase-and-pray")
    with pytest.raises(DataError, match=r"merge.strategy = 'rebase-and-pray' \(from rig\)"):
        RefinerySettings.load(kit.town, "app")
