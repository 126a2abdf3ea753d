"""Deterministic answers to Inspector prompts, computed only from the evidence in the prompt.

**Prompt contract** (what the Inspector sends; see docs/SIM_AGENT.md):

- a role line, ``ROLE: <designer|strategist|auditor|advocate|critic|judge>`` (case-insensitive;
  ``You are the <role>`` also works);
- one fenced block tagged ``evidence`` (or ``json``) holding a JSON object::

      {"bead": {"id", "title", "description"},
       "requirements": ["…" | {"id", "description"}],
       "criteria": [{"id": "AC-1", "description", "verify_command", "expected_exit_code": 0,
                     "objective": true, "fix_hint": "check 15 first",
                     "result": {"status": "pass|fail|error|timeout", "exit_code", "stdout", "stderr",
                                "duration_ms"}}],
       "threshold": "all" | "80%" | 0.8,
       "diff": "…", "briefs": {"advocate": {…}, "critic": {…}}}

  A criterion passes when ``result.status`` is ``pass``; without a status, when ``passed`` is
  true; without either, when ``result.exit_code`` (or ``exit_code``) equals
  ``expected_exit_code`` (default 0). ``error`` and ``timeout`` are failures.

**Answers** (one JSON object):

- designer → ``{"role", "requirements": {"functional", "non_functional", "constraints", "examples"},
  "acceptance_criteria": [{"id", "description"}]}`` from the bead: bullet lines become
  functional requirements (``Constraint:``/``Example:``/``Non-functional:`` prefixes sort them);
  no bullets → the title;
- strategist → ``{"role", "criteria": [{"id", "description", "verify_command", "expected_exit_code",
  "timeout_seconds"}], "untestable": [...]}``: a requirement with an inline code span
  (`` `cmd` ``) gets that command; the others are listed as untestable;
- auditor → ``{"role", "findings": [{"criterion_id", "verdict", "evidence", "reasoning"}],
  "verdict", "confidence"}`` with quoted output;
- advocate / critic → ``{"role", "position": "FOR"|"AGAINST", "arguments", "evidence_cited",
  "confidence", "summary"}`` from the passing / failing criteria;
- judge → ``{"verdict", "confidence", "reasoning", "required_fixes"}``: no criteria →
  NEEDS_HUMAN (0.3); pass fraction ≥ threshold → PASS (0.95 when all pass, else 0.75);
  otherwise FAIL (0.9) with one required fix per failed criterion (its ``fix_hint`` when given).
"""

from __future__ import annotations

import json
import re

ROLES = ("designer", "strategist", "auditor", "advocate", "critic", "judge")
_ROLE_LINE = re.compile(r"^\s*role\s*:\s*([A-Za-z_-]+)", re.I | re.M)
_YOU_ARE = re.compile(r"\byou are the\s+([A-Za-z_-]+)", re.I)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z0-9_-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def parse_prompt(prompt: str) -> tuple[str | None, dict]:
    """``(role, evidence)`` from an Inspector prompt (role None when absent; evidence {} when absent)."""
    role = None
    match = _ROLE_LINE.search(prompt) or _YOU_ARE.search(prompt)
    if match:
        role = match.group(1).lower()
    evidence: dict = {}
    for fence in _FENCE.finditer(prompt):
        if fence.group(2).lower() in ("evidence", "json", ""):
            try:
                value = json.loads(fence.group(3))
            except ValueError:
                continue
            if isinstance(value, dict):
                evidence = value
                break
    return role, evidence


def respond(prompt: str) -> dict:
    role, evidence = parse_prompt(prompt)
    if role not in ROLES:
        return {"role": role, "error": f"unknown Inspector role {role!r}; expected one of {', '.join(ROLES)}"}
    return ANSWERS[role](evidence)


# ---------------------------------------------------------------- criteria helpers
def _criteria(evidence: dict) -> list[dict]:
    items = evidence.get("criteria")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _result(c: dict) -> dict:
    return c["result"] if isinstance(c.get("result"), dict) else {}


