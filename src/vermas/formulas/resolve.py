"""Resolve a formula: ``extends`` (recursive, cycle-checked) then its composition rules.

Gas Town's ``Resolve`` (``internal/formula/parser.go``): each parent is loaded and resolved
first; the merged formula takes the parents' vars (an earlier parent wins, the child
overrides) and steps (parents' first, in ``extends`` order, then the child's); the child's
``[compose]`` expansions are applied to the merged steps; the result must validate.

VerMAS also applies what bd defines and Gas Town lacks, in bd's order: ``[[compose.branch]]``
fork/joins, the formula's own ``[[advice]]``, inline ``expand`` steps, ``[[compose.expand]]``
(Gas Town's rules), ``[[compose.map]]``. ``[compose] aspects`` are recorded but, as in Gas
Town, not applied unless ``weave_aspects`` is asked for (then with bd's advice semantics,
restricted by the aspect's ``[[pointcuts]]``).
"""

from __future__ import annotations

from vermas.errors import NotFoundError
from vermas.formulas.compose import (
    ComposeError,
    apply_advice,
    apply_branch,
    apply_expansion,
    check_expansion,
    match_glob,
    walk,
)
from vermas.formulas.model import Diagnostic, Formula, FormulaError, Step
from vermas.formulas.validate import validate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.formulas.lookup import Lookup


def resolve(formula: Formula, lookup: Lookup, *, weave_aspects: bool = False) -> Formula:
    """The resolved formula (a new object); :class:`FormulaError` naming file and key on failure."""
    _stamp_sources(formula)
    return _Resolver(lookup, weave_aspects).resolve(formula, [])


def _stamp_sources(formula: Formula) -> None:
    for step in walk(formula.steps):
        step.source_formula = step.source_formula or formula.name
    for step in walk(formula.template):
        step.source_formula = step.source_formula or formula.name


def _fail(formula: Formula, path: str, message: str, code: str = "resolve") -> FormulaError:
    return FormulaError([Diagnostic("error", path, message, formula.path, code)])


