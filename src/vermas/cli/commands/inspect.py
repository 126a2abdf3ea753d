"""``vermas inspect``: run the Inspector, see its verdicts and evidence, resolve and label them."""

from __future__ import annotations

from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
The Inspector verifies a bead's work against its approved test spec: the verifier runs every
criterion in a clean throw-away checkout (no LLM), then the panel — auditor (subjective
criteria), advocate and critic in parallel, judge — answers as headless prompts through the
runtimes of verify.runtime.<role>. Rules no LLM can overrule: a failed objective criterion is
FAIL; a timeout, an error or garbage from the panel is NEEDS_HUMAN; a PASS below
verify.confidence_threshold is NEEDS_HUMAN. The refinery runs it as its last stage: PASS
merges, FAIL goes back to the polecat as rework, NEEDS_HUMAN parks the merge request and
escalates to the mayor until 'inspect resolve'.

examples:
  vermas inspect run ap-x7k                   # its newest merge request
  vermas inspect run ap-mr3 --json            # a merge request
  vermas inspect run ap-x7k --commit main     # any commit (do the criteria fail before the work?)
  vermas inspect status                       # latest verdicts and what waits for a human
  vermas inspect show ap-x7k                  # criteria results, briefs, reasoning, evidence
  vermas inspect resolve ap-x7k --verdict PASS --reason "checked by hand: AC-6 output is fine"
  vermas inspect label ap-x7k incorrect --note "AC-4 was flaky, the code is right"

