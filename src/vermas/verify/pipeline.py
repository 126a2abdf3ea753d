"""One verification run: spec → snapshot → verifier → auditor → advocate ∥ critic → judge → rules → record.

Every stage appends a ``verify.*`` event to the work bead's ledger (correlation id = the
run id): ``verify.started``, ``verify.spec``, ``verify.checkout``, ``verify.test_executed``
(one per criterion), ``verify.verifier``, ``verify.auditor``, ``verify.advocate``,
``verify.critic``, ``verify.judge``, ``verify.verdict`` (``{bead_id, verdict, confidence,
criteria_passed, criteria_failed, reasoning, rule}``) and ``verify.recorded``. Evidence is
written under ``<ledger>/evidence/<bead>/`` and summarised in a ``verification-result`` bead.

The panel is skipped in objective-only mode, when a human already ruled on this merge
request, and after a role failed (the verdict is NEEDS_HUMAN then anyway). It still runs when
an objective criterion failed: the verdict is FAIL whatever it says, but the judge's
reasoning and required fixes make the rework request actionable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vermas.errors import VermasError
from vermas.ledger import events as event_log
from vermas.ledger.store import Ledger
from vermas.verify import changes as changes_mod
from vermas.verify import evidence as evidence_mod
from vermas.verify import panel, prompts, records, rules, verifier
from vermas.verify import spec as spec_mod
from vermas.verify.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town
    from vermas.verify.settings import VerifySettings
    from vermas.verify.targets import Target

PANEL_ROLES = ("auditor", "advocate", "critic", "judge")
DESCRIPTION_CHARS = 4000


class Interrupted(Exception):
    """The run was stopped (the refinery is shutting down); nothing was recorded."""


@dataclass
class RunResult:
    run_id: str
    target: Target
    spec: dict
    verdict: rules.Verdict
    results: list[dict] = field(default_factory=list)
    answers: dict[str, panel.Answer] = field(default_factory=dict)
    changes: changes_mod.Changes | None = None
    integrity: list[dict] = field(default_factory=list)
    suspicious: list[dict] = field(default_factory=list)
    evidence_dir: str = ""
    run_dir: str = ""
    result_bead: str = ""
    timings: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.verdict.verdict

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, **self.target.to_dict(), "spec": self.spec, **self.verdict.to_dict(),
                "criteria": [{k: r.get(k) for k in ("id", "description", "objective", "status", "exit_code",
                                                    "duration_ms", "error") if r.get(k) not in (None, "")}
                             for r in self.results],
                "panel": {role: a.to_dict() for role, a in self.answers.items()},
                "integrity": self.integrity, "suspicious": self.suspicious, "evidence": self.evidence_dir,
                "run_evidence": self.run_dir,
                "result_bead": self.result_bead, "timings": self.timings}


def new_run_id(commit: str) -> str:
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    return f"{stamp}-{commit[:8]}-{os.urandom(2).hex()}"


class _Events:
    """Collects events and appends them to the work bead's ledger at stage boundaries."""

    def __init__(self, beads_dir: str, actor: str, run_id: str) -> None:
        self.beads_dir, self.actor, self.run_id = beads_dir, actor, run_id
        self.pending: list[dict] = []

    def add(self, kind: str, data: dict) -> None:
        self.pending.append(event_log.new_event(kind, self.actor, data, correlation_id=self.run_id))

    def flush(self) -> None:
        if self.pending:
            event_log.append(self.beads_dir, self.pending)
            self.pending = []

    def emit(self, kind: str, data: dict) -> None:
        self.add(kind, data)
        self.flush()


