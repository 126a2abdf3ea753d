"""Structural checks of one parsed formula, with Gas Town's rules (``internal/formula/parser.go``).

Errors are exactly what gt's ``Validate`` rejects (name, type, per-type shape, unique ids,
``needs`` naming existing steps, no cycles), collected all at once instead of stopping at
the first, each with its key path. VerMAS adds errors only for keys gt ignores but VerMAS
pours (nested ``[[steps.children]]``). Warnings point out what bd v0.43 would reject
(``type = "convoy"``, a var both required and defaulted) and other oddities.
"""

from __future__ import annotations

from vermas.formulas.graph import find_cycle
from vermas.formulas.model import Diagnostic, Formula, Step


def validate(formula: Formula) -> list[Diagnostic]:
    """Every structural problem of ``formula`` (errors) and the bd-compatibility warnings."""
    out: list[Diagnostic] = []
    file = formula.path

    def error(path: str, message: str) -> None:
        out.append(Diagnostic("error", path, message, file, "gt"))

    def warn(path: str, message: str, code: str) -> None:
        out.append(Diagnostic("warning", path, message, file, code))

    if not formula.name:
        error("formula", "formula field is required (the formula's name)")
    kind = formula.type
    if not kind:
        error("type", "cannot infer the formula type: no [[steps]], extends, [[legs]], [[template]] or "
                      "[[aspects]] (set type = \"workflow\", \"convoy\", \"expansion\" or \"aspect\")")
    elif kind == "convoy":
        _convoy(formula, error)
    elif kind == "workflow":
        _workflow(formula, error)
    elif kind == "expansion":
        _expansion(formula, error)
    elif kind == "aspect":
        _aspect(formula, error)

    if kind == "convoy":
        warn("type", "bd v0.43 rejects type \"convoy\" (a Gas Town formula type; VerMAS pours the legs as "
                     "parallel steps plus the synthesis)", "bd-compat")
    for name, var in formula.vars.items():
        if var.required and var.default is not None:
            warn(f"vars.{name}", "both required and given a default: bd v0.43 rejects this; Gas Town and VerMAS "
                                 "accept it (the default satisfies the requirement)", "bd-compat")
        if var.enum and var.default is not None and var.default not in var.enum:
            warn(f"vars.{name}.default", f"default {var.default!r} is not one of {var.enum}", "vars")
    if formula.phase == "vapor" and formula.pour:
        warn("pour", "phase = \"vapor\" together with pour = true: bd suggests a wisp for vapor formulas", "value")
    for i, step in enumerate(formula.steps):
        if not step.title and not step.expand and step.id:
            warn(f"steps[{i}].title", "missing title (bd requires one; the step id is used instead)", "value")
    return out


def _convoy(formula: Formula, error) -> None:
    if not formula.legs:
        error("legs", "convoy formula requires at least one leg ([[legs]])")
    seen: set[str] = set()
    for i, leg in enumerate(formula.legs):
        if not leg.id:
            error(f"legs[{i}].id", "leg missing required id field")
        elif leg.id in seen:
            error(f"legs[{i}].id", f"duplicate leg id: {leg.id}")
        seen.add(leg.id)
    if formula.synthesis is not None:
        for j, dep in enumerate(formula.synthesis.depends_on):
            if dep not in seen:
                error(f"synthesis.depends_on[{j}]", f"synthesis depends_on references unknown leg: {dep}")
    for name, spec in formula.inputs.items():
        for j, ref in enumerate(spec.required_unless):
            if ref not in formula.inputs:
                error(f"inputs.{name}.required_unless[{j}]",
                      f"input {name!r} has required_unless referencing unknown input {ref!r}")
    for preset, legs in formula.presets.items():
        for j, leg_id in enumerate(legs):
            if leg_id not in seen:
                error(f"presets.{preset}.legs[{j}]", f"preset {preset!r} names unknown leg: {leg_id}")


