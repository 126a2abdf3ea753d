"""The verdict rules: what holds whatever the LLM panel says.

In order (the first that applies decides):

1. **setup** — the run itself failed (no snapshot, malformed spec): NEEDS_HUMAN.
   (**not-required** — a bead of a type that needs no spec (chore, epic…) and has none: PASS,
   only the rig's gates apply.)
2. **objective** — the objective criteria that failed (fail, timeout, error) leave too few
   passing to meet the threshold even if every other criterion passed: FAIL. No panel answer
   and no human can turn this into PASS.
3. **human** — a human resolved the bead (``vermas inspect resolve``): their verdict.
4. **objective_only** — no panel: PASS when the criteria meet the threshold and nothing below
   objects, else NEEDS_HUMAN (subjective criteria need the panel).
5. **panel** — a role that timed out, exited non-zero, printed garbage or answered in the
   wrong shape: NEEDS_HUMAN (never PASS).
6. **flaky** — a criterion failed, then passed when re-run on the same commit: the evidence
   is inconsistent, so neither PASS nor FAIL can rest on it: NEEDS_HUMAN.
7. **audit** — with the auditor's findings on subjective criteria counted, the threshold is
   not met: FAIL.
8. **judge** — FAIL and NEEDS_HUMAN stand as ruled.
9. A PASS is then held back (NEEDS_HUMAN) when the change edits the files its own
   criteria run (**integrity**), when it adds lines the safety scan flags — pushes, recursive
   deletes, download-and-execute, credentials (**safety**), when the spec is not approved or changed after approval
   (**spec**), or when there are no criteria and no judge (**no-criteria**), and finally when
   the judge's confidence is below the rig's threshold (**confidence**).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.verify import criteria as crit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.verify.panel import Answer

PASS, FAIL, NEEDS_HUMAN = "PASS", "FAIL", "NEEDS_HUMAN"
FAILED_STATUSES = ("fail", "timeout", "error")


@dataclass
class Verdict:
    verdict: str
    confidence: float
    reasoning: str
    rule: str
    required_fixes: list[str] = field(default_factory=list)
    failed_criteria: list[str] = field(default_factory=list)
    criteria_passed: int = 0
    criteria_total: int = 0
    decided_by: str = "rules"  # rules | judge | human
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "confidence": round(self.confidence, 4), "reasoning": self.reasoning,
                "required_fixes": self.required_fixes, "failed_criteria": self.failed_criteria,
                "criteria_passed": self.criteria_passed, "criteria_total": self.criteria_total, "rule": self.rule,
                "decided_by": self.decided_by, "notes": self.notes}


@dataclass
class Inputs:
    results: list[dict]  # verifier results (CriterionResult.to_dict()), subjective ones carrying "audit"
    threshold: str = crit.ALL
    spec_state: str = "approved"  # approved | draft | tampered | missing | not-required
    integrity: list[dict] = field(default_factory=list)
    suspicious: list[dict] = field(default_factory=list)
    objective_only: bool = False
    confidence_threshold: float = 0.7
    answers: dict[str, Answer] = field(default_factory=dict)
    human: dict | None = None  # {"verdict", "reason", "by"}
    setup_error: str = ""


def fix_for(result: dict) -> str:
    """A required fix for a failed criterion: its hint, else what must become true."""
    what = result.get("hint") or ""
    if not what:
        if result.get("status") == "timeout":
            what = f"`{result.get('verify_command')}` must finish within {result.get('timeout_seconds')}s"
        elif result.get("audit"):
            what = str(result["audit"].get("reasoning") or "the auditor found it not met")
        else:
            what = f"make `{result.get('verify_command')}` exit {result.get('expected_exit_code', 0)}"
    return f"{result['id']}: {result.get('description', '')} — {what}"


def _describe(result: dict) -> str:
    status = result.get("status")
    if status == "timeout":
        return f"{result['id']} timed out after {result.get('timeout_seconds')}s"
    if status == "error":
        return f"{result['id']} could not run ({result.get('error') or 'error'})"
    if result.get("audit"):
        return f"{result['id']} judged not met by the auditor"
    return f"{result['id']} exited {result.get('exit_code')} (expected {result.get('expected_exit_code', 0)})"


def decide(inp: Inputs) -> Verdict:
    results = inp.results
    total = len(results)
    objective_failed = [r for r in results if r.get("objective", True) and r.get("status") in FAILED_STATUSES]
    audited = [r for r in results if not r.get("objective", True)]
    flaky = [r for r in results if r.get("status") == "flaky"]
    passed = sum(1 for r in results if r.get("status") == "pass")
    base = {"criteria_passed": passed, "criteria_total": total}

    if inp.setup_error:
        return Verdict(NEEDS_HUMAN, 0.0, f"the verification could not run: {inp.setup_error}", "setup", **base)
    if inp.spec_state == "not-required" and not results:
        return Verdict(PASS, 1.0, "no test spec, and this type of bead does not need one (task, feature and bug "
                       "do): only the rig's gates apply", "not-required", **base)

    judge = inp.answers.get("judge")
    judge_data = judge.data if judge is not None and judge.ok else None
    if objective_failed and not crit.meets(total - len(objective_failed), total, inp.threshold):
        fixes = _fixes(objective_failed, judge_data)
        reasoning = (f"{len(objective_failed)} objective criteri{'on' if len(objective_failed) == 1 else 'a'} "
                     f"failed ({'; '.join(_describe(r) for r in objective_failed)}): {passed}/{total} pass, "
                     f"threshold {inp.threshold}. A failed objective criterion cannot be overruled.")
        if judge_data and judge_data.get("reasoning"):
            reasoning += f" Judge ({judge_data['verdict']}): {judge_data['reasoning']}"
        confidence = float(judge_data["confidence"]) if judge_data and judge_data["verdict"] == FAIL else 1.0
        return Verdict(FAIL, confidence, reasoning, "objective", fixes, [r["id"] for r in objective_failed],
                       decided_by="rules", **base)

    if inp.human is not None:
        verdict = str(inp.human.get("verdict", "")).upper()
        reason = str(inp.human.get("reason") or "")
        fixes = _strings(inp.human.get("required_fixes")) or ([reason] if verdict == FAIL and reason else [])
        return Verdict(verdict, 1.0, f"resolved by {inp.human.get('by') or 'a human'}: {reason}", "human", fixes,
                       [r["id"] for r in results if r.get("status") in FAILED_STATUSES], decided_by="human", **base)

    holds = _holds(inp, flaky, total)
    if inp.objective_only:
        pending = [r["id"] for r in audited]
        if pending:
            return Verdict(NEEDS_HUMAN, 0.0, f"objective-only mode cannot decide subjective criteria "
                           f"({', '.join(pending)})", "objective_only", **base)
        if holds:
            rule, reason = holds[0]
            return Verdict(NEEDS_HUMAN, 0.0, reason, rule, **base)
        failed = [r for r in results if r.get("status") in FAILED_STATUSES]
        note = f"; below-threshold failures: {', '.join(r['id'] for r in failed)}" if failed else ""
        return Verdict(PASS, 1.0, f"{passed}/{total} criteria pass (threshold {inp.threshold}){note}; "
                       "objective-only mode (no panel)", "objective_only", failed_criteria=[r["id"] for r in failed],
                       **base)

    broken = [a for a in inp.answers.values() if not a.ok]
    if broken:
        what = "; ".join(f"{a.role} ({a.runtime}): {a.error_kind}: {a.error}"[:400] for a in broken)
        return Verdict(NEEDS_HUMAN, 0.0, f"the panel gave no usable answer — {what}", "panel", **base)
    if judge_data is None:
        return Verdict(NEEDS_HUMAN, 0.0, "the judge did not rule", "panel", **base)
    if flaky:  # neither a PASS nor a FAIL can rest on evidence that changes between two runs
        rule, reason = next(h for h in holds if h[0] == "flaky")
        return Verdict(NEEDS_HUMAN, float(judge_data["confidence"]),
                       f"{reason} (the judge said {judge_data['verdict']}: {judge_data.get('reasoning', '')})", rule,
                       **base)

    audit_failed = [r for r in audited if (r.get("audit") or {}).get("verdict") == "FAIL"]
    unjudged = [r["id"] for r in audited if not r.get("audit")]
    if unjudged:
        return Verdict(NEEDS_HUMAN, 0.0, f"the auditor gave no finding for {', '.join(unjudged)}", "panel", **base)
    all_failed = objective_failed + audit_failed
    if audit_failed and not crit.meets(total - len(all_failed), total, inp.threshold):
        return Verdict(FAIL, float(judge_data["confidence"]) if judge_data["verdict"] == FAIL else 0.9,
                       f"the auditor found {', '.join(r['id'] for r in audit_failed)} not met: "
                       f"{total - len(all_failed)}/{total} pass, threshold {inp.threshold}. Judge: "
                       f"{judge_data.get('reasoning', '')}", "audit", _fixes(audit_failed, judge_data),
                       [r["id"] for r in all_failed], decided_by="rules", **base)

    verdict, confidence = judge_data["verdict"], float(judge_data["confidence"])
    reasoning = judge_data.get("reasoning") or "(no reasoning given)"
    if verdict == FAIL:
        fixes = judge_data["required_fixes"] or _fixes(all_failed, None) or ["see the judge's reasoning"]
        return Verdict(FAIL, confidence, reasoning, "judge", fixes, [r["id"] for r in all_failed],
                       decided_by="judge", **base)
    if verdict == NEEDS_HUMAN:
        return Verdict(NEEDS_HUMAN, confidence, reasoning, "judge", judge_data["required_fixes"],
                       [r["id"] for r in all_failed], decided_by="judge", **base)
    if holds:
        rule, reason = holds[0]
        return Verdict(NEEDS_HUMAN, confidence, f"{reason} (the judge said PASS: {reasoning})", rule,
                       failed_criteria=[r["id"] for r in all_failed], **base)
    if confidence < inp.confidence_threshold:
        return Verdict(NEEDS_HUMAN, confidence, f"the judge said PASS with confidence {confidence:.2f}, below the "
                       f"rig's threshold {inp.confidence_threshold:.2f}: {reasoning}", "confidence",
                       failed_criteria=[r["id"] for r in all_failed], decided_by="judge", **base)
    return Verdict(PASS, confidence, reasoning, "judge", failed_criteria=[r["id"] for r in all_failed],
                   decided_by="judge", **base)


def _holds(inp: Inputs, flaky: list[dict], total: int) -> list[tuple[str, str]]:
    """Reasons a PASS must wait for a human, most important first."""
    out = []
    if inp.spec_state == "tampered":
        out.append(("spec", "the spec's criteria changed after it was approved (digest mismatch)"))
    elif inp.spec_state == "draft":
        out.append(("spec", "the spec is not approved"))
    if inp.integrity:
        shown = ", ".join(f"{i['criterion_id']} runs {i['path']}" for i in inp.integrity)
        out.append(("integrity", f"the change edits files its own criteria run ({shown})"))
    if inp.suspicious:
        shown = "; ".join(f"{s['kind']} in {s['path']}: {s['line'][:80]}" for s in inp.suspicious[:3])
        out.append(("safety", f"the change adds lines the safety scan flags ({shown})"))
    if flaky:
        out.append(("flaky", "inconsistent evidence: " + ", ".join(
            f"{r['id']} failed then passed on a re-run of the same commit" for r in flaky)))
    if total == 0 and inp.objective_only:
        out.append(("no-criteria", "there are no criteria to verify"))
    return out


def _fixes(failed: list[dict], judge_data: dict | None) -> list[str]:
    fixes = list(judge_data["required_fixes"]) if judge_data and judge_data.get("verdict") == FAIL else []
    for r in failed:
        if not any(r["id"] in f for f in fixes):
            fixes.append(fix_for(r))
    return fixes


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return []
