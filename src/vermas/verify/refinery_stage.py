"""The Inspector as the refinery's last stage (loaded by ``vermas.roles.refinery.stages``).

``refinery_stages(host)`` returns one :class:`InspectorStage` (the refinery only asks when
``verify.enabled`` is on). For each merge request in the candidate it verifies the source
bead at the candidate commit — the rebased tip that will become the target, checked out
afresh by the pipeline — against the target commit it was built on, then maps the verdicts:

* every bead PASS → ``PASS`` (the refinery merges);
* any FAIL → ``FAIL`` with ``failed_criteria``, ``required_fixes`` and an ``output_tail`` in
  the details: the refinery rejects the request and re-hooks the bead with that context;
  a detached waiter then re-slings it with ``--rework`` once the request is closed
  (config ``verify.resling`` false turns that off);
* otherwise NEEDS_HUMAN → the refinery parks the request, and an escalation goes to the mayor.

The stage is never retried on FAIL (the verifier already re-runs a failing criterion once
and reports inconsistency) and never re-run on the target: a spec's criteria describe the new
work, so they fail on the target by design and must never be mistaken for a pre-existing
failure.
"""

from __future__ import annotations

import time

from vermas.roles.refinery.stages import FAIL, NEEDS_HUMAN, PASS, StageContext, StageHost, StageInterrupted, StageResult
from vermas.town.layout import Town
from vermas.verify import pipeline, routing, targets
from vermas.verify import settings as settings_mod

STAGE_NAME = "inspector"


def refinery_stages(host: StageHost) -> list:
    return [InspectorStage(host.town_root, host.rig, host.environ)]


class InspectorStage:
    name = STAGE_NAME
    retry_on_fail = False
    check_target_on_fail = False

    def __init__(self, town_root: str, rig: str, environ: dict | None = None) -> None:
        self.town_root = town_root
        self.rig = rig
        self.environ = dict(environ or {})

    def __repr__(self) -> str:
        return f"InspectorStage({self.rig!r})"

    def run(self, ctx: StageContext) -> StageResult:
        started = time.monotonic()
        town = Town(ctx.town_root)
        settings = settings_mod.load(town, ctx.rig, self.environ or None)
        actor = f"{ctx.rig}/refinery"
        runs: list[pipeline.RunResult] = []
        missing: list[str] = []
        rig_beads = town.rig(ctx.rig).beads_dir
        for mr in ctx.mrs:
            if not mr.source_issue:
                missing.append(mr.id)
                continue
            target = targets.Target(
                rig=ctx.rig, bead_id=mr.source_issue, beads_dir=targets.ledger_of(town, mr.source_issue, rig_beads),
                repo=town.rig(ctx.rig).repo, commit=ctx.commit, base=ctx.base, mr_id=mr.id, branch=mr.branch,
                target_branch=ctx.target, worker=mr.worker)
            try:
                run = pipeline.run(town, target, settings=settings, actor=actor, environ=self.environ or None,
                                   should_stop=ctx.should_stop, log=ctx.log)
            except pipeline.Interrupted as exc:
                raise StageInterrupted(str(exc)) from None
            runs.append(run)
        result = self._combine(runs, missing)
        result.duration = time.monotonic() - started
        self._route(town, result, runs, actor)
        return result

    def _combine(self, runs: list[pipeline.RunResult], missing: list[str]) -> StageResult:
        verdicts = [{"bead": r.target.bead_id, "mr": r.target.mr_id, "verdict": r.status,
                     "confidence": r.verdict.confidence, "rule": r.verdict.rule, "result_bead": r.result_bead,
                     "evidence": r.run_dir} for r in runs]
        failed = [r for r in runs if r.status == "FAIL"]
        human = [r for r in runs if r.status == "NEEDS_HUMAN"]
        evidence = (failed or human or runs)[0].run_dir if runs else None
        details: dict = {"verdicts": verdicts}
        if failed:
            details["failed_criteria"] = [c for r in failed for c in r.verdict.failed_criteria]
            details["required_fixes"] = [f for r in failed for f in r.verdict.required_fixes]
            details["output_tail"] = "\n".join(_tail(r) for r in failed)[-4000:]
            beads = ", ".join(f"{r.target.bead_id} ({', '.join(r.verdict.failed_criteria) or r.verdict.rule})"
                              for r in failed)
            return StageResult(FAIL, f"Inspector: FAIL for {beads} — {failed[0].verdict.reasoning}"[:600], evidence,
                               details)
        if human or missing or not runs:
            reasons = [f"{r.target.bead_id}: {r.verdict.rule}: {r.verdict.reasoning}" for r in human]
            reasons += [f"merge request {m} names no source bead" for m in missing]
            first = human[0].target.bead_id if human else "<bead>"
            summary = (f"Inspector: NEEDS_HUMAN — {'; '.join(reasons) or 'nothing to verify'}"[:500]
                       + f" — resolve: vermas inspect resolve {first} --verdict PASS|FAIL --reason '…'")
            return StageResult(NEEDS_HUMAN, summary, evidence, details)
        shown = ", ".join(f"{r.target.bead_id} {r.verdict.criteria_passed}/{r.verdict.criteria_total} "
                          f"({r.verdict.confidence:.2f})" for r in runs)
        return StageResult(PASS, f"Inspector: PASS — {shown}", evidence, details)

    def _route(self, town: Town, result: StageResult, runs: list[pipeline.RunResult], actor: str) -> None:
        for run in runs:  # a machine verdict on a newer request settles the older questions about the bead
            if run.status != "NEEDS_HUMAN":
                routing.close_escalations(town, run.target.bead_id, actor=actor,
                                          reason=f"superseded: {run.status} on {run.target.mr_id or run.target.commit}",
                                          keep_source=f"{routing.ESCALATION_SOURCE}:rework-limit"
                                          if run.status == "FAIL" else None)
        if result.status == NEEDS_HUMAN:
            for run in runs:
                if run.status == "NEEDS_HUMAN":
                    routing.escalate(town, run, actor=actor)
        elif result.status == FAIL and settings_mod.load(town, self.rig, self.environ or None).resling:
            for run in runs:  # each waiter acts only if its own request ends up rejected
                routing.schedule_rework(town, self.rig, run.target.bead_id, run.target.mr_id, actor=actor,
                                        environ=self.environ or None)


def _tail(run: pipeline.RunResult) -> str:
    lines = [f"{run.target.bead_id}: {run.verdict.criteria_passed}/{run.verdict.criteria_total} criteria pass"]
    for r in run.results:
        if r.get("status") in ("fail", "timeout", "error"):
            out = (r.get("stdout", "") + r.get("stderr", "")).strip()[-600:]
            lines.append(f"{r['id']} {r['status']} (exit {r.get('exit_code')}): $ {r.get('verify_command')}"
                         + (f"\n{out}" if out else ""))
    return "\n".join(lines)