def _workflow(formula: Formula, error) -> None:
    if not formula.steps:
        if not formula.extends:
            error("steps", "workflow formula requires at least one step ([[steps]]), or extends")
        return
    check_steps(formula.steps, error)


def check_steps(steps: list[Step], error, *, what: str = "steps") -> None:
    """Gas Town's workflow rules on top-level steps, plus VerMAS's rules for nested children."""
    top: dict[str, int] = {}
    for i, step in enumerate(steps):
        path = step.source_location or f"{what}[{i}]"
        if not step.id:
            error(f"{path}.id", "step missing required id field")
        elif step.id in top:
            error(f"{path}.id", f"duplicate step id: {step.id}")
        else:
            top[step.id] = i
    for i, step in enumerate(steps):
        path = step.source_location or f"{what}[{i}]"
        for j, need in enumerate(step.needs):
            if need not in top:
                error(f"{path}.needs[{j}]", f"step {step.id!r} needs unknown step: {need}")
    cycle = find_cycle({s.id: list(s.needs) for s in steps if s.id})
    if cycle:
        error(what, "cycle detected in needs: " + " → ".join(cycle))
    # Nested children (bd): ids unique across the whole tree; needs may name any step.
    everything: dict[str, str] = {s.id: s.source_location or f"{what}[{i}]" for i, s in enumerate(steps) if s.id}
    nested: list[tuple[str, Step]] = []

    def collect(parent_path: str, children: list[Step]) -> None:
        for k, child in enumerate(children):
            path = child.source_location or f"{parent_path}.children[{k}]"
            nested.append((path, child))
            collect(path, child.children)

    for i, step in enumerate(steps):
        collect(step.source_location or f"{what}[{i}]", step.children)
    for path, child in nested:
        if not child.id:
            error(f"{path}.id", "child step missing required id field")
        elif child.id in everything:
            error(f"{path}.id", f"duplicate step id: {child.id} (also at {everything[child.id]})")
        else:
            everything[child.id] = path
    for path, child in nested:
        for j, need in enumerate(child.needs):
            if need not in everything:
                error(f"{path}.needs[{j}]", f"step {child.id!r} needs unknown step: {need}")
    if nested:
        graph = {s.id: list(s.needs) for _p, s in nested if s.id}
        graph.update({s.id: list(s.needs) for s in steps if s.id})
        cycle = find_cycle(graph)
        if cycle:
            error(what, "cycle detected in needs: " + " → ".join(cycle))


def _expansion(formula: Formula, error) -> None:
    if not formula.template:
        error("template", "expansion formula requires at least one template ([[template]])")
        return
    seen: set[str] = set()
    for i, tmpl in enumerate(formula.template):
        if not tmpl.id:
            error(f"template[{i}].id", "template missing required id field")
        elif tmpl.id in seen:
            error(f"template[{i}].id", f"duplicate template id: {tmpl.id}")
        seen.add(tmpl.id)
    for i, tmpl in enumerate(formula.template):
        for j, need in enumerate(tmpl.needs):
            if need not in seen:
                error(f"template[{i}].needs[{j}]", f"template {tmpl.id!r} needs unknown template: {need}")
    cycle = find_cycle({t.id: list(t.needs) for t in formula.template if t.id})
    if cycle:
        error("template", "cycle detected in needs: " + " → ".join(cycle))


def _aspect(formula: Formula, error) -> None:
    if not formula.aspects:
        extra = ""
        if formula.advice:
            extra = (f" (it has {len(formula.advice)} bd-style [[advice]] rule(s), which Gas Town's validator does "
                     "not count as aspects)")
        error("aspects", "aspect formula requires at least one aspect ([[aspects]])" + extra)
        return
    seen: set[str] = set()
    for i, aspect in enumerate(formula.aspects):
        if not aspect.id:
            error(f"aspects[{i}].id", "aspect missing required id field")
        elif aspect.id in seen:
            error(f"aspects[{i}].id", f"duplicate aspect id: {aspect.id}")
        seen.add(aspect.id)
