"""``vermas formula list|show|validate``: the formulas available here, one in detail, and checks.

Lookup order: the rig's (or current ledger's) ``.beads/formulas`` → the town's
``.beads/formulas`` → ``~/.beads/formulas`` → the formulas shipped with VerMAS.
"""

from __future__ import annotations

import os

from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.formulas.lookup import Lookup


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Workflow formulas (*.formula.toml, or bd's *.formula.json): list the ones available here, "
                          "show one, validate files with Gas Town's rules.")
    parser.epilog = """lookup order: <rig>/.beads/formulas, <town>/.beads/formulas, ~/.beads/formulas, shipped formulas

examples:
  vermas formula list
  vermas formula show mol-polecat-work
  vermas formula show ./my.formula.toml --json
  vermas formula validate                      # every formula on the search path
  vermas formula validate .beads/formulas/     # every formula file in a directory
  vermas formula validate ./my-workflow.formula.toml
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")

    p = sub.add_parser("list", help="formulas on the search path",
                       description="Every formula on the search path (the first of a name wins; --all shows "
                                   "shadowed ones too).")
    p.add_argument("--all", action="store_true", help="include formulas shadowed by an earlier directory")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_list)

    p = sub.add_parser("show", help="one formula: vars, steps (resolved), composition",
                       description="Show a formula by name or path: metadata, variables, the resolved step graph "
                                   "(extends and [compose] applied), composition and warnings.",
                       epilog="examples:\n  vermas formula show mol-witness-patrol\n"
                              "  vermas formula show .beads/formulas/code-review.formula.toml --preset gate --json\n")
    p.add_argument("formula", help="formula name or path to a .formula.toml/.formula.json file")
    p.add_argument("--preset", metavar="NAME", help="convoy formulas: show only the legs of this preset")
    p.add_argument("--weave-aspects", action="store_true", help="weave [compose] aspects in (bd semantics)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_show)

    p = sub.add_parser("validate", help="check formula files (exit 1 if any is invalid)",
                       description="Check formulas with Gas Town's rules: the file parses, its keys have the right "
                                   "types, the structure is valid for its type (unique ids, needs naming existing "
                                   "steps, no cycles) and extends/compose resolve. Problems name the file, the key "
                                   "path and the reason. Warnings (unknown keys, bd incompatibilities, undeclared "
                                   "{{vars}}) do not fail the check.",
                       epilog="examples:\n  vermas formula validate\n  vermas formula validate my.formula.toml\n"
                              "  vermas formula validate .beads/formulas --json\n")
    p.add_argument("targets", nargs="*", metavar="PATH|NAME",
                   help="files, directories or formula names (default: every formula on the search path)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only invalid formulas and their errors")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_validate)


# ---------------------------------------------------------------------------------- lookup
def make_lookup(env: Environment, args: Namespace | None = None, *, beads_dir: str | None = None) -> Lookup:
    """The search path for this command: rig/current ledger, town, user, shipped."""
    from vermas.cli import context
    from vermas.formulas.lookup import Lookup, search_path

    rig_beads = beads_dir
    if rig_beads is None:
        try:
            rig = getattr(args, "rig", None) if args is not None else None
            rig_beads = context.rig_beads_dir(env, rig) if rig else context.local_beads_dir(env)
        except NotFoundError:
            if args is not None and getattr(args, "rig", None):
                raise
            rig_beads = None
    try:
        town = context.find_town(env)
    except NotFoundError:
        town = None
    return Lookup(search_path(rig_beads=rig_beads, town=town, home=env.get("HOME")))


def load_formula(lookup: Lookup, ref: str):
    """The formula ``ref`` names (or the file it points at) and the lookup to resolve it with."""
    from vermas.formulas.lookup import looks_like_path

    formula = lookup.load(ref)
    if looks_like_path(ref):
        return formula, lookup.with_first(os.path.dirname(os.path.abspath(ref)))
    return formula, lookup


# ------------------------------------------------------------------------------------ list
def run_list(env: Environment, args: Namespace) -> int:
    from vermas.formulas.model import FormulaError
    from vermas.formulas.parse import parse_file
    from vermas.formulas.validate import validate

    lookup = make_lookup(env, args)
    rows = []
    for entry in lookup.entries():
        if entry["shadowed_by"] and not args.all:
            continue
        row = dict(entry)
        try:
            formula = parse_file(entry["path"], origin=entry["origin"])
            problems = [d for d in validate(formula) if d.level == "error"]
            row.update(type=formula.type, version=formula.version, steps=len(formula.all_steps()) or
                       len(formula.legs) or len(formula.template), description=formula.description,
                       valid=not problems)
            if problems:
                row["error"] = problems[0].format()
        except FormulaError as exc:
            row.update(type="?", version=0, steps=0, description="", valid=False, error=exc.message)
        rows.append(row)
    if args.json:
        env.print_json(rows)
        return 0
    if not rows:
        env.write("no formulas found")
        return 0
    width = max(len(r["name"]) for r in rows) + 2
    for row in rows:
        summary = (row["description"].strip().splitlines() or [""])[0][:70]
        mark = "" if row["valid"] else "  [invalid]"
        shadow = f"  (shadowed by {row['shadowed_by']})" if row["shadowed_by"] else ""
        env.write(f"{row['name'].ljust(width)}{row['type']:<10} {row['steps']:>5}  {row['origin']:<8} "
                  f"{summary}{mark}{shadow}")
    env.info(f"{len(rows)} formula(s); search path: " + ", ".join(d for _o, d in lookup.dirs))
    return 0


# ------------------------------------------------------------------------------------ show
def run_show(env: Environment, args: Namespace) -> int:
    from vermas.formulas.cook import cook

    lookup = make_lookup(env, args)
    formula, resolver = load_formula(lookup, args.formula)
    if formula.type in ("expansion", "aspect"):
        return _show_fragment(env, args, formula)
    proto = cook(formula, resolver, runtime=False, preset=args.preset, weave_aspects=args.weave_aspects)
    vars_info = {name: {"description": v.description, "required": v.required, "default": v.default,
                        **({"enum": v.enum} if v.enum else {}), **({"pattern": v.pattern} if v.pattern else {})}
                 for name, v in {**formula.inputs, **formula.vars}.items()}
    compose = formula.compose
    data = {
        "name": formula.name, "type": formula.type, "type_inferred": formula.type_inferred,
        "version": formula.version, "path": formula.path, "origin": formula.origin,
        "description": formula.description, "phase": formula.phase, "pour": formula.pour,
        "extends": formula.extends,
        "compose": {"expand": [{"target": r.target, "with": r.with_} for r in compose.expand],
                    "map": [{"select": r.select, "with": r.with_} for r in compose.map],
                    "aspects": compose.aspects} if compose else None,
        "vars": vars_info, "unbound_vars": proto.unbound, "presets": formula.presets,
        "steps": [s.as_dict() for s in proto.steps],
        "warnings": [w.as_dict() for w in proto.warnings],
    }
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{formula.name}  ({formula.type}{' (inferred)' if formula.type_inferred else ''}, "
              f"version {formula.version}, {formula.origin})")
    env.write(f"  file: {formula.path}")
    if formula.extends:
        env.write(f"  extends: {', '.join(formula.extends)}")
    if compose:
        for r in compose.expand:
            env.write(f"  compose: expand {r.target} with {r.with_}")
        for r in compose.map:
            env.write(f"  compose: map {r.select} with {r.with_}")
        if compose.aspects:
            env.write(f"  compose: aspects {', '.join(compose.aspects)}")
    if formula.description:
        env.write("")
        for line in formula.description.strip().splitlines()[:12]:
            env.write(f"  {line}")
    if vars_info:
        env.write("")
        env.write("variables:")
        for name, info in vars_info.items():
            flags = []
            if info["required"]:
                flags.append("required")
            if info["default"] is not None:
                flags.append(f"default={info['default']!r}")
            env.write(f"  {name:<20} {' '.join(flags):<28} {info['description']}")
    env.write("")
    env.write(f"steps ({len(proto.steps)}):")
    for step in proto.steps:
        indent = "    " if step.parent else "  "
        needs = f"  ← {', '.join(step.needs)}" if step.needs else ""
        extra = f" [{step.kind}]" if step.kind != "step" else ""
        extra += " [parallel]" if step.parallel else ""
        env.write(f"{indent}{step.key}: {step.title}{extra}{needs}")
    for warning in proto.warnings:
        env.warn(warning.format())
    return 0


def _show_fragment(env: Environment, args: Namespace, formula) -> int:
    """Expansion and aspect formulas are not cooked alone: show their templates or advice."""
    from vermas.formulas.validate import validate

    problems = [d for d in validate(formula) if d.level == "error"] + [w for w in formula.warnings]
    templates = [{"id": t.id, "title": t.title, "needs": t.needs, "description": t.description,
                  **({"acceptance": t.acceptance} if t.acceptance else {})} for t in formula.template]
    advice = [{"target": a.target, "before": [s.id for s in a.before], "after": [s.id for s in a.after]}
              for a in formula.advice]
    data = {"name": formula.name, "type": formula.type, "version": formula.version, "path": formula.path,
            "origin": formula.origin, "description": formula.description, "template": templates, "advice": advice,
            "pointcuts": formula.pointcuts, "problems": [d.as_dict() for d in problems]}
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{formula.name}  ({formula.type}, version {formula.version}, {formula.origin})")
    env.write(f"  file: {formula.path}")
    if formula.description:
        env.write(f"  {formula.description.strip().splitlines()[0]}")
    for t in templates:
        needs = f"  ← {', '.join(t['needs'])}" if t["needs"] else "  ← (the target's needs)"
        env.write(f"  {t['id']}: {t['title']}{needs}")
    for a in advice:
        env.write(f"  advice on {a['target']}: before {a['before'] or '-'}, after {a['after'] or '-'}")
    if formula.pointcuts:
        env.write(f"  pointcuts: {', '.join(formula.pointcuts)}")
    for problem in problems:
        (env.warn if problem.level == "warning" else env.error)(problem.format())
    return 0


# -------------------------------------------------------------------------------- validate
def run_validate(env: Environment, args: Namespace) -> int:
    from vermas.formulas.check import check_file
    from vermas.formulas.lookup import formula_files, looks_like_path

    lookup = make_lookup(env, args)
    paths: list[tuple[str, str]] = []  # (path, origin)
    if not args.targets:
        paths = [(e["path"], e["origin"]) for e in lookup.entries()]
    for target in args.targets:
        full = env.path(target)
        if os.path.isdir(full):
            found = formula_files(full)
            if not found:
                raise NotFoundError(f"no *.formula.toml or *.formula.json files in {full}")
            paths += [(p, "path") for p in found]
        elif os.path.isfile(full) or looks_like_path(target):
            if not os.path.isfile(full):
                raise NotFoundError(f"no such file: {full}")
            paths.append((full, "path"))
        else:
            hit = lookup.find(target)
            if hit is None:
                raise NotFoundError(f"formula {target!r} not found",
                                    hint="'vermas formula list' shows the formulas available here")
            paths.append(hit)
    if not paths:
        raise UsageError("nothing to validate: no formulas on the search path",
                         hint="give a file or directory: vermas formula validate PATH")
    results = [check_file(path, lookup, origin=origin) for path, origin in paths]
    invalid = [r for r in results if not r.ok]
    if args.json:
        env.print_json({"checked": len(results), "valid": len(results) - len(invalid), "invalid": len(invalid),
                        "results": [r.as_dict() for r in results]})
        return 1 if invalid else 0
    for result in results:
        if result.ok and args.quiet:
            continue
        status = "ok  " if result.ok else "FAIL"
        note = f"  ({len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''})" if result.warnings \
            else ""
        env.write(f"{status} {result.path}{note}")
        for diag in result.errors:
            env.write(f"  error: {diag.format()}")
        if not args.quiet:
            for diag in result.warnings:
                env.write(f"  warning: {diag.format()}")
    env.write(f"{len(results) - len(invalid)} of {len(results)} formula(s) valid")
    return 1 if invalid else 0
