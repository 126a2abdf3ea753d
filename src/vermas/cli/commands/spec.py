"""``vermas spec``: test specs — the acceptance criteria a work bead must meet, approved before sling."""

from __future__ import annotations

from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.ledger.store import Ledger

EPILOG = """\
A test spec is a bead of type test-spec (id <prefix>-spec-<suffix>, e.g. ap-spec-x7k for
ap-x7k) holding acceptance criteria: each a shell command that must exit with its expected
code (default 0) within its timeout (default 60 s), or a subjective criterion the auditor
decides. The work bead waits for its spec (a blocks dependency): it is not ready, and
'vermas sling' refuses it, until the spec is approved. SPEC may be the spec id, its short
form (spec-x7k) or the work bead's id.

examples:
  vermas spec create ap-x7k                        # a draft spec; ap-x7k now waits for it
  vermas spec draft ap-x7k                         # or let the designer and strategist propose one
  vermas spec add-criteria ap-x7k --description "prints 100 lines" \\
      --verify "python fizzbuzz.py | wc -l | grep -qx 100"
  vermas spec add-criteria ap-x7k --description "line 15 is FizzBuzz" \\
      --verify "python fizzbuzz.py | sed -n 15p | grep -qx FizzBuzz" --hint "check 15 first"
  vermas spec add-criteria ap-x7k --description "readable, documented code" --subjective
  vermas spec show ap-x7k
  vermas spec approve ap-spec-x7k                  # records who approved; ap-x7k becomes ready
  vermas spec reopen ap-spec-x7k --reason "AC-3 is wrong"

exit codes: 2 bad criterion or threshold; 3 unknown bead or no spec; 5 the bead already has a
spec, or the spec is approved (reopen it to edit).
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Write, inspect and approve test specs: the acceptance criteria the Inspector verifies "
                          "before a bead's work may merge.")
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("create", help="create a draft spec for a work bead (the bead then waits for it)",
                        description="Create the test spec of BEAD (draft, no criteria yet) and make BEAD wait for "
                                    "it (blocks dependency).")
    p.add_argument("bead", help="the work bead (task, feature, bug…)")
    p.add_argument("--threshold", default="all", help="criteria that must pass: 'all' (default) or a percentage (80%%)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_create)

    p = subs.add_parser("add-criteria", help="add one acceptance criterion to a draft spec",
                        description="Add a criterion (the next AC-n). Objective criteria need --verify: a shell "
                                    "command run in a clean checkout of the work; it passes when it exits with "
                                    "--expect within --timeout. --subjective ones are decided by the auditor (an LLM) "
                                    "from the evidence; their command, if any, only gathers evidence.")
    p.add_argument("spec", metavar="SPEC", help="the spec (id, spec-<suffix>, or the work bead's id)")
    p.add_argument("--description", "-d", required=True, help="what must be true")
    p.add_argument("--verify", default="", metavar="CMD", help="shell command that decides it")
    p.add_argument("--expect", type=int, default=0, metavar="N", help="expected exit code (default 0)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds it may run (default 60)")
    p.add_argument("--subjective", action="store_true", help="decided by the auditor, not by the exit code")
    p.add_argument("--hint", default="", help="what to do when it fails (sent with the rework request)")
    p.add_argument("--id", dest="cid", metavar="AC-N", help="the criterion id (default: the next free one)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_add)

    p = subs.add_parser("remove-criteria", help="remove a criterion from a draft spec",
                        description="Remove criterion AC-N from a draft spec.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("criterion", metavar="AC-N")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_remove)

    p = subs.add_parser("set", help="change the threshold of a draft spec",
                        description="Change the success threshold of a draft spec.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--threshold", required=True, help="'all' or a percentage (80%%)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_set)

    p = subs.add_parser("show", help="a spec: criteria, threshold, approval",
                        description="Show a spec: its criteria with their commands, the threshold, who approved it "
                                    "and whether its criteria still match the approval.")
    p.add_argument("spec", metavar="SPEC")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_show)

    p = subs.add_parser("list", help="specs of a ledger with their state",
                        description="Every spec of the ledger (draft, approved, tampered) with its work bead.")
    p.add_argument("--all", action="store_true", help="include approved specs of closed work")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_list)

    p = subs.add_parser("approve", help="approve a spec (records who); the work bead becomes ready",
                        description="Approve (close) a draft spec with at least one criterion. Records the approver, "
                                    "the time and a digest of the criteria (a later change makes verification ask a "
                                    "human).")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--note", default="", help="a note recorded with the approval")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_approve)

    p = subs.add_parser("reopen", help="withdraw an approval so the criteria can change",
                        description="Reopen an approved spec: the work bead waits again until it is re-approved.")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--reason", default="", help="why (recorded on the spec)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_reopen)

    p = subs.add_parser("draft", help="designer + strategist propose requirements and criteria (a draft)",
                        description="Ask the designer (requirements) then the strategist (one command per testable "
                                    "requirement) — headless prompts through the runtime of verify.runtime.designer "
                                    "/ .strategist — and write the proposal into BEAD's draft spec (created if "
                                    "needed). Nothing is approved: edit, then 'vermas spec approve'.")
    p.add_argument("bead", help="the work bead")
    p.add_argument("--replace", action="store_true", help="replace the draft's criteria instead of adding to them")
    p.add_argument("--dry-run", action="store_true", help="print the proposal; write nothing")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_draft)


# ------------------------------------------------------------------ helpers
def ledger_for_ref(env: Environment, args: argparse.Namespace, ref: str) -> tuple[Ledger, str]:
    """The ledger holding ``ref`` (a spec id, ``spec-<suffix>``, or a bead id) and the ref to use there."""
    from vermas.cli import context

    if ref.startswith("spec-") and not getattr(args, "rig", None):
        town = context.find_town(env)
        if town is not None:
            from vermas.ledger import routes

            for rig in routes.rigs(town):
                if rig.beads_dir and rig.prefix:
                    candidate = f"{rig.prefix.rstrip('-')}-{ref}"
                    ledger = context.open_ledger(env, rig.beads_dir)
                    if ledger.exists(candidate):
                        return ledger, candidate
    return context.ledger_for(env, args, ref), ref


def _print_spec(env: Environment, data: dict) -> None:
    from vermas.verify.criteria import Criterion
    from vermas.verify.spec import Spec, render_text

    state = data["state"]
    who = f" by {data['approved_by']} at {data['approved_at']}" if data.get("approved_by") else ""
    env.write(f"{data['id']}  test spec of {data['work_bead']}  [{state}{who}]")
    if state == "tampered":
        env.write("  ! the criteria changed after approval: verification will ask a human")
    spec = Spec(id=data["id"], work_bead=data["work_bead"], threshold=data["threshold"],
                criteria=[Criterion.from_dict(c) for c in data["criteria"]])
    for line in render_text(spec).splitlines():
        env.write("  " + line)
    reqs = data.get("requirements") or {}
    for key in ("functional", "non_functional", "constraints", "examples"):
        values = reqs.get(key) or []
        if values:
            env.write(f"  {key.replace('_', '-')} requirements:" if key != "examples" else "  examples:")
            for value in values:
                env.write(f"    - {value}")


def _done(env: Environment, args: argparse.Namespace, data: dict, line: str) -> int:
    if args.json:
        env.print_json(data)
    else:
        env.write(line)
    return 0


# ------------------------------------------------------------------ actions
def _create(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.bead)
    spec = spec_mod.create(ledger, env.actor(), ref, threshold=args.threshold)
    return _done(env, args, spec.to_dict(),
                 f"created {spec.id} (draft) for {spec.work_bead}; {spec.work_bead} waits for its approval\n"
                 f"  next: vermas spec add-criteria {spec.id} --description '…' --verify 'CMD'   "
                 f"(or: vermas spec draft {spec.work_bead})")


def _add(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    if not args.subjective and not args.verify.strip():
        raise UsageError("an objective criterion needs --verify CMD",
                         hint="give the shell command that decides it, or mark it --subjective for the auditor")
    ledger, ref = ledger_for_ref(env, args, args.spec)
    spec, criterion = spec_mod.add_criterion(ledger, env.actor(), ref, description=args.description,
                                             command=args.verify, expected=args.expect, timeout=args.timeout,
                                             objective=not args.subjective, hint=args.hint, cid=args.cid)
    kind = "subjective" if args.subjective else \
        f"exit {criterion.expected_exit_code} within {criterion.timeout_seconds:g}s"
    return _done(env, args, {"spec": spec.to_dict(), "criterion": criterion.to_dict()},
                 f"{spec.id}: added {criterion.id} ({kind}): {criterion.description}")


def _remove(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.spec)
    spec = spec_mod.remove_criterion(ledger, env.actor(), ref, args.criterion)
    return _done(env, args, spec.to_dict(), f"{spec.id}: removed {args.criterion.upper()} "
                                            f"({len(spec.criteria)} criteria left)")


def _set(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.spec)
    spec = spec_mod.update(ledger, env.actor(), ref, threshold=args.threshold)
    return _done(env, args, spec.to_dict(), f"{spec.id}: threshold {spec.threshold}")


def _show(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.spec)
    data = spec_mod.resolve(ledger, ref).to_dict()
    work = ledger.find(data["work_bead"]) if data["work_bead"] else None
    data["work"] = {"id": work["id"], "title": work.get("title", ""), "status": work.get("status", "open"),
                    "type": work.get("issue_type", "task")} if work else None
    if args.json:
        env.print_json(data)
        return 0
    _print_spec(env, data)
    if work is not None:
        env.write(f"  work: {work['id']} {work.get('title', '')} ({work.get('status', 'open')})")
    return 0


def _list(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli import context
    from vermas.ledger import queries
    from vermas.verify import spec as spec_mod

    ledger = context.ledger_for(env, args)
    rows = []
    for issue in queries.list_issues(ledger.conn, issue_type=(spec_mod.SPEC_TYPE,), order="created"):
        spec = spec_mod.parse_issue(issue)
        work = ledger.find(spec.work_bead) if spec.work_bead else None
        if not args.all and work is not None and work.get("status") == "closed":
            continue
        rows.append({"id": spec.id, "work_bead": spec.work_bead, "state": spec.state, "criteria": len(spec.criteria),
                     "threshold": spec.threshold, "approved_by": spec.approved_by or None,
                     "work_status": work.get("status") if work else None,
                     "work_title": work.get("title", "") if work else ""})
    if args.json:
        env.print_json(rows)
        return 0
    if not rows:
        env.write("no test specs" + ("" if args.all else " for open work (--all shows every one)"))
    for r in rows:
        env.write(f"{r['id']:<16} {r['state']:<9} {r['criteria']:>2} criteria  {r['work_bead']:<12} "
                  f"{r['work_status'] or '?':<11} {r['work_title'][:50]}")
    return 0


def _approve(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.spec)
    spec = spec_mod.approve(ledger, env.actor(), ref, note=args.note)
    return _done(env, args, spec.to_dict(),
                 f"approved {spec.id} ({len(spec.criteria)} criteria, threshold {spec.threshold}) as "
                 f"{spec.approved_by}; {spec.work_bead} can be slung")


def _reopen(env: Environment, args: argparse.Namespace) -> int:
    from vermas.verify import spec as spec_mod

    ledger, ref = ledger_for_ref(env, args, args.spec)
    spec = spec_mod.reopen(ledger, env.actor(), ref, reason=args.reason)
    return _done(env, args, spec.to_dict(), f"reopened {spec.id}: {spec.work_bead} waits for it again")


def _draft(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli import context
    from vermas.town.layout import Town
    from vermas.verify import drafting, targets
    from vermas.verify import settings as settings_mod

    root = context.require_town(env)
    town = Town(root)
    ledger, ref = ledger_for_ref(env, args, args.bead)
    bead_id = ledger.get(ref)["id"]
    rig = targets.rig_of_beads_dir(town, ledger.dir)
    settings = settings_mod.load(town, rig, env.environ)
    env.info(f"drafting a spec for {bead_id}: designer ({settings.runtime_for('designer')}), then strategist "
             f"({settings.runtime_for('strategist')}) …")
    data = drafting.draft(town, bead_id, ledger.dir, settings=settings, actor=env.actor(), environ=env.environ,
                          replace=args.replace, write=not args.dry_run)
    if args.json:
        env.print_json(data)
        return 0
    reqs = data["requirements"]
    for key in ("functional", "non_functional", "constraints", "examples"):
        for value in reqs.get(key) or []:
            env.write(f"  {key}: {value}")
    for c in data["criteria"]:
        env.write(f"  {c['id']} {c['description']}\n       $ {c['verify_command']}")
    for u in data["untestable"]:
        env.write(f"  untestable (add it --subjective if it matters): {u}")
    for r in data["rejected"]:
        env.write(f"  rejected proposal: {r['reason']}")
    if data["written"]:
        env.write(f"written to {data['spec']} (draft): review it (vermas spec show {data['spec']}), edit, then "
                  f"vermas spec approve {data['spec']}")
    else:
        env.write("dry run: nothing written")
    return 0
