"""``vermas mol``: cook, pour and wisp formulas; drive and inspect molecules; squash, burn, gc.

A molecule is a formula instance in the ledger: a root bead (type ``molecule``) and one child
bead per step. Step states (pending, ready, in_progress, completed, failed, skipped) are read
from the beads, so a restarted agent runs ``vermas mol current`` and carries on.
"""

from __future__ import annotations

from vermas.cli.args import key_value
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.ledger.store import Ledger

_MARK = {"pending": " ", "ready": ">", "in_progress": "~", "completed": "x", "failed": "!", "skipped": "-"}


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Molecules: formula instances tracked step by step in the ledger. Cook a formula "
                          "(print the step graph), pour it (persistent) or wisp it (local, with a TTL), drive its "
                          "steps, then squash or burn it.")
    parser.epilog = """step states: pending (needs unfinished), ready, in_progress, completed, failed (keeps its
dependents blocked), skipped (dependents proceed)

examples:
  vermas mol cook mol-polecat-work --var issue=gt-abc
  vermas mol pour mol-polecat-work --on gt-abc --var issue=gt-abc
  vermas mol current gt-abc                 # the molecule attached to gt-abc: what to do now
  vermas mol step done gt-mol-x7k.3 --result "tests pass"
  vermas mol step fail gt-mol-x7k.4 --reason "lint fails"
  vermas mol progress gt-mol-x7k
  vermas mol wisp mol-witness-patrol --var rig=app --ttl 2h
  vermas mol squash gt-mol-x7k --summary "shipped"
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")

    p = sub.add_parser("cook", help="print the step graph a formula cooks into (nothing is written)",
                       description="Resolve a formula (extends, [compose], convoy legs) and print its step graph. "
                                   "Without --var (or --runtime) it is cooked in compile-time mode: placeholders "
                                   "are kept and required vars are listed as unbound. With --var, vars are bound "
                                   "and checked as for a pour.",
                       epilog="examples:\n  vermas mol cook mol-witness-patrol --var rig=app\n"
                              "  vermas mol cook ./my.formula.toml --json\n")
    _formula_args(p)
    p.add_argument("--runtime", action="store_true", help="bind vars (defaults and required checks) even without --var")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_cook)

    for verb, text in (("pour", "instantiate a formula as a persistent molecule"),
                       ("wisp", "instantiate a formula as an ephemeral molecule (local, never exported, with a TTL)")):
        p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".",
                           epilog=f"examples:\n  vermas mol {verb} mol-polecat-work --on gt-abc --var issue=gt-abc\n"
                                  f"  vermas mol {verb} towers-of-hanoi --json\n")
        _formula_args(p)
        p.add_argument("--on", metavar="BEAD", help="attach the molecule to this work bead (recorded both ways)")
        p.add_argument("--replace", action="store_true",
                       help="with --on: burn the molecule already attached to the bead first")
        p.add_argument("--assignee", default="", metavar="WHO", help="assignee of the root and its steps")
        if verb == "wisp":
            p.add_argument("--ttl", default="24h", metavar="DURATION",
                           help="how long the wisp lives before 'vermas mol gc' burns it (default 24h)")
        p.add_common(json=True, rig=True)
        p.set_defaults(handler=run_pour, ephemeral=verb == "wisp")

    p = sub.add_parser("list", help="molecules in this ledger with their progress",
                       description="Molecule roots in this ledger (open ones unless --all), with progress.")
    p.add_argument("--all", action="store_true", help="include closed molecules")
    p.add_argument("--wisps", action="store_true", help="only wisps")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_list)

    for verb, text, handler in (
        ("show", "a molecule: root, vars, attachment, progress and steps", run_show),
        ("steps", "every step of a molecule with its state", run_steps),
        ("progress", "counts of steps per state", run_progress),
        ("current", "the first unfinished step(s): what to run now (after a restart too)", run_current),
    ):
        p = sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ". MOL may be a molecule "
                           "id, one of its step ids, or a work bead it is attached to.")
        p.add_argument("mol", nargs="?" if verb == "current" else None, metavar="MOL",
                       help="molecule, step or attached work bead" + (" (default: $BEAD_ID's molecule)"
                                                                       if verb == "current" else ""))
        if verb == "steps":
            p.add_argument("--state", choices=("pending", "ready", "in_progress", "completed", "failed", "skipped"),
                           help="only steps in this state")
        if verb in ("show", "steps"):
            p.add_argument("--full", action="store_true", help="include descriptions and acceptance criteria")
        p.add_common(json=True, rig=True)
        p.set_defaults(handler=handler)

    step = sub.add_parser("step", help="move a step: start, done, fail, skip, retry",
                          description="Move one step of a molecule along. STEP is the step's bead id, or with "
                                      "--mol a child number or the formula's step id.")
    step_sub = step.add_subparsers(dest="step_command", title="step commands")
    for verb, text in (("start", "claim a ready step (in_progress)"),
                       ("done", "complete a step (completed steps never re-run)"),
                       ("fail", "mark a step failed: its dependents stay blocked"),
                       ("skip", "skip a step: its dependents proceed"),
                       ("retry", "put a failed step back to work")):
        p = step_sub.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("step", metavar="STEP", help="step bead id (or child number / step id with --mol)")
        p.add_argument("--mol", metavar="MOL", help="the molecule STEP belongs to")
        if verb == "done":
            p.add_argument("--result", default="", metavar="TEXT", help="result summary (the close reason)")
        if verb in ("fail", "skip"):
            p.add_argument("--reason", default="", required=verb == "fail", metavar="TEXT", help="why")
        if verb in ("start", "done"):
            p.add_argument("--force", action="store_true", help="even if its needs are unfinished")
        p.add_common(json=True, rig=True)
        p.set_defaults(handler=run_step, verb=verb)

    p = sub.add_parser("squash", help="archive a molecule as a digest bead and remove its steps",
                       description="Create a permanent digest bead summarising the molecule and remove its steps "
                                   "from the active set (wisps: deleted; poured molecules: tombstoned, root closed).")
    p.add_argument("mol", metavar="MOL")
    p.add_argument("--summary", metavar="TEXT", help="digest text (default: a generated step-by-step summary)")
    p.add_argument("--force", action="store_true", help="squash even with unfinished steps")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_squash)

    p = sub.add_parser("burn", help="discard a molecule without a record",
                       description="Discard a molecule and its steps (wisps: deleted; poured molecules: "
                                   "tombstoned) and detach it from its work bead.")
    p.add_argument("mol", metavar="MOL")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_burn)

    p = sub.add_parser("gc", help="burn expired wisps",
                       description="Burn every wisp whose TTL has passed (--all: every wisp).")
    p.add_argument("--all", action="store_true", help="burn every wisp, expired or not")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_gc)


def _formula_args(p: CommandParser) -> None:
    p.add_argument("formula", help="formula name (looked up rig → town → user → shipped) or file path")
    p.add_argument("--var", action="append", type=key_value, default=[], metavar="K=V",
                   help="set a variable (repeatable)")
    p.add_argument("--preset", metavar="NAME", help="convoy formulas: pour only this preset's legs")
    p.add_argument("--weave-aspects", action="store_true",
                   help="apply [compose] aspects (bd advice semantics; Gas Town records them only)")


# ------------------------------------------------------------------------------------- cook
def _cook(env: Environment, args: Namespace, *, runtime: bool, beads_dir: str | None = None):
    from vermas.cli.commands.formula import load_formula, make_lookup
    from vermas.formulas.cook import cook

    lookup = make_lookup(env, args, beads_dir=beads_dir)
    formula, resolver = load_formula(lookup, args.formula)
    proto = cook(formula, resolver, variables=dict(args.var), runtime=runtime, preset=args.preset,
                 weave_aspects=args.weave_aspects)
    for warning in proto.warnings:
        if warning.code not in ("vars",) or runtime:
            env.warn(warning.format())
    return proto


def run_cook(env: Environment, args: Namespace) -> int:
    proto = _cook(env, args, runtime=args.runtime or bool(args.var))
    if args.json:
        env.print_json(proto.as_dict())
        return 0
    env.write(f"{proto.name} ({proto.type}, {len(proto.steps)} steps, "
              f"{'runtime' if proto.runtime else 'compile-time'})")
    if proto.vars:
        env.write("vars: " + ", ".join(f"{k}={v}" for k, v in proto.vars.items()))
    if proto.unbound:
        env.write("unbound required vars: " + ", ".join(proto.unbound))
    for step in proto.steps:
        indent = "    " if step.parent else "  "
        needs = f"  ← {', '.join(step.needs)}" if step.needs else ""
        kind = f" [{step.kind}]" if step.kind != "step" else ""
        env.write(f"{indent}{step.key}: {step.title}{kind}{needs}")
    return 0


# ------------------------------------------------------------------------------------- pour
def run_pour(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas.pour import parse_ttl, pour

    ttl = None
    if args.ephemeral:
        try:
            ttl = parse_ttl(args.ttl)
        except ValueError as exc:
            raise UsageError(f"--ttl: {exc}") from None
    ledger = context.ledger_for(env, args, issue_id=args.on)
    proto = _cook(env, args, runtime=True, beads_dir=ledger.dir)
    if proto.phase == "vapor" and not args.ephemeral:
        env.warn(f"formula {proto.name} has phase = \"vapor\": it is meant to be a wisp ('vermas mol wisp')")
    if len(proto.steps) > 200:
        env.info(f"pouring {len(proto.steps)} steps…")
    result = pour(ledger, proto, actor=env.actor(args.actor), ephemeral=args.ephemeral, attach_to=args.on,
                  assignee=args.assignee, ttl_seconds=ttl, replace=args.replace)
    from vermas.formulas import molecule

    mol = molecule.load(ledger, result.root_id)
    ready = [s.as_dict() for s in mol.current()]
    if args.json:
        env.print_json({**result.as_dict(), "ready": ready})
        return 0
    kind = "wisp" if args.ephemeral else "molecule"
    env.write(f"poured {kind} {result.root_id} from {proto.name}: {len(result.ids)} steps"
              + (f", attached to {result.attached_to}" if result.attached_to else ""))
    for step in ready:
        env.write(f"  ready: {step['id']}  {step['key']}: {step['title']}")
    return 0


# ------------------------------------------------------------------------------------ reads
def _ledger_and_mol(env: Environment, args: Namespace, ref: str | None):
    from vermas.cli import context
    from vermas.formulas import molecule

    if not ref:
        ref = env.get("BEAD_ID")
        if not ref:
            raise UsageError("which molecule? give MOL (a molecule, step or work bead id) or set $BEAD_ID")
    ledger = context.ledger_for(env, args, issue_id=ref)
    return ledger, molecule.load(ledger, ref)


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas import molecule

    ledger = context.ledger_for(env, args)
    roots = molecule.molecules(ledger, include_closed=args.all, ephemeral=True if args.wisps else None)
    rows = [molecule.load(ledger, r["id"]).as_dict(steps=False) for r in roots]
    if args.json:
        env.print_json(rows)
        return 0
    if not rows:
        env.write("no molecules")
        return 0
    for row in rows:
        prog = row["progress"]
        kind = "wisp" if row["ephemeral"] else "mol "
        attached = f"  on {row['attached_to']}" if row["attached_to"] else ""
        env.write(f"{row['id']:<22} {kind} {row['formula']:<28} {prog['finished']:>5}/{prog['total']:<5} "
                  f"{prog['state']}{attached}")
    return 0


def run_show(env: Environment, args: Namespace) -> int:
    _ledger, mol = _ledger_and_mol(env, args, args.mol)
    data = mol.as_dict(full=args.full)
    if args.json:
        env.print_json(data)
        return 0
    prog = data["progress"]
    env.write(f"{mol.id}  {data['title']}  ({'wisp' if mol.ephemeral else 'molecule'}, {data['status']})")
    env.write(f"  formula: {mol.formula}   state: {prog['state']}   {prog['finished']}/{prog['total']} finished "
              f"({prog['percent']}%)")
    if mol.vars:
        env.write("  vars: " + ", ".join(f"{k}={v}" for k, v in mol.vars.items()))
    if mol.attached_to:
        env.write(f"  attached to: {mol.attached_to}")
    if mol.expires_at:
        env.write(f"  expires at: {mol.expires_at}")
    _print_steps(env, mol.steps, full=args.full)
    return 0


def run_steps(env: Environment, args: Namespace) -> int:
    _ledger, mol = _ledger_and_mol(env, args, args.mol)
    steps = [s for s in mol.steps if args.state is None or s.state == args.state]
    if args.json:
        env.print_json([s.as_dict(full=args.full) for s in steps])
        return 0
    _print_steps(env, steps, full=args.full)
    return 0


def run_progress(env: Environment, args: Namespace) -> int:
    _ledger, mol = _ledger_and_mol(env, args, args.mol)
    prog = mol.progress()
    if args.json:
        env.print_json(prog)
        return 0
    env.write(f"{mol.id} ({mol.formula}): {prog['state']}, {prog['finished']}/{prog['total']} finished "
              f"({prog['percent']}%)")
    env.write("  " + "  ".join(f"{name} {prog[name]}" for name in
                               ("completed", "skipped", "in_progress", "ready", "pending", "failed")))
    return 0


def run_current(env: Environment, args: Namespace) -> int:
    _ledger, mol = _ledger_and_mol(env, args, args.mol)
    frontier = mol.current()
    nxt = mol.next_step()
    prog = mol.progress()
    if args.json:
        env.print_json({"molecule": mol.id, "formula": mol.formula, "state": prog["state"],
                        "next": nxt.as_dict(full=True) if nxt else None,
                        "current": [s.as_dict(full=True) for s in frontier], "progress": prog})
        return 0
    env.write(f"{mol.id} ({mol.formula}): {prog['state']}, {prog['finished']}/{prog['total']} finished")
    if not frontier:
        env.write("  nothing to do: " + ("every step is finished" if prog["state"] == "complete"
                                         else "waiting on gates or blocked steps"))
        return 0
    for step in frontier:
        arrow = "→" if nxt is not None and step.id == nxt.id else " "
        env.write(f"{arrow} [{_MARK[step.state]}] {step.id}  {step.key}: {step.title}  ({step.state})")
    if nxt is not None:
        description = (nxt.issue.get("description") or "").strip()
        if description:
            env.write("")
            env.write(description)
        if nxt.issue.get("acceptance_criteria"):
            env.write("")
            env.write(f"Acceptance: {nxt.issue['acceptance_criteria']}")
        env.write("")
        env.write(f"when done: vermas mol step done {nxt.id} [--result TEXT]")
    return 0


def _print_steps(env: Environment, steps: list, *, full: bool) -> None:
    for step in steps:
        depth = step.id.count(".") - 1
        indent = "  " * max(depth, 0)
        kind = f" [{step.kind}]" if step.kind != "step" else ""
        env.write(f"  {indent}[{_MARK[step.state]}] {step.id:<20} {step.key}: {step.title}{kind}  ({step.state})")
        if full:
            for line in (step.issue.get("description") or "").strip().splitlines():
                env.write(f"  {indent}      {line}")


# ------------------------------------------------------------------------------------ steps
def run_step(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas import steps

    ledger: Ledger = context.ledger_for(env, args, issue_id=args.mol or args.step)
    actor = env.actor(args.actor)
    verb = args.verb
    if verb == "start":
        out = steps.start(ledger, args.step, actor=actor, mol=args.mol, force=args.force)
    elif verb == "done":
        out = steps.done(ledger, args.step, actor=actor, result=args.result, mol=args.mol, force=args.force)
    elif verb == "fail":
        out = steps.fail(ledger, args.step, actor=actor, reason=args.reason, mol=args.mol)
    elif verb == "skip":
        out = steps.skip(ledger, args.step, actor=actor, reason=args.reason, mol=args.mol)
    else:
        out = steps.retry(ledger, args.step, actor=actor, mol=args.mol)
    if args.json:
        env.print_json(out)
        return 0
    verb_text = {"start": "started", "done": "completed", "fail": "failed", "skip": "skipped", "retry": "retried"}
    if out["changed"]:
        env.write(f"{verb_text[verb]} {out['step']} ({out['key']}): now {out['state']}")
    else:
        env.write(f"{out['step']} ({out['key']}) is already {out['state']}: nothing changed")
    for ready in out.get("newly_ready", ()):
        env.write(f"  ready: {ready['id']}  {ready['key']}: {ready['title']}")
    if out.get("molecule_complete"):
        env.write(f"molecule {out['molecule']} is complete")
        if out.get("squashed"):
            env.write(f"  squashed into digest {out['squashed']['digest']}")
    return 0


# ---------------------------------------------------------------------------------- lifecycle
def run_squash(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas import lifecycle

    ledger = context.ledger_for(env, args, issue_id=args.mol)
    out = lifecycle.squash(ledger, args.mol, actor=env.actor(args.actor), summary=args.summary, force=args.force)
    if args.json:
        env.print_json(out)
        return 0
    env.write(f"squashed {out['molecule']} into digest {out['digest']} ({out['steps_removed']} steps removed)")
    return 0


def run_burn(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas import lifecycle

    ledger = context.ledger_for(env, args, issue_id=args.mol)
    out = lifecycle.burn(ledger, args.mol, actor=env.actor(args.actor))
    if args.json:
        env.print_json(out)
        return 0
    env.write(f"burned {out['molecule']} ({out['steps_removed']} steps)")
    return 0


def run_gc(env: Environment, args: Namespace) -> int:
    from vermas.cli import context
    from vermas.formulas import lifecycle

    ledger = context.ledger_for(env, args)
    burned = lifecycle.gc(ledger, actor=env.actor(args.actor), everything=args.all)
    if args.json:
        env.print_json({"burned": burned})
        return 0
    env.write(f"burned {len(burned)} wisp(s)" + (": " + ", ".join(burned) if burned else ""))
    return 0
