"""Prompts of the Inspector roles, in the contract every runtime (and ``vermas-sim -p``) answers.

A prompt is a role line (``ROLE: judge``), the role's instructions, the JSON shape to answer
with, and one fenced block tagged ``evidence`` holding a JSON object (docs/SIM_AGENT.md,
"Headless mode: the Inspector contract"). Evidence shape::

    {"bead": {"id", "title", "description"},
     "spec": {"id", "threshold"},
     "requirements": ["…"],
     "criteria": [{"id", "description", "verify_command", "expected_exit_code", "objective",
                   "fix_hint", "result": {"status", "exit_code", "stdout", "stderr", "duration_ms"}}],
     "threshold": "all" | "80%",
     "diff": "…", "files": [...], "commits": [...], "integrity": [...], "suspicious": [...],
     "audit": {…}, "briefs": {"advocate": {…}, "critic": {…}}}

Outputs in the evidence are cut to :data:`OUTPUT_CHARS` per stream.
"""

from __future__ import annotations

import json

OUTPUT_CHARS = 2000

INSTRUCTIONS = {
    "designer": (
        "You are the designer of the VerMAS Inspector. Turn the work bead below into precise requirements: "
        "functional (what it must do), non-functional (quality bars), constraints and examples, then one "
        "acceptance criterion per requirement. Be concrete and testable; do not invent scope.",
        '{"role": "designer", "requirements": {"functional": ["R1: …"], "non_functional": [], "constraints": [], '
        '"examples": []}, "acceptance_criteria": [{"id": "AC-1", "description": "…"}]}'),
    "strategist": (
        "You are the strategist of the VerMAS Inspector. For each requirement give ONE deterministic shell "
        "command that exits 0 when the requirement is met and non-zero otherwise, run from the repository root. "
        "Prefer exact output checks (grep -qx, diff) over loose ones; cover the critical paths only. List "
        "requirements no command can decide as untestable (a human will mark them subjective).",
        '{"role": "strategist", "criteria": [{"id": "AC-1", "description": "…", "verify_command": "…", '
        '"expected_exit_code": 0, "timeout_seconds": 60}], "untestable": ["…"]}'),
    "auditor": (
        "You are the auditor of the VerMAS Inspector. For every criterion marked \"objective\": false (all of "
        "them if none is), decide PASS or FAIL from the evidence and the diff alone, quoting the evidence you "
        "rely on. Do not re-judge objective criteria: their exit codes already decided them.",
        '{"role": "auditor", "findings": [{"criterion_id": "AC-n", "verdict": "PASS|FAIL", "evidence": '
        '"<quoted output or code>", "reasoning": "…"}], "verdict": "PASS|FAIL|NEEDS_HUMAN", "confidence": 0.0}'),
    "advocate": (
        "You are the advocate of the VerMAS Inspector: make the strongest honest case that this change should "
        "be merged, from the criteria results, the audit and the diff. Cite evidence. Do not defend what the "
        "evidence shows to be broken.",
        '{"role": "advocate", "position": "FOR", "arguments": ["…"], "evidence_cited": ["AC-1"], '
        '"confidence": 0.0, "summary": "…"}'),
    "critic": (
        "You are the critic of the VerMAS Inspector: make the strongest honest case that this change must NOT "
        "be merged — failing criteria, bugs, security problems, missing tests, changes outside the task. Cite "
        "evidence. Do not invent concerns the evidence does not support.",
        '{"role": "critic", "position": "AGAINST", "arguments": ["…"], "evidence_cited": ["AC-2"], '
        '"confidence": 0.0, "summary": "…"}'),
    "judge": (
        "You are the judge of the VerMAS Inspector. Weigh the criteria results (objective exit codes first), "
        "the audit and both briefs, and rule. PASS only when the success threshold is met and you are "
        "confident the change does what the bead asks; FAIL when a criterion or a real defect says otherwise, "
        "with one concrete required fix per problem (what to change, not just what failed); NEEDS_HUMAN when "
        "the evidence cannot decide. Confidence is 0.0–1.0.",
        '{"verdict": "PASS|FAIL|NEEDS_HUMAN", "confidence": 0.0, "reasoning": "…", "required_fixes": ["…"]}'),
}


def build(role: str, evidence: dict) -> str:
    """The prompt for ``role`` with ``evidence`` (a JSON-serialisable dict)."""
    instructions, shape = INSTRUCTIONS[role]
    body = json.dumps(evidence, indent=1, ensure_ascii=False, default=str)
    return (f"ROLE: {role}\n{instructions}\n\nAnswer with ONE JSON object and nothing else, shaped like:\n{shape}\n\n"
            f"```evidence\n{body}\n```\n")


def _cut(text: str, limit: int = OUTPUT_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit // 4] + "\n…\n" + text[-(limit * 3 // 4):]


def criterion_view(result: dict) -> dict:
    """A verifier result as the panel sees it (outputs cut)."""
    view = {"id": result["id"], "description": result.get("description", ""),
            "verify_command": result.get("verify_command", ""),
            "expected_exit_code": result.get("expected_exit_code", 0), "objective": result.get("objective", True),
            "result": {"status": result.get("status"), "exit_code": result.get("exit_code"),
                       "stdout": _cut(result.get("stdout", "")), "stderr": _cut(result.get("stderr", "")),
                       "duration_ms": result.get("duration_ms")}}
    if result.get("hint"):
        view["fix_hint"] = result["hint"]
    if result.get("error"):
        view["result"]["error"] = result["error"]
    if result.get("audit"):
        view["audit"] = result["audit"]
    return view


def requirement_lines(requirements: dict) -> list[str]:
    out: list[str] = []
    for key in ("functional", "non_functional", "constraints"):
        values = requirements.get(key) or []
        if isinstance(values, list):
            out += [str(v) for v in values]
    return out
