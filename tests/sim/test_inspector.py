"""Deterministic Inspector answers from the evidence in the prompt (the contract the Inspector builds on)."""

from __future__ import annotations

import json

import pytest

from vermas.sim import inspector


def prompt(role: str, evidence: dict, preamble: str = "") -> str:
    return f"{preamble}ROLE: {role}\nSome instructions.\n\n```evidence\n{json.dumps(evidence)}\n```\n"


FIZZ = [
    {"id": "AC-1", "description": "prints 100 lines", "verify_command": "python fizzbuzz.py | wc -l | grep -q 100",
     "result": {"status": "pass", "exit_code": 0, "stdout": "", "stderr": ""}},
    {"id": "AC-2", "description": "line 15 is FizzBuzz", "fix_hint": "check 15 first",
     "verify_command": "python fizzbuzz.py | sed -n 15p | grep -qx FizzBuzz",
     "result": {"status": "fail", "exit_code": 1, "stdout": "Fizz", "stderr": ""}},
    {"id": "AC-3", "description": "line 9 is Fizz", "passed": True},
    {"id": "AC-4", "description": "line 10 is Buzz", "exit_code": 0},
]


def test_parse_prompt_role_and_evidence():
    assert inspector.parse_prompt(prompt("Judge", {"a": 1})) == ("judge", {"a": 1})
    assert inspector.parse_prompt("You are the critic.\n```json\n{\"b\": 2}\n```") == ("critic", {"b": 2})
    assert inspector.parse_prompt("no role\n```evidence\nnot json\n```") == (None, {})


def test_judge_fails_a_failed_objective_criterion_with_the_fix_hint():
    answer = inspector.respond(prompt("judge", {"criteria": FIZZ}))
    assert answer["verdict"] == "FAIL" and answer["confidence"] == 0.9
    assert answer["required_fixes"] == ["AC-2: line 15 is FizzBuzz — check 15 first"]
    assert "3/4 criteria passed" in answer["reasoning"] and "AC-2" in answer["reasoning"]


def test_judge_passes_when_everything_passes_and_respects_thresholds():
    passing = [dict(c, result={"status": "pass", "exit_code": 0}) for c in FIZZ]
    assert inspector.respond(prompt("judge", {"criteria": passing})) == {
        "verdict": "PASS", "confidence": 0.95, "reasoning": "4/4 criteria passed (threshold 100%).",
        "required_fixes": []}
    partial = inspector.respond(prompt("judge", {"criteria": FIZZ, "threshold": "75%"}))
    assert partial["verdict"] == "PASS" and partial["confidence"] == 0.75
    assert inspector.respond(prompt("judge", {"criteria": FIZZ, "threshold": 0.8}))["verdict"] == "FAIL"
    timed_out = [{"id": "AC-1", "description": "hangs", "result": {"status": "timeout"}}]
    answer = inspector.respond(prompt("judge", {"criteria": timed_out}))
    assert answer["verdict"] == "FAIL" and "status timeout" in answer["reasoning"]


def test_judge_needs_a_human_without_evidence():
    answer = inspector.respond(prompt("judge", {}))
    assert answer["verdict"] == "NEEDS_HUMAN" and answer["confidence"] < 0.7


def test_advocate_critic_auditor():
    ev = {"criteria": FIZZ}
    adv = inspector.respond(prompt("advocate", ev))
    assert adv["position"] == "FOR" and adv["evidence_cited"] == ["AC-1", "AC-3", "AC-4"] and adv["confidence"] == 0.75
    crit = inspector.respond(prompt("critic", ev))
    assert crit["position"] == "AGAINST" and crit["evidence_cited"] == ["AC-2"]
    assert "expected exit 0, got exit 1" in crit["arguments"][0] and "output: Fizz" in crit["arguments"][0]
    aud = inspector.respond(prompt("auditor", ev))
    assert aud["verdict"] == "FAIL" and [f["verdict"] for f in aud["findings"]] == ["PASS", "FAIL", "PASS", "PASS"]
    assert aud["findings"][1]["evidence"] == "Fizz"
    subjective = inspector.respond(prompt("auditor", {"criteria": [dict(FIZZ[0], objective=False), FIZZ[1]]}))
    assert [f["criterion_id"] for f in subjective["findings"]] == ["AC-1"]


def test_designer_and_strategist():
    bead = {"id": "app-f1", "title": "FizzBuzz", "description": (
        "Write fizzbuzz.py.\n\n- prints 100 lines: `python fizzbuzz.py | wc -l | grep -q 100`\n"
        "- multiples of 15 print FizzBuzz\n* Constraint: no dependencies\n1. Example: line 3 is Fizz\n"
        "- Non-functional: runs under a second\n")}
    design = inspector.respond(prompt("designer", {"bead": bead}))
    req = design["requirements"]
    assert req["functional"] == ["R1: prints 100 lines: `python fizzbuzz.py | wc -l | grep -q 100`",
                                 "R2: multiples of 15 print FizzBuzz"]
    assert req["constraints"] == ["no dependencies"] and req["examples"] == ["line 3 is Fizz"]
    assert req["non_functional"] == ["runs under a second"]
    assert [c["id"] for c in design["acceptance_criteria"]] == ["AC-1", "AC-2"]
    strategy = inspector.respond(prompt("strategist", {"requirements": req}))
    command = "python fizzbuzz.py | wc -l | grep -q 100"
    assert strategy["criteria"] == [{"id": "AC-1", "description": f"prints 100 lines: {command}",
                                     "verify_command": command, "expected_exit_code": 0, "timeout_seconds": 60}]
    assert strategy["untestable"] == ["multiples of 15 print FizzBuzz"]
    assert inspector.respond(prompt("designer", {"bead": {"title": "Only a title"}}))["requirements"]["functional"] == \
        ["R1: Only a title"]


@pytest.mark.parametrize("role", [None, "janitor"])
def test_unknown_roles_get_an_error_object(role):
    text = prompt(role, {}) if role else "no role line at all"
    answer = inspector.respond(text)
    assert "error" in answer and "unknown Inspector role" in answer["error"]