def _exit_code(c: dict) -> int | None:
    value = _result(c).get("exit_code", c.get("exit_code"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def passed(c: dict) -> bool:
    status = _result(c).get("status", c.get("status"))
    if isinstance(status, str):
        return status.lower() == "pass"
    if isinstance(c.get("passed"), bool):
        return c["passed"]
    code = _exit_code(c)
    expected = c.get("expected_exit_code", 0)
    return code is not None and code == expected


def _cid(c: dict, i: int) -> str:
    return str(c.get("id") or f"AC-{i + 1}")


def _quote(c: dict, limit: int = 200) -> str:
    res = _result(c)
    text = str(res.get("stdout", c.get("stdout", "")) or "") + str(res.get("stderr", c.get("stderr", "")) or "")
    text = " ".join(text.split())
    return text[:limit]


def _threshold(evidence: dict) -> float:
    value = evidence.get("threshold", "all")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 100.0 if value > 1 else float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "all"):
            return 1.0
        try:
            return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            return 1.0
    return 1.0


def _failure_line(c: dict, i: int) -> str:
    code = _exit_code(c)
    status = _result(c).get("status", c.get("status"))
    got = f"status {status}" if isinstance(status, str) and status.lower() in ("error", "timeout") else \
        f"exit {code}" if code is not None else "no result"
    return f"{_cid(c, i)} ({c.get('description', '')}): expected exit {c.get('expected_exit_code', 0)}, got {got}"


# ---------------------------------------------------------------- roles
def designer(evidence: dict) -> dict:
    bead = evidence.get("bead") if isinstance(evidence.get("bead"), dict) else {}
    functional, non_functional, constraints, examples = [], [], [], []
    for line in str(bead.get("description") or "").splitlines():
        match = _BULLET.match(line)
        if not match:
            continue
        item = match.group(1)
        low = item.lower()
        if low.startswith("constraint:"):
            constraints.append(item.split(":", 1)[1].strip())
        elif low.startswith("example:"):
            examples.append(item.split(":", 1)[1].strip())
        elif low.startswith(("non-functional:", "nonfunctional:")):
            non_functional.append(item.split(":", 1)[1].strip())
        else:
            functional.append(item)
    if not functional and bead.get("title"):
        functional.append(str(bead["title"]))
    functional = [f"R{i}: {text}" for i, text in enumerate(functional, 1)]
    criteria = [{"id": f"AC-{i}", "description": text.split(": ", 1)[1]} for i, text in enumerate(functional, 1)]
    return {"role": "designer",
            "requirements": {"functional": functional, "non_functional": non_functional,
                             "constraints": constraints, "examples": examples},
            "acceptance_criteria": criteria}


def strategist(evidence: dict) -> dict:
    raw = evidence.get("requirements")
    if isinstance(raw, dict):  # a designer answer passed through
        raw = raw.get("functional")
    if not isinstance(raw, list):
        raw = [c.get("description", "") for c in _criteria(evidence)]
    criteria, untestable = [], []
    for item in raw:
        text = item.get("description", "") if isinstance(item, dict) else str(item)
        text = re.sub(r"^R\d+:\s*", "", text)
        span = _CODE_SPAN.search(text)
        if span:
            description = _CODE_SPAN.sub(lambda m: m.group(1), text).strip()
            criteria.append({"id": f"AC-{len(criteria) + 1}", "description": description,
                             "verify_command": span.group(1).strip(), "expected_exit_code": 0,
                             "timeout_seconds": 60})
        elif text.strip():
            untestable.append(text.strip())
    return {"role": "strategist", "criteria": criteria, "untestable": untestable}


def auditor(evidence: dict) -> dict:
    findings = []
    chosen = [c for c in _criteria(evidence) if c.get("objective") is False] or _criteria(evidence)
    for i, c in enumerate(chosen):
        ok = passed(c)
        findings.append({"criterion_id": _cid(c, i), "verdict": "PASS" if ok else "FAIL",
                         "evidence": _quote(c),
                         "reasoning": ("the check met its expectation" if ok else _failure_line(c, i))})
    verdict = "PASS" if findings and all(f["verdict"] == "PASS" for f in findings) else \
        "NEEDS_HUMAN" if not findings else "FAIL"
    return {"role": "auditor", "findings": findings, "verdict": verdict,
            "confidence": 0.3 if not findings else 0.9}


def advocate(evidence: dict) -> dict:
    criteria = _criteria(evidence)
    good = [(i, c) for i, c in enumerate(criteria) if passed(c)]
    args = [f"{_cid(c, i)} passed: {c.get('description', '')} (exit {_exit_code(c)} as expected)" for i, c in good]
    return {"role": "advocate", "position": "FOR", "arguments": args,
            "evidence_cited": [_cid(c, i) for i, c in good],
            "confidence": round(len(good) / len(criteria), 2) if criteria else 0.0,
            "summary": f"{len(good)} of {len(criteria)} criteria pass"}


def critic(evidence: dict) -> dict:
    criteria = _criteria(evidence)
    bad = [(i, c) for i, c in enumerate(criteria) if not passed(c)]
    args = [_failure_line(c, i) + (f"; output: {_quote(c, 120)}" if _quote(c, 120) else "") for i, c in bad]
    if not criteria:
        args = ["the evidence holds no criteria results: nothing shows the change works"]
    return {"role": "critic", "position": "AGAINST", "arguments": args,
            "evidence_cited": [_cid(c, i) for i, c in bad],
            "confidence": round(len(bad) / len(criteria), 2) if criteria else 0.5,
            "summary": f"{len(bad)} of {len(criteria)} criteria fail"}


def judge(evidence: dict) -> dict:
    criteria = _criteria(evidence)
    if not criteria:
        return {"verdict": "NEEDS_HUMAN", "confidence": 0.3,
                "reasoning": "the evidence holds no criteria results; a human must decide", "required_fixes": []}
    failed = [(i, c) for i, c in enumerate(criteria) if not passed(c)]
    fraction = (len(criteria) - len(failed)) / len(criteria)
    threshold = _threshold(evidence)
    summary = f"{len(criteria) - len(failed)}/{len(criteria)} criteria passed (threshold {threshold:.0%})"
    if fraction >= threshold:
        verdict = "PASS"
        confidence = 0.95 if not failed else 0.75
        reasoning = summary + ("." if not failed else "; below-threshold failures: " +
                               ", ".join(_cid(c, i) for i, c in failed) + ".")
        fixes: list[str] = []
    else:
        verdict, confidence = "FAIL", 0.9
        reasoning = summary + ". Failed: " + "; ".join(_failure_line(c, i) for i, c in failed) + "."
        fixes = []
        for i, c in failed:
            hint = c.get("fix_hint")
            command, expected = c.get("verify_command", ""), c.get("expected_exit_code", 0)
            action = str(hint) if hint else f"make `{command}` exit {expected}"
            fixes.append(f"{_cid(c, i)}: {c.get('description', '')} — {action}")
    return {"verdict": verdict, "confidence": confidence, "reasoning": reasoning, "required_fixes": fixes}


ANSWERS = {"designer": designer, "strategist": strategist, "auditor": auditor, "advocate": advocate,
           "critic": critic, "judge": judge}