exit codes: run: 0 PASS, 1 FAIL or NEEDS_HUMAN (see the verdict), 3 unknown bead or nothing
submitted; resolve: 5 while the refinery is processing the request.
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Run the Inspector pipeline and work with its verdicts."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("run", help="verify a bead (its newest merge request) or a merge request",
                        description="Verify REF now: spec, clean checkout, every criterion, the panel, the rules; "
                                    "records the evidence and a verification-result bead. Does not merge or route.")
    p.add_argument("ref", metavar="BEAD|MR")
    p.add_argument("--commit", metavar="REV", help="verify this commit of the rig instead of the merge request's")
    p.add_argument("--objective-only", action="store_true", default=None,
                   help="skip the LLM panel (default: config verify.objective_only)")
    p.add_argument("--audit", action="store_true", help="also have the auditor review the objective criteria")
    p.add_argument("--no-retry", action="store_true", help="do not re-run a failing criterion (flaky check)")
    p.add_argument("--track", action="store_true",
                   help="record the run as a mol-inspect-verify wisp, a step per stage (vermas mol views)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_run)

    p = subs.add_parser("status", help="latest verdicts, and what waits for a human",
                        description="Without BEAD: the latest verdict of each verified bead (newest first) and the "
                                    "beads waiting for a human. With BEAD: its spec, runs, merge requests and "
                                    "escalations.")
    p.add_argument("bead", nargs="?")
    p.add_argument("-n", "--limit", type=int, default=30, help="rows (default 30)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("show", help="one verdict in full: criteria, briefs, reasoning, fixes, evidence",
                        description="The newest verdict of BEAD (or --run RUN_ID) from its evidence files.")
    p.add_argument("bead")
    p.add_argument("--run", metavar="RUN_ID", help="an older run (see 'inspect status BEAD')")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_show)

    p = subs.add_parser("resolve", help="a human's verdict on a bead the Inspector could not decide",
                        description="Record your verdict (a verification-result bead) and route it: PASS unparks the "
                                    "merge request (the refinery merges it if its objective criteria still pass); "
                                    "FAIL rejects it back to the polecat with your reason as the required fix.")
    p.add_argument("bead")
    p.add_argument("--verdict", required=True, type=str.upper, choices=("PASS", "FAIL"))
    p.add_argument("--reason", required=True, help="why (recorded; the rework instructions for FAIL)")
    p.add_argument("--fix", action="append", default=[], help="a required fix (repeatable; FAIL)")
    p.add_argument("--no-resling", action="store_true", help="FAIL: do not re-sling the bead with --rework")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_resolve)

    p = subs.add_parser("label", help="say whether a verdict was right (for 'eval verify-accuracy')",
                        description="Label the newest machine verdict of BEAD (or --result) correct or incorrect.")
    p.add_argument("bead")
    p.add_argument("label", choices=("correct", "incorrect"))
    p.add_argument("--note", default="")
    p.add_argument("--result", metavar="VR", help="a particular verification-result bead")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_label)

    p = subs.add_parser("rework", help="re-sling a rejected bead with its failure context (sling --rework)",
                        description="Re-sling BEAD with --rework. With --after MR, first wait until the refinery has "
                                    "closed MR, and only re-sling if it was rejected (what the Inspector's stage "
                                    "starts, detached, on a FAIL).")
    p.add_argument("bead")
    p.add_argument("--after", metavar="MR", help="wait for this merge request to be closed first")
    p.add_argument("--polecat", metavar="NAME", help="a particular polecat (default: the one holding it, else any)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds to wait with --after (default 900)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_rework)


# ------------------------------------------------------------------ helpers
def _town(env: Environment):
    from vermas.cli import context
    from vermas.town.layout import Town

    return Town(context.require_town(env))


def _default_dir(env: Environment, args: argparse.Namespace) -> str | None:
    from vermas.cli import context

    if getattr(args, "rig", None):
        return context.rig_beads_dir(env, args.rig)
    try:
        return context.local_beads_dir(env)
    except NotFoundError:
        return None


def _bead_ledger(env: Environment, args: argparse.Namespace, town, ref: str):
    from vermas.cli import context
    from vermas.verify import targets

    return context.open_ledger(env, targets.ledger_of(town, ref, _default_dir(env, args)))


def _verdict_line(data: dict) -> str:
    return (f"{data['verdict']} ({float(data.get('confidence') or 0):.2f})  {data.get('criteria_passed')}/"
            f"{data.get('criteria_total')} criteria  rule {data.get('rule')}")


# ------------------------------------------------------------------ run
def _run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import pipeline, targets
    from vermas.verify import settings as settings_mod

    town = _town(env)
    target = targets.resolve(town, args.ref, default_beads_dir=_default_dir(env, args), commit=args.commit,
                             rig=args.rig)
    settings = settings_mod.load(town, target.rig, env.environ, objective_only=args.objective_only)
    env.info(f"inspecting {target.bead_id} at {target.commit[:12]}"
             + (f" (merge request {target.mr_id})" if target.mr_id else "") + " …")
    tracker = None
    if args.track:
        from vermas.verify.tracking import Tracker

        tracker = Tracker(town, target, settings, actor=env.actor(), environ=env.environ)
        env.info(f"tracking the run as molecule {tracker.molecule}")
    result = pipeline.run(town, target, settings=settings, actor=env.actor(), environ=env.environ, log=env.info,
                          retry=not args.no_retry, audit_all=args.audit,
                          on_stage=tracker.stage if tracker else (lambda stage, outcome, note: None))
    data = result.to_dict()
    if tracker is not None:
        tracker.finish(f"{result.status}: not routed ('inspect run' only verifies; the refinery routes)")
        data["molecule"] = {"id": tracker.molecule, "errors": tracker.errors}
        for error in tracker.errors:
            env.warn(f"tracking: {error}")
    if args.json:
        env.print_json(data)
    else:
        env.write(f"{target.bead_id}: {_verdict_line(data)}")
        for c in result.results:
            mark = {"pass": "✓", "flaky": "~", "pending": "?"}.get(c.get("status"), "✗")
            env.write(f"  {mark} {c['id']:<6} {c.get('status'):<8} {c.get('description', '')[:70]}")
        for role, answer in result.answers.items():
            state = "ok" if answer.ok else f"{answer.error_kind}: {answer.error[:100]}"
            env.write(f"  panel {role:<9} {answer.runtime:<10} {state}")
        env.write(f"  reasoning: {result.verdict.reasoning}")
        for fix in result.verdict.required_fixes:
            env.write(f"  fix: {fix}")
        env.write(f"  evidence: {result.run_dir}")
        env.write(f"  recorded: {result.result_bead}  (vermas inspect show {target.bead_id})")
    return 0 if result.status == "PASS" else 1


# ------------------------------------------------------------------ status
def _status(env: Environment, args: argparse.Namespace) -> int:
    town = _town(env)
    if args.bead:
        return _bead_status(env, args, town)
    from vermas.town import escalations
    from vermas.verify import accuracy, routing

    rows = accuracy.verdict_rows(town, args.rig)
    latest: dict[str, dict] = {}
    for row in rows:
        latest[row["bead"]] = row
    from vermas.ledger import timefmt

    ordered = sorted(latest.values(), key=lambda r: (timefmt.parse_ns(r["created_at"]) or 0, r["id"]),
                     reverse=True)[: args.limit]  # newest verdict first
    waiting = [e for e in escalations.list_escalations(town.root)
               if e["source"].startswith(routing.ESCALATION_SOURCE + ":")]
    if args.json:
        env.print_json({"latest": ordered, "needs_human": waiting})
        return 0
    if not ordered:
        env.write("no verdicts yet (the refinery runs the Inspector; or: vermas inspect run <bead>)")
    for r in ordered:
        who = " (human)" if r["human"] else ""
        env.write(f"{r['bead']:<14} {r['verdict']:<11} {r['confidence']:.2f}  {r['criteria_passed'] or 0}/"
                  f"{r['criteria_total'] or 0}  {r['rule']:<12} {r['mr'] or '-':<12} {r['created_at'][:19]}{who}")
    if waiting:
        env.write("waiting for a human:")
        for e in waiting:
            env.write(f"  {e['related_bead']:<14} {e['id']}  {e['title']}")
            env.write(f"      vermas inspect resolve {e['related_bead']} --verdict PASS|FAIL --reason '…'")
    return 0


def _bead_status(env: Environment, args: argparse.Namespace, town) -> int:
    from vermas.town import escalations
    from vermas.verify import records, routing, targets
    from vermas.verify import spec as spec_mod

    ledger = _bead_ledger(env, args, town, args.bead)
    bead = ledger.get(args.bead)
    try:
        spec = spec_mod.for_work(ledger, bead["id"])
        spec_view = {"id": spec.id, "state": spec.state, "criteria": len(spec.criteria),
                     "threshold": spec.threshold} if spec else None
    except UsageError:
        spec_view = None
    runs = records.results_for(ledger, bead["id"])
    mrs = [{"id": i["id"], "status": i.get("status"), "close_reason": i.get("close_reason") or None,
            "parked": "mq:parked" in (i.get("labels") or [])}
           for i, _d in targets.merge_requests_for(town, bead["id"], ledger.dir)]
    waiting = [e for e in escalations.list_escalations(town.root)
               if e["related_bead"] == bead["id"] and e["source"].startswith(routing.ESCALATION_SOURCE + ":")]
    data = {"bead": bead["id"], "title": bead.get("title", ""), "status": bead.get("status", "open"),
            "spec": spec_view, "latest": runs[-1] if runs else None, "runs": runs, "merge_requests": mrs,
            "escalations": waiting}
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{bead['id']}  {bead.get('title', '')}  ({bead.get('status', 'open')})")
    env.write(f"  spec: {spec_view['id']} {spec_view['state']}, {spec_view['criteria']} criteria, threshold "
              f"{spec_view['threshold']}" if spec_view else "  spec: none")
    for r in runs:
        env.write(f"  {r['created_at'][:19]}  {r['id']:<12} {_verdict_line(r)}  mr {r['mr'] or '-'}"
                  + ("  (human)" if r["human"] else "") + (f"  [labelled {r['label']}]" if r["label"] else ""))
    for m in mrs:
        env.write(f"  merge request {m['id']}: {m['status']}" + (f" ({m['close_reason']})" if m["close_reason"] else "")
                  + ("  parked" if m["parked"] else ""))
    for e in waiting:
        env.write(f"  waiting for a human: {e['id']}  → vermas inspect resolve {bead['id']} --verdict PASS|FAIL "
                  "--reason '…'")
    return 0


# ------------------------------------------------------------------ show
def _show(env: Environment, args: argparse.Namespace) -> int:
    import os

    from vermas.verify import evidence, records

    town = _town(env)
    ledger = _bead_ledger(env, args, town, args.bead)
    bead = ledger.get(args.bead)
    root = evidence.bead_dir(ledger.dir, bead["id"])
    folder = os.path.join(root, "runs", evidence.safe(args.run)) if args.run else root
    verdict = evidence.read_json(os.path.join(folder, "verdict.json"))
    if verdict is None:
        raise NotFoundError(f"no verification evidence for {bead['id']}" + (f" run {args.run}" if args.run else "")
                            + f" in {root}", hint=f"run it: vermas inspect run {bead['id']}")
    results = evidence.read_json(os.path.join(folder, "results.json")) or []
    briefs = {}
    briefs_dir = os.path.join(folder, "briefs")
    if os.path.isdir(briefs_dir):
        for name in sorted(os.listdir(briefs_dir)):
            briefs[name.removesuffix(".json")] = evidence.read_json(os.path.join(briefs_dir, name))
    data = {**verdict, "results": results, "briefs": briefs, "evidence_dir": folder,
            "history": records.results_for(ledger, bead["id"])}
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{bead['id']}  {bead.get('title', '')}")
    env.write(f"  verdict: {_verdict_line(verdict)}  decided by {verdict.get('decided_by')}")
    env.write(f"  commit {str(verdict.get('commit'))[:12]} on {str(verdict.get('base'))[:12]}  mr "
              f"{verdict.get('mr_id') or '-'}  spec {verdict.get('spec_id') or '-'}  run {verdict.get('run_id')}")
    env.write(f"  reviewed by: {verdict.get('reviewed_by')}")
    for r in results:
        env.write(f"  {r['id']:<6} {r.get('status'):<8} exit {r.get('exit_code')!s:<4} "
                  f"{r.get('duration_ms', 0):>7.0f} ms  {r.get('description', '')}")
        env.write(f"         $ {r.get('verify_command')}")
        for stream in ("stdout", "stderr"):
            text = (r.get(stream) or "").strip()
            if text and r.get("status") != "pass":
                env.write(f"         {stream}: " + text[-300:].replace("\n", "\n                 "))
        if r.get("audit"):
            env.write(f"         auditor: {r['audit'].get('verdict')} — {r['audit'].get('reasoning')}")
    for role, brief in briefs.items():
        if not brief:
            continue
        if not brief.get("ok"):
            env.write(f"  {role} ({brief.get('runtime')}): {brief.get('error_kind')}: {brief.get('error')}")
            continue
        answer = brief.get("answer") or {}
        if role == "judge":
            env.write(f"  judge ({brief.get('runtime')}): {answer.get('verdict')} ({answer.get('confidence')})")
        else:
            env.write(f"  {role} ({brief.get('runtime')}): {answer.get('summary') or ''}")
            for argument in (answer.get("arguments") or [])[:6]:
                env.write(f"     - {argument}")
    env.write(f"  reasoning: {verdict.get('reasoning')}")
    for fix in verdict.get("required_fixes") or []:
        env.write(f"  fix: {fix}")
    for item in verdict.get("integrity") or []:
        env.write(f"  integrity: {item['criterion_id']} runs {item['path']}, which the change edits")
    env.write(f"  evidence: {folder}")
    return 0


# ------------------------------------------------------------------ resolve / label / rework
def _resolve(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import routing

    town = _town(env)
    env.info(f"resolving {args.bead}: {args.verdict} …")
    data = routing.resolve(town, args.bead, args.verdict, args.reason, actor=env.actor(), fixes=args.fix,
                           default_beads_dir=_default_dir(env, args), environ=env.environ,
                           resling=not args.no_resling, log=env.info)
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{data['bead']}: {data['verdict']} recorded as {data['result_bead']} ({data['action']}"
              + (f" merge request {data['mr']}" if data.get("mr") else "") + ")")
    if data.get("rework"):
        rw = data["rework"]
        env.write(f"  rework: {rw.get('action')} on {rw.get('polecat') or '-'}"
                  + (f" — {rw['error']}" if rw.get("error") else ""))
    if data["escalations_closed"]:
        env.write(f"  closed escalation(s): {', '.join(data['escalations_closed'])}")
    return 0


def _label(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import records

    town = _town(env)
    ledger = _bead_ledger(env, args, town, args.bead)
    bead = ledger.get(args.bead)
    if args.result:
        target = records.describe(ledger.get(args.result))
        if target["bead"] != bead["id"]:
            raise UsageError(f"{args.result} is not a verdict of {bead['id']}")
    else:
        target = records.latest(ledger, bead["id"], human=False)
        if target is None:
            raise NotFoundError(f"{bead['id']} has no Inspector verdict to label",
                                hint=f"vermas inspect run {bead['id']}")
    issue = records.set_label(ledger, env.actor(), target["id"], args.label == "correct", note=args.note)
    data = records.describe(issue)
    if args.json:
        env.print_json(data)
    else:
        env.write(f"{data['id']} ({data['verdict']} for {bead['id']}): labelled {args.label}")
    return 0


def _rework(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import routing

    town = _town(env)
    ledger = _bead_ledger(env, args, town, args.bead)
    bead_id = ledger.get(args.bead)["id"]
    rig = args.rig or routing.find_rig(town, bead_id, ledger.dir)
    from vermas.town.rigs import rig_info

    rig_info(town, rig)
    if args.after:
        env.info(f"waiting for {args.after} to be closed before re-slinging {bead_id} …")
        data = routing.rework_after(town, rig, bead_id, args.after, actor=env.actor(), environ=env.environ,
                                    timeout=args.timeout, log=env.info)
    else:
        data = routing.rework(town, rig, bead_id, actor=env.actor(), environ=env.environ, log=env.info,
                              polecat=args.polecat)
    if args.json:
        env.print_json(data)
    else:
        env.write(f"{bead_id}: {data.get('action')}" + (f" on {data['polecat']}" if data.get("polecat") else "")
                  + (f" — {data['error']}" if data.get("error") else ""))
    return 0 if data.get("action") not in ("failed", "timeout") else 1