def run(town: Town, target: Target, *, settings: VerifySettings, actor: str, environ: dict | None = None,
        should_stop: Callable[[], bool] = lambda: False, log: Callable[[str], None] = lambda m: None,
        retry: bool = True, audit_all: bool = False,
        on_stage: Callable[[str, str, str], None] = lambda stage, outcome, note: None) -> RunResult:
    """Verify ``target`` (see the module docstring); raises :class:`Interrupted` when stopped.

    ``on_stage(stage, outcome, note)`` is called as each stage ends (``load-spec``, ``checkout``,
    ``verifier``, ``auditor``, ``advocate``, ``critic``, ``judge``, ``rules``, ``record``), with
    outcome ``done`` or ``failed`` (stages that did not run are not reported).
    """
    t0 = time.monotonic()
    run_id = new_run_id(target.commit)
    ev = _Events(target.beads_dir, actor, run_id)
    base = {"bead_id": target.bead_id, "mr_id": target.mr_id or None, "run_id": run_id}
    ev.emit("verify.started", {**base, "commit": target.commit, "base": target.base, "rig": target.rig,
                               "objective_only": settings.objective_only})
    timings: dict[str, float] = {}
    setup_error = ""
    spec: spec_mod.Spec | None = None
    bead: dict = {}
    human = None
    with Ledger.open(target.beads_dir) as ledger:
        bead = ledger.get(target.bead_id)
        try:
            spec = spec_mod.for_work(ledger, target.bead_id)
        except VermasError as exc:
            setup_error = f"the spec cannot be read: {exc.message}"
        human = records.human_resolution(ledger, target.bead_id, target.mr_id)
    spec_state = spec.state if spec is not None else "missing"
    if spec is None and not setup_error and (bead.get("issue_type") or "task") not in spec_mod.SPEC_TYPES:
        spec_state = "not-required"  # a chore, an epic…: only the rig's gates apply
    spec_view = spec.to_dict() if spec is not None else {"id": None, "state": "missing", "criteria": []}
    criteria = list(spec.criteria) if spec is not None else []
    threshold = spec.threshold if spec is not None else "all"
    ev.emit("verify.spec", {**base, "spec_id": spec_view.get("id"), "state": spec_state,
                            "criteria": len(criteria), "threshold": threshold,
                            "human_resolution": human["id"] if human else None})
    log(f"inspect {target.bead_id}@{target.commit[:12]}: spec {spec_view.get('id') or '-'} ({spec_state}, "
        f"{len(criteria)} criteria)")
    on_stage("load-spec", "failed" if setup_error else "done", f"{spec_state}, {len(criteria)} criteria")
    results: list[dict] = []
    answers: dict[str, panel.Answer] = {}
    changes: changes_mod.Changes | None = None
    integrity: list[dict] = []
    flagged: list[dict] = []
    evidence = evidence_mod.RunEvidence(target.beads_dir, target.bead_id, run_id)
    snap = Snapshot(target.repo, target.commit)
    try:
        if not setup_error and spec_state != "not-required":
            t = time.monotonic()
            try:
                snap.create()
                changes = changes_mod.collect(target.repo, target.base, target.commit)
                integrity = changes_mod.self_checks(criteria, changes)
                flagged = changes_mod.suspicious(changes)
            except VermasError as exc:
                setup_error = exc.message
            timings["snapshot_ms"] = (time.monotonic() - t) * 1000
            on_stage("checkout", "failed" if setup_error else "done", target.commit[:12])
            ev.emit("verify.checkout", {**base, "commit": target.commit, "base": target.base, "ok": not setup_error,
                                        "error": setup_error or None,
                                        "files": len(changes.files) if changes else 0, "integrity": integrity,
                                        "suspicious": flagged})
        if not setup_error and spec_state != "not-required":
            t = time.monotonic()
            env = verifier.criteria_env(snap.path, snap.home, extra={"VERMAS_COMMIT": target.commit},
                                        environ=environ)

            def executed(r: verifier.CriterionResult) -> None:
                ev.add("verify.test_executed", {**base, "criterion_id": r.criterion_id, "status": r.status,
                                                "exit_code": r.exit_code, "duration_ms": round(r.duration_ms, 1)})
                log(f"  {r.criterion_id} {r.status} (exit {r.exit_code}, {r.duration_ms:.0f} ms)")

            try:
                outcome = verifier.verify_all(criteria, cwd=snap.path, env=env, retry=retry, should_stop=should_stop,
                                              on_result=executed)
            except verifier.Interrupted as exc:
                raise Interrupted(str(exc)) from None
            results = [r.to_dict() for r in outcome]
            timings["verifier_ms"] = (time.monotonic() - t) * 1000
            timings["criteria_ms"] = sum(r.duration_ms for r in outcome)
            counts = _counts(results)
            ev.add("verify.verifier", {**base, **counts})
            ev.flush()
            on_stage("verifier", "done", f"{counts['passed']}/{counts['total']} pass")
        if not setup_error and not settings.objective_only and human is None and spec_state != "not-required":
            t = time.monotonic()
            answers = _panel(town, target, settings, bead, spec_view, threshold, results, changes,
                             {"integrity": integrity, "suspicious": flagged}, snap.path, environ, ev, base,
                             should_stop, audit_all)
            for role in PANEL_ROLES:
                if role in answers:
                    a = answers[role]
                    on_stage(role, "done" if a.ok else "failed", a.runtime if a.ok else f"{a.error_kind}: {a.error}")
            timings["panel_ms"] = (time.monotonic() - t) * 1000
    finally:
        snap.remove()
    t = time.monotonic()
    decided = rules.decide(rules.Inputs(
        results=results, threshold=threshold, spec_state=spec_state, integrity=integrity, suspicious=flagged,
        objective_only=settings.objective_only, confidence_threshold=settings.confidence_threshold,
        answers=answers, setup_error=setup_error,
        human={"verdict": human["verdict"], "reason": human["reasoning"], "by": human["created_by"],
               "required_fixes": human["required_fixes"]} if human else None))
    if human is not None:
        decided.notes.append(f"human ruling {human['id']} by {human['created_by']}")
    ev.emit("verify.verdict", {**base, "verdict": decided.verdict, "confidence": decided.confidence,
                               "criteria_passed": decided.criteria_passed,
                               "criteria_failed": decided.failed_criteria, "reasoning": decided.reasoning[:2000],
                               "rule": decided.rule, "decided_by": decided.decided_by})
    log(f"inspect {target.bead_id}: {decided.verdict} ({decided.confidence:.2f}, rule {decided.rule})")
    on_stage("rules", "done", f"{decided.verdict} ({decided.rule})")
    result = RunResult(run_id=run_id, target=target, spec=spec_view, verdict=decided, results=results,
                       answers=answers, changes=changes, integrity=integrity, suspicious=flagged,
                       evidence_dir=evidence.root,
                       run_dir=evidence.run_dir, timings=timings)
    _record(result, evidence, actor=actor, settings=settings, ev=ev, base=base)
    on_stage("record", "done", result.result_bead)
    timings["record_ms"] = (time.monotonic() - t) * 1000
    timings["total_ms"] = (time.monotonic() - t0) * 1000
    return result


