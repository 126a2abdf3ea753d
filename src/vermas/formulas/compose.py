"""Step-list transformations: expansions (``[compose]`` expand/map, inline ``expand``), fork/join
branches, and advice (before/after/around insertion).

Expansion follows Gas Town (``applyExpandRule``): the target is replaced by the expansion's
templates with ``{target}``, ``{target.title}``, ``{target.description}`` filled in; a
template without ``needs`` inherits the target's needs; every step that needed the target
needs the last expanded step instead. Advice follows bd's ``ApplyAdvice`` (glob targets,
``{step.id}``/``{step.title}``, inserted steps never re-matched) with one VerMAS choice: the
inserted steps take the target's place in the graph (the first ``before`` step inherits the
target's needs, dependents of the target wait for the last ``after`` step); bd leaves
``before`` steps unanchored and ``after`` steps running alongside the dependents.
"""

from __future__ import annotations

import fnmatch
import itertools

from vermas.formulas.model import AdviceRule, AdviceStep, BranchRule, Formula, Step

MAX_EXPANSION_DEPTH = 5  # bd's DefaultMaxExpansionDepth


class ComposeError(Exception):
    """A transformation that cannot be applied; ``path`` is the key path of the offending rule."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# ------------------------------------------------------------------------------------ helpers
def walk(steps: list[Step]):
    for step in steps:
        yield step
        yield from walk(step.children)


def find_step(steps: list[Step], step_id: str) -> tuple[list[Step], int] | None:
    """The list holding ``step_id`` and its index there (children searched too)."""
    for i, step in enumerate(steps):
        if step.id == step_id:
            return steps, i
        found = find_step(step.children, step_id)
        if found is not None:
            return found
    return None


def repoint_needs(steps: list[Step], old: str, new: str, *, skip: set[str] = frozenset()) -> None:
    """Every step needing ``old`` needs ``new`` instead (in place, children included)."""
    for step in walk(steps):
        if step.id in skip or old not in step.needs:
            continue
        step.needs = [new if n == old else n for n in step.needs]
        seen: set[str] = set()
        step.needs = [n for n in step.needs if not (n in seen or seen.add(n))]


def match_glob(pattern: str, step_id: str) -> bool:
    """bd's ``MatchGlob``: shell glob, plus ``*.suffix`` / ``prefix.*`` forms and ``*``."""
    if pattern == "*" or fnmatch.fnmatchcase(step_id, pattern):
        return True
    if pattern.startswith("*."):
        return step_id.endswith(pattern[1:])
    if pattern.endswith(".*"):
        return step_id.startswith(pattern[:-1])
    return pattern == step_id


# ---------------------------------------------------------------------------------- expansion
def _fill_target(text: str, target: Step) -> str:
    # Gas Town's order: {target.title}, {target.description}, then {target} (bd adds {target.id}).
    text = text.replace("{target.title}", target.title)
    text = text.replace("{target.description}", target.description)
    text = text.replace("{target.id}", target.id)
    return text.replace("{target}", target.id)