class _Resolver:
    def __init__(self, lookup: Lookup, weave_aspects: bool) -> None:
        self.lookup = lookup
        self.weave_aspects = weave_aspects

    def load(self, owner: Formula, name: str, path: str) -> Formula:
        try:
            loaded = self.lookup.load(name)
        except NotFoundError as exc:
            raise _fail(owner, path, exc.message) from None
        except FormulaError as exc:
            raise _fail(owner, path, f"formula {name!r} is malformed: {exc.diagnostics[0].format()}") from None
        _stamp_sources(loaded)
        return loaded

    def resolve(self, formula: Formula, chain: list[str]) -> Formula:
        if formula.name in chain:
            raise _fail(formula, "extends", "circular extends detected: " + " -> ".join([*chain, formula.name]))
        errors = [d for d in validate(formula) if d.level == "error"]
        if errors:
            raise FormulaError(errors)
        if not (formula.extends or formula.compose or formula.advice or any(s.expand for s in walk(formula.steps))):
            return _copy(formula)
        merged = _copy(formula, steps=False)
        merged.type = formula.type or "workflow"
        merged.vars = {}
        merged.steps = []
        for i, parent_name in enumerate(formula.extends):
            parent = self.load(formula, parent_name, f"extends[{i}]")
            try:
                parent = self.resolve(parent, [*chain, formula.name])
            except FormulaError as exc:
                if exc.diagnostics and exc.diagnostics[0].message.startswith("circular extends"):
                    raise
                raise _fail(formula, f"extends[{i}]",
                            f"cannot resolve parent {parent_name!r}: {exc.diagnostics[0].format()}") from None
            for name, var in parent.vars.items():
                merged.vars.setdefault(name, var)
            merged.steps += [s.copy() for s in parent.steps]
            if not merged.description:
                merged.description = parent.description
        merged.vars.update(formula.vars)
        merged.steps += [s.copy() for s in formula.steps]
        self.transform(formula, merged)
        problems = [d for d in validate(merged) if d.level == "error"]
        if problems:
            for d in problems:
                d.message += f" (after resolving {formula.name!r})"
            raise FormulaError(problems)
        return merged

    def transform(self, formula: Formula, merged: Formula) -> None:
        compose = formula.compose
        try:
            for rule in compose.branch if compose else ():
                apply_branch(merged.steps, rule)
            merged.steps = apply_advice(merged.steps, formula.advice, source_formula=formula.name)
            self.inline_expansions(formula, merged)
            for rule in compose.expand if compose else ():
                expansion = self.load(formula, rule.with_, f"{rule.path}.with")
                check_expansion(expansion, f"{rule.path}.with")
                apply_expansion(merged.steps, rule.target, expansion, rule.vars, f"{rule.path}.target")
            for rule in compose.map if compose else ():
                expansion = self.load(formula, rule.with_, f"{rule.path}.with")
                check_expansion(expansion, f"{rule.path}.with")
                originals = [s.id for s in walk(merged.steps)]
                for step_id in originals:
                    if match_glob(rule.select, step_id):
                        apply_expansion(merged.steps, step_id, expansion, rule.vars, f"{rule.path}.select")
            if compose and compose.aspects:
                if self.weave_aspects:
                    self.weave(formula, merged, compose.aspects)
                else:
                    merged.warn("compose.aspects", "aspects " + ", ".join(compose.aspects) + " are recorded but not "
                                "applied (as in Gas Town); pass --weave-aspects to weave their advice in", "aspects")
        except ComposeError as exc:
            raise _fail(formula, exc.path or "compose", exc.message) from None

    def inline_expansions(self, formula: Formula, merged: Formula) -> None:
        for _round in range(5):
            pending = [s for s in walk(merged.steps) if s.expand]
            if not pending:
                return
            for step in pending:
                where = step.source_location or step.id
                expansion = self.load(formula, step.expand, f"{where}.expand")
                check_expansion(expansion, f"{where}.expand")
                apply_expansion(merged.steps, step.id, expansion, step.expand_vars, f"{where}.expand")
        raise ComposeError("steps", "inline expansions nested deeper than 5 levels")

    def weave(self, formula: Formula, merged: Formula, names: list[str]) -> None:
        for i, name in enumerate(names):
            aspect = self.load(formula, name, f"compose.aspects[{i}]")
            if aspect.type != "aspect" or not aspect.advice:
                raise ComposeError(f"compose.aspects[{i}]", f"formula {name!r} has no [[advice]] to weave "
                                                            f"(type {aspect.type!r})")
            merged.steps = apply_advice(merged.steps, aspect.advice, source_formula=aspect.name,
                                        pointcuts=aspect.pointcuts)


def _copy(formula: Formula, *, steps: bool = True) -> Formula:
    clone = Formula(
        name=formula.name, description=formula.description, type=formula.type, type_inferred=formula.type_inferred,
        version=formula.version, path=formula.path, origin=formula.origin, extends=list(formula.extends),
        vars=dict(formula.vars), template=[t.copy() for t in formula.template], legs=list(formula.legs),
        synthesis=formula.synthesis, inputs=dict(formula.inputs), prompts=dict(formula.prompts),
        output=dict(formula.output), presets=dict(formula.presets), aspects=list(formula.aspects),
        compose=formula.compose, advice=list(formula.advice), pointcuts=list(formula.pointcuts),
        squash=dict(formula.squash), phase=formula.phase, pour=formula.pour, agent=formula.agent,
        review_only=formula.review_only, warnings=list(formula.warnings),
    )
    if steps:
        clone.steps = [s.copy() for s in formula.steps]
    return clone


def step_ids(steps: list[Step]) -> list[str]:
    return [s.id for s in walk(steps)]
