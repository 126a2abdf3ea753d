"""One round of the merge queue, and recovery after a crash.

A round: close stale requests; check open pull requests; take up to ``merge.batch_size``
ready requests for one target (oldest first within priority); claim them; build the
candidate in the refinery worktree (merge-tree check, rebase, strategy); run the stages on
it (batch-then-bisect on red); write the plan to the journal (fsynced); move the target
with one compare-and-swap to the tested tip; verify it; apply the outcomes.

Crash-safety argument (see docs/REFINERY.md): the target ref changes only through
``git update-ref <target> <tip> <base>``, an atomic compare-and-swap, and ``tip`` is the
exact commit the stages passed on. Before that call the plan is durable in the journal.
On restart: an attempt still ``building``/``gating`` moved nothing (its requests go back to
the queue at their old position); an attempt ``moving`` moved the target iff the target
now contains ``tip`` (then its outcomes are applied, else it is discarded); an attempt in
``outcomes`` replays its remaining idempotent steps. No request is lost (they are beads:
only closed by an outcome) and none merges twice (the target contains it, and its MR bead
is closed in the same step as its source).
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

from vermas import gitops
from vermas.errors import ConflictError, VermasError
from vermas.ledger.store import Ledger
from vermas.roles.refinery import notify, pr, queue
from vermas.roles.refinery.batch import BatchOutcome, run_batch
from vermas.roles.refinery.journal import Journal
from vermas.roles.refinery.merge import Builder, Stack, ensure_worktree
from vermas.roles.refinery.mr import MergeRequest
from vermas.roles.refinery.outcomes import Outcomes
from vermas.roles.refinery.settings import RefineryHome, RefinerySettings
from vermas.roles.refinery.stages import (
    FAIL,
    NEEDS_HUMAN,
    PASS,
    Stage,
    StageContext,
    StageHost,
    StageInterrupted,
    StageResult,
    kill_leftover_gate,
    load_stages,
    stage_flag,
)
from vermas.town import rigs
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Verdict:
    """The result of running the stages on one candidate tip."""

    status: str
    tip: str
    stage: str | None = None
    result: StageResult | None = None
    runs: list[dict] = field(default_factory=list)
    evidence_dir: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class RoundReport:
    """What one round did (also the journal's ``last_result``)."""

    attempt: str = ""
    target: str = ""
    base: str = ""
    tip: str = ""
    moved: bool = False
    merged: list[str] = field(default_factory=list)
    rework: list[str] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    pr_opened: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    bugs: dict[str, str] = field(default_factory=dict)
    flaky: list[str] = field(default_factory=list)
    tests: int = 0
    gate_seconds: float = 0.0
    error: str = ""

    @property
    def did_something(self) -> bool:
        return bool(self.merged or self.rework or self.parked or self.pr_opened or self.stale or self.released
                    or self.error)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Refinery:
    """The merge-queue engine of one rig. The caller holds the refinery lock (see ``daemon``)."""

    def __init__(self, town: Town, rig: str, *, settings: RefinerySettings | None = None,
                 stages: list[Stage] | None = None, environ: dict[str, str] | None = None,
                 log: Callable[[str], None] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        rigs.rig_info(town, rig)  # NotFoundError naming the known rigs
        self.town = town
        self.home = RefineryHome(town, rig)
        self.environ = dict(os.environ) if environ is None else environ
        self.settings = settings or RefinerySettings.load(town, rig, self.environ)
        self.stages = stages if stages is not None else load_stages(
            StageHost(town.root, rig, self.settings, self.environ))
        self.log = log or (lambda message: None)
        self.should_stop = should_stop or (lambda: False)
        self.journal = Journal(self.home.state_path, rig)
        self.ledger = Ledger.open(self.home.rig.beads_dir)
        self.actor = self.home.actor
        self._ignored: dict[str, str] = {}
        self._target_checks: dict[tuple[str, str], bool] = {}
        self._flaky: set[str] = set()
        self._gate_seconds = 0.0
        self._worktree_checked = False
        self._worktree_at: str | None = None  # the refinery worktree is clean at this commit (None: unknown)
        self._warned_checked_out: set[str] = set()

    def close(self) -> None:
        self.ledger.close()

    # =============================================================== recovery
    def recover(self) -> dict | None:
        """Finish or discard the attempt a previous (killed) refinery left in the journal."""
        attempt = self.journal.attempt
        if not attempt:
            return None
        if kill_leftover_gate(int(attempt.get("gate_pgid") or 0), str(attempt.get("gate_marker") or "")):
            self.log(f"recovery: killed leftover gate process group {attempt['gate_pgid']}")
        self._clear_stale_locks(attempt)
        phase = attempt.get("phase")
        plan = attempt.get("plan")
        self.log(f"recovery: attempt {attempt['id']} was in phase {phase} for {', '.join(attempt.get('mrs', []))}")
        if phase == "moving" and plan:
            if self._target_contains(plan["target"], plan.get("tip")) or self._finish_upstream_move(plan):
                return self._replay(attempt, plan, "target had moved; outcomes applied")
            return self._discard(attempt, "recovered: target had not moved; requests re-queued")
        if phase == "pr" and plan:
            self._open_prs(plan)
            return self._replay(attempt, plan, "pull request step resumed")
        if phase == "outcomes" and plan:
            return self._replay(attempt, plan, "outcomes resumed")
        return self._discard(attempt, f"recovered: interrupted while {phase}; requests re-queued")

    def _clear_stale_locks(self, attempt: dict) -> None:
        """Remove git lock files a killed refinery left on what only it touches.

        The refinery's worktree index and HEAD, the target ref it was moving, and the merged
        branches it was deleting. We hold the refinery lock, so no other refinery uses them.
        """
        for worktree in (self.home.worktree, self.home.target_worktree):
            if not os.path.isfile(os.path.join(worktree, ".git")):
                continue
            try:
                git_dir = gitops.git_dir_of(worktree)
            except gitops.GitError:
                git_dir = os.path.join(self.home.repo, "worktrees", os.path.basename(worktree))
            for name in ("index.lock", "HEAD.lock"):
                if gitops.remove_stale_lock(os.path.join(git_dir, name)):
                    self.log(f"recovery: removed stale {name} of {worktree}")
        plan = attempt.get("plan") or {}
        head_ref = gitops.run(["symbolic-ref", "-q", "HEAD"], cwd=self.home.repo, check=False).stdout.strip()
        if head_ref == f"refs/heads/{attempt.get('target')}" and \
                gitops.remove_stale_lock(os.path.join(self.home.repo, "HEAD.lock")):
            self.log("recovery: removed the stale HEAD.lock of the rig repository (HEAD follows the target)")
        merged = plan.get("merged", []) + plan.get("already", [])
        if merged and attempt.get("phase") in ("moving", "outcomes") and \
                gitops.remove_stale_lock(os.path.join(self.home.repo, "packed-refs.lock")):
            self.log("recovery: removed the stale packed-refs.lock left by an interrupted branch deletion")
        branches = [attempt.get("target")] + [i.get("branch") for i in merged]
        heads = os.path.realpath(os.path.join(self.home.repo, "refs", "heads"))
        for branch in branches:
            if not branch:
                continue
            path = os.path.realpath(os.path.join(heads, branch + ".lock"))
            if path.startswith(heads + os.sep) and gitops.remove_stale_lock(path):
                self.log(f"recovery: removed stale lock of refs/heads/{branch}")

    def _replay(self, attempt: dict, plan: dict, note: str) -> dict:
        self.journal.update(phase="outcomes")
        counts = Outcomes(self.home, self.ledger, self.journal, self.log, recovering=True).apply(plan)
        result = {"attempt": attempt["id"], "target": plan["target"], "base": plan.get("base"), "tip": plan.get("tip"),
                  "merged": [i["mr"] for i in plan.get("merged", []) + plan.get("already", [])],
                  "rework": [i["mr"] for i in plan.get("rework", [])],
                  "parked": [i["mr"] for i in plan.get("park", [])], "recovered": note}
        self.journal.finish(result, rounds=1, merged=counts["merged"], rework=counts["rework"],
                            parked=counts["parked"])
        self.log(f"recovery: {note}")
        return result

    def _discard(self, attempt: dict, note: str, *, error: str = "") -> dict:
        """Drop an attempt that moved nothing: its requests return to the queue unchanged."""
        queue.release(self.ledger, self.actor, list(attempt.get("mrs", [])))
        worktree = self.home.worktree
        base = attempt.get("base") or gitops.rev_parse(f"refs/heads/{attempt.get('target')}", cwd=self.home.repo)
        if base and os.path.isfile(os.path.join(worktree, ".git")):
            try:
                gitops.reset_worktree(worktree, base)
            except gitops.GitError as exc:
                self.log(f"could not reset the refinery worktree: {exc.message}")
        result = {"attempt": attempt["id"], "target": attempt.get("target"), "released": list(attempt.get("mrs", [])),
                  "recovered": note, "error": error}
        self.journal.finish(result, errors=1 if error else 0)
        self.log(note)
        return result

    def _target_contains(self, target: str, tip: str | None) -> bool:
        if not tip:
            return False
        current = gitops.rev_parse(f"refs/heads/{target}", cwd=self.home.repo)
        return bool(current) and (current == tip or gitops.is_ancestor(self.home.repo, tip, current))

    def _finish_upstream_move(self, plan: dict) -> bool:
        """After a crash between the upstream push and the local CAS: complete the local move."""
        if not self.settings.push_upstream or not plan.get("tip"):
            return False
        try:
            remote = gitops.ls_remote(self.home.repo, pr.REMOTE, f"refs/heads/{plan['target']}")
        except gitops.GitError:
            return False
        if remote != plan["tip"]:
            return False
        return gitops.compare_and_swap(self.home.repo, f"refs/heads/{plan['target']}", plan["tip"], plan["base"],
                                       message="refinery: recovered merge")

    # ================================================================= rounds
    def drain(self, *, max_rounds: int | None = None) -> list[RoundReport]:
        """Run rounds until the queue has nothing ready (or ``max_rounds``); returns their reports."""
        reports: list[RoundReport] = []
        while max_rounds is None or len(reports) < max_rounds:
            if self.should_stop():
                break
            report = self.run_round()
            if report is None:
                break
            reports.append(report)
            if not report.did_something:
                break
        return reports

    def run_round(self) -> RoundReport | None:
        """Process the next ready request(s); None when there was nothing to do."""
        self._consume_merge_ready()
        view = queue.scan(self.ledger, self.home.repo, actor=self.actor, town_root=self.town.root)
        report = RoundReport()
        self._close_stale(view, report)
        self._check_pull_requests(view.pr_open, report)
        if not view.ready:
            return report if report.did_something else None
        target = view.ready[0].target
        size = 1 if self.settings.mode == "pr" else self.settings.batch_size
        batch = [m for m in view.ready if m.target == target][:size]
        queue.claim(self.ledger, self.actor, batch)
        attempt = self.journal.begin(target, [m.id for m in batch])
        report.attempt, report.target = attempt["id"], target
        self.log(f"round {attempt['id']}: {', '.join(f'{m.id} ({m.branch})' for m in batch)} → {target}")
        try:
            self._process(batch, {m.id: view.sources.get(m.id, "") for m in batch}, target, attempt, report)
        except StageInterrupted:
            self._discard(attempt, "stopped while gating; requests re-queued")
            raise
        except Exception as exc:
            if self.journal.attempt and self.journal.attempt.get("phase") in ("moving", "pr", "outcomes"):
                raise  # the journal keeps the plan; recovery (or the next start) finishes it
            detail = exc.message if isinstance(exc, VermasError) else f"{type(exc).__name__}: {exc}"
            self.log(f"round {attempt['id']} failed: {detail}\n{traceback.format_exc()}")
            self._discard(attempt, f"round failed: {detail}", error=detail)
            report.error = detail
            report.released = [m.id for m in batch]
        return report

    def _consume_merge_ready(self) -> None:
        """``MERGE_READY`` mail is only a wake-up (the ledger is the queue): mark ours read."""
        from vermas.town import mail
        from vermas.town.identity import Agent

        try:
            waiting = mail.protocol_messages(self.town.root, "MERGE_READY", to=Agent("refinery", self.home.rig_name))
            if waiting:
                mail.mark_read(self.town.root, [m["id"] for m, _r in waiting], self.actor)
        except VermasError as exc:
            self.log(f"mail: cannot read MERGE_READY messages: {exc.message}")

    def _close_stale(self, view: queue.QueueView, report: RoundReport) -> None:
        if not view.stale:
            return
        outcomes = Outcomes(self.home, self.ledger, self.journal, self.log)
        for decision in view.stale:
            target_sha = gitops.rev_parse(f"refs/heads/{decision.mr.target}", cwd=self.home.repo) \
                if decision.mr.target else None
            outcomes.close_stale(decision, target_sha)
            report.stale.append(decision.mr.id)
            self.log(f"closed {decision.mr.id} ({decision.close_reason}): {decision.detail}")
        self.journal.count(stale_closed=len(view.stale))

    # ============================================================ processing
    def _process(self, batch: list[MergeRequest], sources: dict[str, str], target: str, attempt: dict,
                 report: RoundReport) -> None:
        repo = self.home.repo
        base = self._prepare_target(target)
        report.base = base
        if not self._worktree_checked:
            ensure_worktree(repo, self.home.worktree, base)
            self._worktree_checked = True
        builder = Builder(repo, self.home.worktree, strategy=self.settings.strategy, rig=self.home.rig_name,
                          target=target, base=base)
        builder.at, self._worktree_at = self._worktree_at, None  # known state from this process's last round
        builder.checkout(base)
        conflicts = []
        candidates = []
        for item in batch:
            builder.set_source(item, sources[item.id])
            conflict = builder.conflicts_with_base(item)
            if conflict is not None:
                conflicts.append(conflict)
            else:
                candidates.append(item)
        self.journal.update(phase="gating", base=base)
        self._ignored, self._target_checks, self._flaky, self._gate_seconds = {}, {}, set(), 0.0
        outcome = run_batch(candidates, builder.build, lambda stack: self._test(stack, builder)) if candidates \
            else BatchOutcome()
        self._worktree_at = builder.at
        plan = self._plan(target, base, sources, conflicts, outcome)
        report.tests, report.gate_seconds = outcome.tests, round(self._gate_seconds, 3)
        report.bugs, report.flaky = dict(self._ignored), sorted(self._flaky)
        if self.settings.mode == "pr" and plan["pr"]:
            self.journal.update(phase="pr", plan=plan, durable=True)
            self._open_prs(plan)
        elif plan["merged"]:
            self._move_target(plan, attempt, report)
            if not report.moved:
                return
        # After "moving" the journal already holds the plan, and a restart replays it from there.
        self.journal.update(phase="outcomes", plan=plan, write=not report.moved)
        counts = Outcomes(self.home, self.ledger, self.journal, self.log).apply(plan)
        report.tip = plan.get("tip") or ""
        report.merged = [i["mr"] for i in plan["merged"] + plan["already"]]
        report.rework = [i["mr"] for i in plan["rework"]]
        report.parked = [i["mr"] for i in plan["park"]]
        report.pr_opened = [i["mr"] for i in plan["pr"] if i.get("url") is not None]
        report.released = list(plan["release"])
        self.journal.finish(report.to_dict(), rounds=1, merged=counts["merged"], rework=counts["rework"],
                            parked=counts["parked"])
        self.log(f"round {attempt['id']} done: merged={report.merged} rework={report.rework} "
                 f"parked={report.parked} released={report.released} tests={report.tests}")

    def _prepare_target(self, target: str) -> str:
        """The target commit to build on (with ``merge.push_upstream``: synced with upstream first)."""
        repo = self.home.repo
        ref = f"refs/heads/{target}"
        local = gitops.rev_parse(ref, cwd=repo)
        if local is None:
            raise VermasError(f"target branch {target} does not exist in {repo}")
        if not self.settings.push_upstream:
            return local
        upstream = gitops.fetch_ref(repo, pr.REMOTE, target)
        if upstream is None or upstream == local or gitops.is_ancestor(repo, upstream, local):
            return local
        if gitops.is_ancestor(repo, local, upstream):
            if not gitops.compare_and_swap(repo, ref, upstream, local, message="refinery: sync with upstream"):
                raise ConflictError(f"{target} moved while syncing it with upstream")
            self.log(f"{target} fast-forwarded to upstream {upstream[:12]}")
            return upstream
        raise ConflictError(f"{target} has diverged from {pr.REMOTE}/{target} ({local[:12]} vs {upstream[:12]})",
                            hint="reconcile the two by hand; the refinery only fast-forwards")

    def _plan(self, target: str, base: str, sources: dict[str, str], conflicts: list,
              outcome: BatchOutcome) -> dict:
        """What happens to each request of the round (written to the journal before anything moves)."""
        notes = outcome.stack.notes if outcome.stack else {}

        def item(m: MergeRequest) -> dict:
            return {"mr": m.id, "source": m.source_issue, "branch": m.branch, "commit": sources.get(m.id, ""),
                    "worker": m.worker, "polecat": m.polecat, "title": m.title, "note": notes.get(m.id, "")}

        plan: dict = {"target": target, "base": base, "tip": outcome.stack.tip if outcome.stack else base,
                      "mode": self.settings.mode, "strategy": self.settings.strategy, "merged": [], "already": [],
                      "rework": [], "park": [], "pr": [], "release": [], "bugs": dict(self._ignored),
                      "flaky": sorted(self._flaky),
                      "evidence": outcome.verdict.evidence_dir if outcome.verdict else ""}
        for conflict in conflicts + [c for c in outcome.deferred if c.against == base]:
            files = list(conflict.files)
            summary = (f"conflicts with {target} in {', '.join(files)}" if files
                       else f"cannot be applied on {target}: {conflict.detail}")
            plan["rework"].append({**item(conflict.mr), "kind": "conflict", "stage": "merge", "files": files,
                                   "summary": summary})
        plan["release"] = [c.mr.id for c in outcome.deferred if c.against != base]
        for culprit, verdict in outcome.culprits:
            result = verdict.result
            details = result.details if result else {}
            entry = {**item(culprit), "stage": verdict.stage, "summary": result.summary if result else "",
                     "evidence": (result.evidence_path if result else "") or verdict.evidence_dir,
                     "tail": str(details.get("output_tail", ""))[-4000:]}
            if verdict.status == NEEDS_HUMAN:
                plan["park"].append(entry)
            else:
                fixes = details.get("required_fixes") or []
                failed = details.get("failed_criteria") or []
                plan["rework"].append({**entry, "kind": "gate", "required_fixes": [str(f) for f in fixes],
                                       "failed_criteria": ", ".join(str(f) for f in failed)})
        plan["already"] = [item(m) for m in outcome.already]
        if self.settings.mode == "pr":
            plan["pr"] = [{**item(m), "head": plan["tip"], "url": None} for m in outcome.merged]
        else:
            plan["merged"] = [item(m) for m in outcome.merged]
        return plan

    def _move_target(self, plan: dict, attempt: dict, report: RoundReport) -> None:
        """Journal the plan (durable), then one compare-and-swap of the target to the tested tip."""
        repo = self.home.repo
        target, base, tip = plan["target"], plan["base"], plan["tip"]
        self.journal.update(phase="moving", plan=plan, tip=tip, durable=True)
        for entry in plan["merged"]:
            issue = self.ledger.find(entry["mr"])
            if issue is None or issue.get("status") == "closed":
                self._discard(attempt, f"{entry['mr']} was closed while being processed; round discarded")
                report.released = list(attempt.get("mrs", []))
                return
        if self.settings.push_upstream:
            try:
                gitops.push(repo, pr.REMOTE, f"{tip}:refs/heads/{target}")
            except gitops.GitError as exc:
                self._discard(attempt, f"push to {pr.REMOTE}/{target} rejected: {exc.message}; requests re-queued",
                              error=exc.message)
                report.released, report.error = list(attempt.get("mrs", [])), exc.message
                return
            remote = gitops.ls_remote(repo, pr.REMOTE, f"refs/heads/{target}")
            if remote != tip:
                raise VermasError(f"push of {target} to {pr.REMOTE} did not land (remote has {remote})")
        ids = ", ".join(i["mr"] for i in plan["merged"])
        if not gitops.compare_and_swap(repo, f"refs/heads/{target}", tip, base, message=f"refinery: merge {ids}"):
            self._discard(attempt, f"{target} moved during the round; requests re-queued")
            report.released = list(attempt.get("mrs", []))
            return
        if not self._target_contains(target, tip):
            raise VermasError(f"{target} does not contain {tip} after the move")
        report.moved = True
        self.log(f"{target}: {base[:12]} → {tip[:12]} ({ids})")
        if target not in self._warned_checked_out:
            self._warned_checked_out.add(target)
            for path in gitops.checked_out_by(repo, target):
                self.log(f"warning: {target} is checked out in {path}; that worktree lags behind every merge")

    # ================================================================= gates
    def _test(self, stack: Stack, builder: Builder) -> Verdict:
        """Run every stage on ``stack.tip`` (flaky retry, pre-existing failure check)."""
        if stack.tip == stack.base:
            return Verdict(PASS, stack.tip)
        members = stack.members or stack.order
        owner = members[-1]
        evidence = os.path.join(self.home.gate_evidence_dir(owner.source_issue, owner.id), stack.tip[:12])
        if not self.stages:
            return Verdict(PASS, stack.tip, evidence_dir=evidence)
        builder.checkout(stack.tip)
        builder.touched()  # the gates below may write files
        runs: list[dict] = []
        for index, stage in enumerate(self.stages):
            if stage.name in self._ignored:
                runs.append({"stage": stage.name, "status": "SKIPPED", "summary": f"fails on the target "
                             f"(bug {self._ignored[stage.name]})"})
                continue
            result = self._run_stage(stage, stack, members, evidence, attempt=1)
            runs.append({"stage": stage.name, **result.to_dict()})
            if result.status == FAIL and stage_flag(stage, "retry_on_fail"):
                retry = self._run_stage(stage, stack, members, evidence, attempt=2)
                runs.append({"stage": stage.name, "attempt": 2, **retry.to_dict()})
                if retry.passed:
                    self._flaky.add(stage.name)
                    self.log(f"gate {stage.name}: failed, passed on retry (flaky)")
                    continue
                result = retry
            if result.passed:
                continue
            if result.status == FAIL and stage_flag(stage, "check_target_on_fail") and \
                    self._fails_on_target(index, stack, members, evidence):
                continue
            self.log(f"gate {stage.name} on {stack.tip[:12]}: {result.status} — {result.summary}")
            return Verdict(result.status, stack.tip, stage.name, result, runs, evidence)
        return Verdict(PASS, stack.tip, runs=runs, evidence_dir=evidence)

    def _gate_spawned(self, pgid: int, marker: str) -> None:
        """Record a gate's process group, so a restarted refinery can kill it if this one dies."""
        if pgid:
            self.journal.update(gate_pgid=pgid, gate_marker=marker)

    def _run_stage(self, stage: Stage, stack: Stack, members: list[MergeRequest], evidence: str, *, attempt: int,
                   on_target: bool = False) -> StageResult:
        import time

        commit = stack.base if on_target else stack.tip
        worktree = self.home.target_worktree if on_target else self.home.worktree
        ctx = StageContext(
            town_root=self.town.root, rig=self.home.rig_name, commit=commit,
            target=members[0].target, base=stack.base, mrs=tuple(members), evidence_dir=evidence,
            timeout=self.settings.gate_timeout, attempt=attempt, on_target=on_target, should_stop=self.should_stop,
            log=self.log, on_spawn=self._gate_spawned, worktree=worktree)
        os.makedirs(evidence, exist_ok=True)
        self.journal.update(phase="gating", stage=stage.name, tip=stack.tip)
        started = time.monotonic()
        try:
            result = stage.run(ctx)
        except StageInterrupted:
            raise
        except Exception as exc:
            result = StageResult(NEEDS_HUMAN, f"stage {stage.name} raised {type(exc).__name__}: {exc}",
                                 details={"traceback": traceback.format_exc()[-4000:]})
        if not isinstance(result, StageResult):
            result = StageResult(NEEDS_HUMAN, f"stage {stage.name} returned {type(result).__name__}, not a "
                                 "StageResult")
        if not result.duration:
            result.duration = time.monotonic() - started
        self._gate_seconds += time.monotonic() - started
        return result

    def _fails_on_target(self, index: int, stack: Stack, members: list[MergeRequest], evidence: str) -> bool:
        """Does stage ``index`` fail on the target itself? If so, file (or find) a bug and ignore the stage.

        Runs in a second worktree (``<rig>/refinery/target``) so the candidate's worktree keeps
        what earlier stages (setup) left in it; the stages before this one run there first.
        """
        stage = self.stages[index]
        key = (stack.base, stage.name)
        if key in self._target_checks:
            return self._target_checks[key]
        worktree = self.home.target_worktree
        ensure_worktree(self.home.repo, worktree, stack.base)
        gitops.reset_worktree(worktree, stack.base)
        on_target: StageResult | None = None
        for earlier in self.stages[: index + 1]:
            result = self._run_stage(earlier, stack, members, evidence, attempt=1, on_target=True)
            if earlier is stage:
                on_target = result
            elif not result.passed and earlier.name not in self._ignored:
                self.log(f"cannot tell whether gate {stage.name} fails on the target: {earlier.name} fails there "
                         "first; the failure is held against the branch")
                break
        fails = on_target is not None and on_target.status == FAIL
        self._target_checks[key] = fails
        if fails and on_target is not None:
            target = members[0].target
            bug_id, created = notify.file_target_bug(
                self.ledger, self.actor, rig=self.home.rig_name, target=target, target_sha=stack.base,
                stage=stage.name, summary=on_target.summary, evidence=on_target.evidence_path or evidence,
                tail=str(on_target.details.get("output_tail", "")))
            self._ignored[stage.name] = bug_id
            self.log(f"gate {stage.name} also fails on {target} itself: bug {bug_id}"
                     + (" filed" if created else " (already filed)"))
            if created:
                notify.bug_filed(self.town.root, self.actor, rig=self.home.rig_name, bug_id=bug_id,
                                 stage=stage.name, target=target, log=self.log)
        return fails

    # ========================================================= pull requests
    def _open_prs(self, plan: dict) -> None:
        """Push and open a PR for each ``pr`` item without a URL yet; failures park the request."""
        for entry in list(plan["pr"]):
            if entry.get("url") is not None:
                continue
            source = self.ledger.find(entry["source"]) if entry.get("source") else None
            title = str((source or {}).get("title") or entry.get("title", ""))
            values = {"branch": entry["branch"], "target": plan["target"], "mr": entry["mr"],
                      "source": entry.get("source", ""), "title": title, "rig": self.home.rig_name,
                      "commit": entry["head"], "worker": entry.get("worker", ""),
                      "body": f"Merge request {entry['mr']} for {entry.get('source', '')} from "
                              f"{entry.get('worker', '')}; gates passed at {entry['head'][:12]}."}
            try:
                url, _output = pr.open_pull_request(self.home.repo, template=self.settings.pr_command, values=values,
                                                    head=entry["head"], branch=entry["branch"],
                                                    environ=self.environ, cwd=self.home.worktree)
            except pr.PullRequestError as exc:
                self.log(f"{entry['mr']}: {exc.message}")
                plan["pr"].remove(entry)
                plan["park"].append({**entry, "stage": "pr", "summary": exc.message, "evidence": ""})
                self.journal.write()
                continue
            entry["url"] = url
            self.journal.write()
            self.log(f"{entry['mr']}: pull request opened {url or '(no URL printed)'}")

    def _check_pull_requests(self, open_prs: list[MergeRequest], report: RoundReport) -> None:
        """Finish requests whose pull request has landed upstream."""
        if not open_prs:  # checked even after merge.mode went back to direct: the label is the state
            return
        repo = self.home.repo
        for target in sorted({m.target for m in open_prs}):
            upstream = gitops.fetch_ref(repo, pr.REMOTE, target)
            if upstream is None:
                self.log(f"cannot fetch {pr.REMOTE}/{target} to check pull requests")
                continue
            landed = [m for m in open_prs if m.target == target and pr.landed(repo, m.fields.get("pr_head", ""),
                                                                                upstream)]
            if not landed:
                continue
            local = gitops.rev_parse(f"refs/heads/{target}", cwd=repo)
            if local and local != upstream and gitops.is_ancestor(repo, local, upstream):
                gitops.compare_and_swap(repo, f"refs/heads/{target}", upstream, local,
                                        message="refinery: sync with upstream after PR merge")
            attempt = self.journal.begin(target, [m.id for m in landed])
            plan = {"target": target, "base": upstream, "tip": upstream, "mode": "pr", "merged": [
                {"mr": m.id, "source": m.source_issue, "branch": m.branch, "commit": m.commit_sha,
                 "worker": m.worker, "polecat": m.polecat, "title": m.title,
                 "note": f"pull request {m.fields.get('pr_url', '')} landed"} for m in landed],
                "already": [], "rework": [], "park": [], "pr": [], "release": [], "bugs": {}, "flaky": []}
            self.journal.update(phase="outcomes", plan=plan, base=upstream, tip=upstream)
            counts = Outcomes(self.home, self.ledger, self.journal, self.log).apply(plan)
            report.merged += [m.id for m in landed]
            self.journal.finish({"attempt": attempt["id"], "target": target, "merged": [m.id for m in landed],
                                 "tip": upstream, "pr_landed": True}, merged=counts["merged"])