def _counts(results: list[dict]) -> dict:
    statuses = [r.get("status") for r in results]
    return {"total": len(results), "passed": statuses.count("pass"),
            "failed": sum(s in ("fail", "timeout", "error") for s in statuses), "flaky": statuses.count("flaky"),
            "pending": statuses.count("pending")}


def _panel(town: Town, target: Target, settings: VerifySettings, bead: dict, spec_view: dict, threshold: str,
           results: list[dict], changes: changes_mod.Changes | None, checks: dict, cwd: str,
           environ: dict | None, ev: _Events, base: dict, should_stop: Callable[[], bool],
           audit_all: bool) -> dict[str, panel.Answer]:
    answers: dict[str, panel.Answer] = {}
    evidence = {
        "bead": {"id": bead["id"], "title": bead.get("title", ""),
                 "description": str(bead.get("description") or "")[:DESCRIPTION_CHARS]},
        "spec": {"id": spec_view.get("id"), "threshold": threshold, "state": spec_view.get("state")},
        "requirements": prompts.requirement_lines(spec_view.get("requirements") or {}),
        "criteria": [prompts.criterion_view(r) for r in results], "threshold": threshold,
        "diff": changes.diff if changes else "", "files": changes.files if changes else [],
        "commits": changes.commits if changes else [], **checks,
    }
    ask = {"settings": settings, "town": town, "rig": target.rig, "cwd": cwd, "environ": environ}

    def stage(role: str, answer: panel.Answer) -> None:
        answers[role] = answer
        ev.emit(f"verify.{role}", {**base, "runtime": answer.runtime, "ok": answer.ok,
                                   "error_kind": answer.error_kind or None, "duration_ms": round(answer.duration_ms, 1),
                                   **_summary(role, answer)})

    subjective = [r for r in results if not r.get("objective", True)]
    if subjective or audit_all:
        audit_view = dict(evidence)
        audit_view["criteria"] = [_unjudged(prompts.criterion_view(r)) if not r.get("objective", True)
                                  else prompts.criterion_view(r) for r in results]
        stage("auditor", _ask_one("auditor", audit_view, ask, should_stop))
        if not answers["auditor"].ok:
            return answers
        _apply_audit(results, answers["auditor"].data or {})
        evidence["criteria"] = [prompts.criterion_view(r) for r in results]
        evidence["audit"] = answers["auditor"].data
    try:
        pair = panel.ask_parallel(["advocate", "critic"], evidence, should_stop=should_stop, **ask)
    except panel.Interrupted as exc:
        raise Interrupted(str(exc)) from None
    for role in ("advocate", "critic"):
        stage(role, pair[role])
    if not all(pair[role].ok for role in ("advocate", "critic")):
        return answers
    evidence["briefs"] = {"advocate": pair["advocate"].data, "critic": pair["critic"].data}
    stage("judge", _ask_one("judge", evidence, ask, should_stop))
    return answers


