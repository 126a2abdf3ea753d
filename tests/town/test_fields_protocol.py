from __future__ import annotations

from vermas.town import protocol
from vermas.town.fields import format_fields, get_field, parse_fields, set_fields


def test_fields_round_trip_and_injection_safe():
    text = format_fields({"branch": "polecat/nux/ap-1", "target": "main", "empty": "", "evil": "a\nworker: x"})
    assert text == "branch: polecat/nux/ap-1\ntarget: main\nevil: a worker: x"
    fields, rest = parse_fields(text + "\n\nfree text\nmore: not a field")
    assert fields == {"branch": "polecat/nux/ap-1", "target": "main", "evil": "a worker: x"}
    assert rest == "free text\nmore: not a field"
    assert get_field(text, "TARGET") == "main"
    assert set_fields(text, {"target": "dev", "commit_sha": "abc"}).splitlines() == [
        "branch: polecat/nux/ap-1", "target: dev", "evil: a worker: x", "commit_sha: abc"]


def test_polecat_done_round_trip():
    rec = protocol.PolecatDone(polecat="nux", exit="COMPLETED", issue="ap-1", mr="ap-2", branch="b", rig="app")
    assert rec.subject() == "POLECAT_DONE nux"
    parsed = protocol.parse(rec.subject(), rec.body())
    assert isinstance(parsed, protocol.PolecatDone)
    assert (parsed.polecat, parsed.exit, parsed.issue, parsed.mr, parsed.branch, parsed.rig) == \
        ("nux", "COMPLETED", "ap-1", "ap-2", "b", "app")


def test_gastown_bodies_parse():
    body = "Branch: polecat/nux\nIssue: gt-1\nPolecat: nux\nRig: gastown\nTarget: main\n" \
           "Merged-At: 2026-01-01T00:00:00Z\nMerge-Commit: abc123\n"
    rec = protocol.parse("MERGED nux", body)
    assert isinstance(rec, protocol.Merged)
    assert rec.merge_commit == "abc123" and rec.merged_at.startswith("2026") and rec.target == "main"
    help_rec = protocol.parse("HELP: tests fail", "Agent: app/polecats/nux\nIssue: ap-1\nProblem: x\nTried: y")
    assert isinstance(help_rec, protocol.Help) and help_rec.summary == "tests fail" and help_rec.tried == "y"
    nudge = protocol.parse("POLECAT_DONE nux exit=ESCALATED", "")
    assert nudge.polecat == "nux" and nudge.exit == "ESCALATED"
    slot = protocol.parse("SLOT_OPEN: app/nux completed (exit=COMPLETED)", "")
    assert (slot.rig, slot.polecat, slot.exit) == ("app", "nux", "COMPLETED")
    blocked = protocol.parse("SPAWN_BLOCKED ap-9 (respawn limit reached)", "Previous Status: hooked\nRespawns: 3")
    assert blocked.bead == "ap-9" and blocked.previous_status == "hooked" and blocked.respawns == "3"


def test_rework_keeps_instructions_and_unknown_keys():
    rec = protocol.ReworkRequest(polecat="nux", issue="ap-1", failed_criteria="AC-2", notes="check 15 first")
    parsed = protocol.parse(rec.subject(), rec.body() + "")
    assert parsed.failed_criteria == "AC-2" and parsed.notes == "check 15 first"
    odd = protocol.parse("MERGE_READY nux", "Branch: b\nX-Custom: 1\n\nhello")
    assert odd.extra == {"X-Custom": "1"} and odd.notes == "hello"


def test_handoff_and_escalation_subjects():
    h = protocol.Handoff(summary="context full", agent="app/polecats/nux", notes="## Next\nrun tests")
    assert h.subject() == "🤝 HANDOFF: context full"
    assert protocol.message_type(h.subject()) == "HANDOFF"
    assert protocol.parse(h.subject(), h.body()).notes == "## Next\nrun tests"
    assert protocol.message_type("[ESCALATION] disk full") == "ESCALATION"
    assert protocol.message_type("Hello there") is None
    assert protocol.parse("Re: POLECAT_DONE", "") is None
