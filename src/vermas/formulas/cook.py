"""Cook a formula into a protomolecule: the flat, ordered step graph a pour writes to the ledger.

``cook`` resolves the formula (:mod:`resolve`), turns convoy legs into steps
(:mod:`convoy`), binds the variables (:mod:`vars`), applies step conditions, flattens nested
children (a step with children becomes an ``epic`` container), adds a gate step for each bd
await gate, and orders everything topologically (ties keep the formula's order). Like
``bd cook``, it runs in *compile-time* mode (placeholders kept, required vars not checked)
unless variables are given or ``runtime=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.formulas import vars as formula_vars
from vermas.formulas.compose import walk
from vermas.formulas.convoy import convoy_steps
from vermas.formulas.graph import topological_order
from vermas.formulas.model import Diagnostic, Formula, FormulaError, Step
from vermas.formulas.resolve import resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.formulas.lookup import Lookup

BD_STEP_TYPES = ("task", "bug", "feature", "epic", "chore")
AWAIT_GATES = ("gh:run", "gh:pr", "timer", "human", "mail")


@dataclass
class CookedStep:
    """One bead-to-be. ``key`` is the formula's step id; ``needs`` and ``parent`` are keys too."""

    key: str
    title: str
    description: str = ""
    acceptance: str = ""
    issue_type: str = "task"
    priority: int = 2
    labels: list[str] = field(default_factory=list)
    assignee: str = ""
    needs: list[str] = field(default_factory=list)
    parent: str | None = None
    parallel: bool = False
    kind: str = "step"  # step | container | gate
    gate: dict | None = None
    condition: str = ""
    source_formula: str = ""
    source_location: str = ""

    def as_dict(self) -> dict:
        out = {"key": self.key, "title": self.title, "kind": self.kind, "issue_type": self.issue_type,
               "priority": self.priority, "needs": list(self.needs), "parent": self.parent,
               "parallel": self.parallel, "description": self.description}
        for name in ("acceptance", "assignee", "condition"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.labels:
            out["labels"] = list(self.labels)
        if self.gate:
            out["gate"] = dict(self.gate)
        out["source_formula"] = self.source_formula
        out["source_location"] = self.source_location
        return out


@dataclass
class Protomolecule:
    """A cooked formula: metadata plus the steps in the order they will be numbered."""

    name: str
    description: str
    type: str
    version: int
    source: str
    origin: str
    runtime: bool
    vars: dict[str, str]
    unbound: list[str]
    steps: list[CookedStep]
    phase: str = ""
    pour: bool = False
    squash: dict = field(default_factory=dict)
    mol_type: str = "work"
    warnings: list[Diagnostic] = field(default_factory=list)

    def step(self, key: str) -> CookedStep:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def keys(self) -> list[str]:
        return [s.key for s in self.steps]

    def as_dict(self) -> dict:
        return {"formula": self.name, "type": self.type, "version": self.version, "source": self.source,
                "origin": self.origin, "mode": "runtime" if self.runtime else "compile-time",
                "mol_type": self.mol_type, "phase": self.phase, "description": self.description,
                "vars": dict(self.vars), "unbound_vars": list(self.unbound),
                "step_count": len(self.steps), "steps": [s.as_dict() for s in self.steps],
                "warnings": [w.as_dict() for w in self.warnings]}


def cook(formula: Formula, lookup: Lookup, *, variables: dict[str, str] | None = None, runtime: bool | None = None,
         preset: str | None = None, weave_aspects: bool = False) -> Protomolecule:
    """Cook ``formula`` (parsed, not yet resolved); :class:`FormulaError` names file, key and reason."""
    given = dict(variables or {})
    runtime = bool(given) if runtime is None else runtime
    resolved = resolve(formula, lookup, weave_aspects=weave_aspects)
    if resolved.type == "convoy":
        steps = convoy_steps(resolved, preset)
    elif resolved.type == "workflow":
        steps = [s.copy() for s in resolved.steps]
    else:
        raise FormulaError([Diagnostic(
            "error", "type", f"a formula of type {resolved.type!r} cannot be cooked on its own "
            + ("(apply it with [[compose.expand]] or a step's expand = …)" if resolved.type == "expansion"
               else "(weave it into a workflow with [compose] aspects = […])"), formula.path, "type")])
    warnings = list(resolved.warnings) + formula_vars.undeclared_warnings(resolved)
    if runtime:
        values, bind_warnings = formula_vars.bind(resolved, given)
        warnings += bind_warnings
        unbound: list[str] = []
        steps = _apply_conditions(steps, values)
    else:
        values = {}
        specs = formula_vars.declared(resolved)
        unbound = [n for n, s in specs.items() if (s.required or s.required_unless) and s.default is None]
    cooked = _flatten(steps, values)
    order = topological_order([c.key for c in cooked], _ordering_needs(cooked))
    by_key = {c.key: c for c in cooked}
    return Protomolecule(
        name=resolved.name, description=formula_vars.substitute(resolved.description, values),
        type=resolved.type, version=resolved.version, source=formula.path, origin=formula.origin, runtime=runtime,
        vars=values, unbound=unbound, steps=[by_key[k] for k in order], phase=resolved.phase, pour=resolved.pour,
        squash=dict(resolved.squash), mol_type=mol_type_of(resolved), warnings=warnings,
    )


def mol_type_of(formula: Formula) -> str:
    """bd's ``mol_type``: ``patrol`` for patrol formulas, ``swarm`` for convoys, else ``work``."""
    if formula.type == "convoy":
        return "swarm"
    if "patrol" in formula.name.split("-"):
        return "patrol"
    return "work"


def _apply_conditions(steps: list[Step], values: dict[str, str]) -> list[Step]:
    """Drop steps whose ``condition`` is false; their dependents inherit their needs."""
    dropped: dict[str, list[str]] = {}

    def prune(items: list[Step]) -> list[Step]:
        kept = []
        for step in items:
            if step.condition and not formula_vars.evaluate_condition(step.condition, values):
                dropped[step.id] = list(step.needs)
                continue
            step.children = prune(step.children)
            kept.append(step)
        return kept

    steps = prune(steps)
    if dropped:
        for step in walk(steps):
            needs: list[str] = []
            pending = list(step.needs)
            while pending:
                need = pending.pop(0)
                if need in dropped:
                    pending[:0] = dropped[need]
                elif need not in needs:
                    needs.append(need)
            step.needs = needs
    return steps


def _flatten(steps: list[Step], values: dict[str, str]) -> list[CookedStep]:
    out: list[CookedStep] = []
    sub = formula_vars.substitute

    def visit(step: Step, parent: str | None) -> None:
        kind = "container" if step.children else "step"
        issue_type = "epic" if step.children else (step.type if step.type in BD_STEP_TYPES else "task")
        labels = [sub(label, values) for label in step.labels]
        gate_info = None
        needs = list(step.needs)
        if step.gate is not None:
            gate_info = {k: v for k, v in (("type", step.gate.type), ("id", step.gate.id),
                                           ("timeout", step.gate.timeout), ("condition", step.gate.condition)) if v}
            if step.gate.condition or step.gate.type == "conditional":
                labels.append(f"gate:{step.gate.condition or 'conditional'}")
        cooked = CookedStep(
            key=step.id, title=sub(step.title, values) or step.id, description=sub(step.description, values),
            acceptance=sub(step.acceptance, values), issue_type=issue_type,
            priority=step.priority if step.priority is not None else 2, labels=labels,
            assignee=sub(step.assignee, values), needs=needs, parent=parent, parallel=step.parallel, kind=kind,
            gate=gate_info, condition=step.condition, source_formula=step.source_formula,
            source_location=step.source_location,
        )
        out.append(cooked)
        if step.gate is not None and step.gate.type in AWAIT_GATES:
            gate_key = f"gate-{step.id}"
            out.append(CookedStep(
                key=gate_key, title=f"Gate: await {step.gate.type}" + (f" {step.gate.id}" if step.gate.id else ""),
                description=f"Wait for {step.gate.type}" + (f" {step.gate.id}" if step.gate.id else "")
                + f" before {step.id!r}." + (f" Times out after {step.gate.timeout}." if step.gate.timeout else ""),
                issue_type="gate", kind="gate", parent=parent, gate=gate_info, needs=list(step.needs),
                source_formula=step.source_formula, source_location=f"{step.source_location}.gate",
            ))
            cooked.needs.append(gate_key)
        for child in step.children:
            visit(child, step.id)

    for step in steps:
        visit(step, None)
    return out


def _ordering_needs(cooked: list[CookedStep]) -> dict[str, list[str]]:
    """``needs`` plus "a child comes after its container" (ordering only)."""
    out = {}
    for c in cooked:
        deps = list(c.needs)
        if c.parent:
            deps.append(c.parent)
        out[c.key] = deps
    return out