def _ask_one(role: str, evidence: dict, ask: dict, should_stop: Callable[[], bool]) -> panel.Answer:
    try:
        return panel.ask_parallel([role], evidence, should_stop=should_stop, **ask)[role]
    except panel.Interrupted as exc:
        raise Interrupted(str(exc)) from None


def _unjudged(view: dict) -> dict:
    """A subjective criterion as the auditor sees it: the evidence, not a status to copy."""
    result = dict(view.get("result") or {})
    result.pop("status", None)
    return {**view, "result": result}


def _apply_audit(results: list[dict], audit: dict) -> None:
    findings = {f["criterion_id"]: f for f in audit.get("findings") or []}
    for r in results:
        finding = findings.get(r["id"])
        if finding is None:
            continue
        r["audit"] = finding
        if not r.get("objective", True):
            r["status"] = "pass" if finding["verdict"] == "PASS" else "fail"


def _summary(role: str, answer: panel.Answer) -> dict:
    data = answer.data or {}
    if role == "judge":
        return {"verdict": data.get("verdict"), "confidence": data.get("confidence")}
    if role in ("advocate", "critic"):
        return {"arguments": len(data.get("arguments") or []), "confidence": data.get("confidence")}
    if role == "auditor":
        return {"findings": len(data.get("findings") or [])}
    return {}


def reviewed_by(answers: dict[str, panel.Answer], settings: VerifySettings) -> str:
    parts = ["verifier=vermas"]
    for role in PANEL_ROLES:
        parts.append(f"{role}={answers[role].runtime}" if role in answers else f"{role}=-")
    return " ".join(parts)


def _record(result: RunResult, evidence: evidence_mod.RunEvidence, *, actor: str, settings: VerifySettings,
            ev: _Events, base: dict) -> None:
    target = result.target
    verdict = result.verdict.to_dict()
    evidence.json("spec.json", result.spec)
    evidence.json("results.json", result.results)
    if result.changes is not None:
        evidence.json("changes.json", result.changes.to_dict(with_diff=False))
        evidence.text("diff.patch", result.changes.diff)
    for role, answer in result.answers.items():
        evidence.json(f"briefs/{role}.json", answer.to_dict())
    summary = {"total": verdict["criteria_total"], "passed": verdict["criteria_passed"],
               "failed": len(verdict["failed_criteria"]),
               "audited": sum(1 for r in result.results if r.get("audit"))}
    doc = {"bead_id": target.bead_id, "spec_id": result.spec.get("id"), "mr_id": target.mr_id or None,
           "rig": target.rig, "commit": target.commit, "base": target.base, "run_id": result.run_id,
           "timestamp": _now(), **verdict, "summary": summary,
           "criteria": [{"id": r["id"], "description": r.get("description"), "test_type": "shell",
                         "command": r.get("verify_command"), "passed": r.get("status") == "pass",
                         "status": r.get("status"),
                         "evidence": {"exit_code": r.get("exit_code"), "stdout": r.get("stdout", "")[-2000:],
                                      "stderr": r.get("stderr", "")[-2000:]}} for r in result.results],
           "reviewed_by": reviewed_by(result.answers, settings), "integrity": result.integrity,
           "suspicious": result.suspicious,
           "settings": {"objective_only": settings.objective_only,
                        "confidence_threshold": settings.confidence_threshold},
           "timings": {k: round(v, 1) for k, v in result.timings.items()}}
    evidence.json("verdict.json", doc)
    evidence.publish()
    with Ledger.open(target.beads_dir) as ledger:
        issue = records.create(ledger, actor, bead_id=target.bead_id, verdict=verdict, fields={
            "spec": result.spec.get("id"), "mr": target.mr_id, "commit": target.commit, "base": target.base,
            "reviewed_by": doc["reviewed_by"], "run_id": result.run_id, "evidence": evidence.run_dir,
            "duration_ms": int(sum(v for k, v in result.timings.items() if k != "criteria_ms"))},
            correlation_id=result.run_id)
    result.result_bead = issue["id"]
    ev.emit("verify.recorded", {**base, "result_bead": issue["id"], "evidence": evidence.run_dir,
                                "verdict": verdict["verdict"]})


def _now() -> str:
    from vermas.ledger import timefmt

    return timefmt.now_str()