def _fill_vars(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def expanded_steps(target: Step, expansion: Formula, rule_vars: dict[str, str], depth: int = 0) -> list[Step]:
    """The expansion's templates instantiated for ``target`` (Gas Town's ``buildExpandedSteps``)."""
    if depth > MAX_EXPANSION_DEPTH:
        raise ComposeError("", f"expansion depth limit exceeded (max {MAX_EXPANSION_DEPTH}) at step {target.id!r}")
    out: list[Step] = []
    for tmpl in expansion.template:
        step = tmpl.copy()
        step.id = _fill_target(tmpl.id, target)
        step.title = _fill_vars(_fill_target(tmpl.title, target), rule_vars)
        step.description = _fill_vars(_fill_target(tmpl.description, target), rule_vars)
        step.acceptance = _fill_vars(_fill_target(tmpl.acceptance, target), rule_vars)
        step.labels = [_fill_target(label, target) for label in tmpl.labels]
        if tmpl.needs:
            step.needs = [_fill_target(n, target) for n in tmpl.needs]
        else:
            step.needs = list(target.needs)
        step.children = expanded_steps(target, Formula(name=expansion.name, template=tmpl.children), rule_vars,
                                       depth + 1) if tmpl.children else []
        step.source_formula = expansion.name
        step.source_location = tmpl.source_location
        out.append(step)
    return out


def apply_expansion(steps: list[Step], target_id: str, expansion: Formula, rule_vars: dict[str, str],
                    rule_path: str) -> None:
    """Replace ``target_id`` by the expansion (in place) and re-point its dependents."""
    found = find_step(steps, target_id)
    if found is None:
        raise ComposeError(rule_path, f"target step {target_id!r} not found in formula steps")
    holder, index = found
    target = holder[index]
    new = expanded_steps(target, expansion, rule_vars)
    if not new:
        raise ComposeError(rule_path, f"expansion formula {expansion.name!r} has no template steps")
    holder[index:index + 1] = new
    new_ids = {s.id for s in new}
    repoint_needs(steps, target_id, new[-1].id, skip=new_ids)


def check_expansion(expansion: Formula, rule_path: str) -> None:
    if expansion.type != "expansion":
        raise ComposeError(rule_path, f"formula {expansion.name!r} is type {expansion.type!r}, want \"expansion\"")
    if not expansion.template:
        raise ComposeError(rule_path, f"expansion formula {expansion.name!r} has no template steps")


# ------------------------------------------------------------------------------------ branches
def apply_branch(steps: list[Step], rule: BranchRule) -> None:
    """bd's fork/join: every branch step needs ``from``; ``join`` needs every branch step."""
    if not rule.from_ or not rule.steps or not rule.join:
        raise ComposeError(rule.path, "a branch needs 'from', 'steps' and 'join'")
    by_id = {s.id: s for s in walk(steps)}
    for name in [rule.from_, rule.join, *rule.steps]:
        if name not in by_id:
            raise ComposeError(rule.path, f"branch names unknown step {name!r}")
    for name in rule.steps:
        branch = by_id[name]
        if rule.from_ not in branch.needs:
            branch.needs.append(rule.from_)
    join = by_id[rule.join]
    for name in rule.steps:
        if name not in join.needs:
            join.needs.append(name)


# -------------------------------------------------------------------------------------- advice
def _advice_step(spec: AdviceStep, target: Step, source_formula: str) -> Step:
    def fill(text: str) -> str:
        return text.replace("{step.id}", target.id).replace("{step.title}", target.title)

    step_id = fill(spec.id)
    return Step(id=step_id, title=fill(spec.title) or step_id, description=fill(spec.description), type=spec.type,
                source_formula=source_formula, source_location=spec.path)


def apply_advice(steps: list[Step], rules: list[AdviceRule], *, source_formula: str,
                 pointcuts: list[str] = ()) -> list[Step]:
    """Insert advice steps around every original step a rule targets; returns the new list."""
    if not rules:
        return steps
    original = {s.id for s in walk(steps)}
    repoints: list[tuple[str, str, set[str]]] = []
    result = _advise(steps, rules, original, source_formula, list(pointcuts), repoints)
    for old, new, skip in repoints:
        repoint_needs(result, old, new, skip=skip)
    return result


def _advise(steps: list[Step], rules: list[AdviceRule], original: set[str], source_formula: str,
            pointcuts: list[str], repoints: list[tuple[str, str, set[str]]]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        if step.children:
            step.children = _advise(step.children, rules, original, source_formula, pointcuts, repoints)
        if step.id not in original or (pointcuts and not any(match_glob(p, step.id) for p in pointcuts)):
            out.append(step)
            continue
        before: list[Step] = []
        after: list[Step] = []
        for rule in rules:
            if match_glob(rule.target, step.id):
                before += [_advice_step(s, step, source_formula) for s in rule.before]
                after += [_advice_step(s, step, source_formula) for s in rule.after]
        if before:
            before[0].needs = list(step.needs)
            for prev, nxt in itertools.pairwise(before):
                nxt.needs.append(prev.id)
            step.needs = [before[-1].id]
        for i, extra in enumerate(after):
            extra.needs.append(step.id if i == 0 else after[i - 1].id)
        out += [*before, step, *after]
        if after:
            repoints.append((step.id, after[-1].id, {s.id for s in after}))
    return out
