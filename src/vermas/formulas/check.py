"""The full verdict on one formula file: parse, Gas Town's validation, resolution, variable use.

A formula *validates* when Gas Town would accept it: it parses, passes gt's ``Validate`` and,
if it extends or composes other formulas, resolves. Warnings (unknown keys, bd-only
incompatibilities, undeclared ``{{vars}}``) never make it invalid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vermas.formulas.model import Diagnostic, Formula, FormulaError
from vermas.formulas.parse import parse_data
from vermas.formulas.resolve import resolve
from vermas.formulas.source import formula_name_of, read_raw
from vermas.formulas.validate import validate
from vermas.formulas.vars import undeclared_warnings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.formulas.lookup import Lookup


@dataclass
class CheckResult:
    path: str
    name: str
    formula: Formula | None = None
    resolved: Formula | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        out = {"path": self.path, "name": self.name, "valid": self.ok,
               "errors": [d.as_dict() for d in self.errors], "warnings": [d.as_dict() for d in self.warnings]}
        if self.formula is not None:
            out["type"] = self.formula.type
        if self.resolved is not None:
            out["steps"] = sum(1 for _ in _walk(self.resolved.steps)) or len(self.resolved.legs)
        return out


def check_file(path: str, lookup: Lookup, *, origin: str = "path") -> CheckResult:
    """Check the formula at ``path``; names it refers to are looked up beside it first."""
    path = os.path.abspath(path)
    result = CheckResult(path=path, name=formula_name_of(path))
    try:
        raw = read_raw(path)
    except FormulaError as exc:
        result.diagnostics += exc.diagnostics
        return result
    formula, diagnostics = parse_data(raw, path)
    formula.origin = origin
    result.formula = formula
    result.name = formula.name or result.name
    result.diagnostics += diagnostics
    if any(d.level == "error" for d in diagnostics):
        return result
    result.diagnostics += validate(formula)
    if not result.ok:
        return result
    try:
        resolved = resolve(formula, lookup.with_first(os.path.dirname(path)))
    except FormulaError as exc:
        result.diagnostics += exc.diagnostics
        return result
    result.resolved = resolved
    extra = [w for w in resolved.warnings if w not in formula.warnings]
    result.diagnostics += extra + undeclared_warnings(resolved)
    if formula.name and formula.name != formula_name_of(path):
        result.diagnostics.append(Diagnostic(
            "warning", "formula", f"name {formula.name!r} differs from the file name {formula_name_of(path)!r} "
            "(lookups by name use the file name)", path, "name"))
    return result


def _walk(steps):
    from vermas.formulas.compose import walk

    return walk(steps)
