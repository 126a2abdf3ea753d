"""Formula variables: binding values (defaults, required, enum, pattern) and ``{{name}}`` substitution.

Placeholders are bd's ``{{name}}`` (``[a-zA-Z_][a-zA-Z0-9_]*``); unknown placeholders stay as
they are, and Go-template forms such as ``{{.review_id}}`` are never touched. A var that is
both required and defaulted is satisfied by its default (Gas Town; bd v0.43 rejects it).
``pattern`` is matched like Go's ``regexp.MatchString`` (a search, so anchor it).
"""

from __future__ import annotations

import re

from vermas.formulas.model import Diagnostic, Formula, FormulaError, VarDef

PLACEHOLDER = re.compile(r"\{\{([a-zA-Z_][a-zA-Z0-9_]*)\}\}")
# Handlebars/Go-template words that look like variables but are not (Gas Town's list).
KEYWORDS = frozenset({"else", "this", "root", "index", "key", "first", "last", "end", "range", "with", "block",
                      "define", "template", "nil"})


def declared(formula: Formula) -> dict[str, VarDef]:
    """The variables a formula declares: ``[vars]``, plus a convoy's ``[inputs]``."""
    out = dict(formula.inputs)
    out.update(formula.vars)
    return out


def bind(formula: Formula, given: dict[str, str]) -> tuple[dict[str, str], list[Diagnostic]]:
    """Values for every declared var: given, else default. Raises listing every missing/invalid var.

    Returns the values and warnings (values given for undeclared vars).
    """
    specs = declared(formula)
    values: dict[str, str] = {}
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    file = formula.path
    for name, spec in specs.items():
        if name in given:
            values[name] = given[name]
        elif spec.default is not None:
            values[name] = spec.default
    missing = []
    for name, spec in specs.items():
        if name in values or not (spec.required or spec.required_unless):
            continue
        if any(values.get(other) for other in spec.required_unless):
            continue
        missing.append(name)
    if missing:
        details = "; ".join(f"{n} ({specs[n].description})" if specs[n].description else n for n in missing)
        errors.append(Diagnostic("error", "vars", f"missing required variable{'s' if len(missing) > 1 else ''}: "
                                 f"{details}", file, "vars"))
    for name, value in values.items():
        spec = specs[name]
        if spec.enum and value not in spec.enum:
            errors.append(Diagnostic("error", f"vars.{name}", f"value {value!r} is not one of "
                                     f"{', '.join(spec.enum)}", file, "vars"))
        if spec.pattern and re.search(spec.pattern, value) is None:
            errors.append(Diagnostic("error", f"vars.{name}", f"value {value!r} does not match pattern "
                                     f"{spec.pattern!r}", file, "vars"))
        if spec.type in ("int", "number") and value and not _is_int(value):
            errors.append(Diagnostic("error", f"vars.{name}", f"value {value!r} is not an integer", file, "vars"))
        if spec.type == "bool" and value and value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            errors.append(Diagnostic("error", f"vars.{name}", f"value {value!r} is not a boolean", file, "vars"))
    for name in given:
        if name not in specs:
            warnings.append(Diagnostic("warning", "vars", f"--var {name} is not declared by formula "
                                       f"{formula.name!r} (used only where {{{{{name}}}}} appears)", file, "vars"))
            values[name] = given[name]
    if errors:
        names = ", ".join(missing) if missing else ""
        hint = f"pass {' '.join(f'--var {n}=<value>' for n in missing)}" if names else "fix the --var values"
        raise FormulaError(errors + warnings, hint=hint)
    return values, warnings


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``{{name}}`` for every bound name; leave the rest untouched."""
    if "{{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def used(text: str) -> list[str]:
    """Placeholder names used in ``text`` (Handlebars keywords excluded), in order of appearance."""
    out: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in KEYWORDS and name not in out:
            out.append(name)
    return out


def undeclared_warnings(formula: Formula) -> list[Diagnostic]:
    """Gas Town's ``ValidateTemplateVariables`` as warnings: ``{{x}}`` used but not declared."""
    specs = declared(formula)
    first_use: dict[str, str] = {}

    def scan(path: str, *texts: str) -> None:
        for text in texts:
            for name in used(text):
                if name not in specs:
                    first_use.setdefault(name, path)

    scan("description", formula.description)
    from vermas.formulas.compose import walk

    for step in walk(formula.steps):
        scan(step.source_location or step.id, step.title, step.description, step.acceptance)
    for leg in formula.legs:
        scan(leg.source_location, leg.title, leg.description, leg.focus)
    if formula.synthesis is not None:
        scan("synthesis", formula.synthesis.title, formula.synthesis.description)
    return [Diagnostic("warning", path, f"{{{{{name}}}}} is used but not declared in [vars] (left as is when "
                       "cooked)", formula.path, "vars") for name, path in first_use.items()]


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def truthy(value: str) -> bool:
    """bd's condition truthiness: "", false, 0, no, off are false."""
    return value.strip().lower() not in ("", "false", "0", "no", "off")


def evaluate_condition(condition: str, values: dict[str, str]) -> bool:
    """bd's step conditions: ``{{v}}``, ``!{{v}}``, ``{{v}} == x``, ``{{v}} != x``."""
    text = condition.strip()
    for op in ("==", "!="):
        if op in text:
            left, right = (part.strip() for part in text.split(op, 1))
            left_value = substitute(left, values).strip().strip("'\"")
            right_value = substitute(right, values).strip().strip("'\"")
            return (left_value == right_value) if op == "==" else (left_value != right_value)
    negate = text.startswith("!")
    if negate:
        text = text[1:].strip()
    match = PLACEHOLDER.fullmatch(text)
    result = truthy(values.get(match.group(1), "")) if match else truthy(substitute(text, values))
    return not result if negate else result
