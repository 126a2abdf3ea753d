"""The formula model: what a ``*.formula.toml`` / ``*.formula.json`` file says, typed.

Field names follow the file keys (Gas Town's ``internal/formula/types.go`` plus the keys
only bd understands). :class:`Diagnostic` is one finding about a file (error or warning)
with the key path it concerns; :class:`FormulaError` carries the errors to the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.errors import DataError

FORMULA_TYPES = ("workflow", "convoy", "expansion", "aspect")
SUFFIXES = (".formula.toml", ".formula.json")  # TOML preferred when both exist


@dataclass
class Diagnostic:
    """One finding: ``level`` is ``error`` or ``warning``; ``path`` is a key path like ``steps[2].needs``."""

    level: str
    path: str
    message: str
    file: str = ""
    code: str = ""  # machine-readable kind: gt, toml, type, unknown-key, bd-compat, vars, resolve …

    def format(self) -> str:
        where = f"{self.file}: " if self.file else ""
        key = f"{self.path}: " if self.path else ""
        return f"{where}{key}{self.message}"

    def as_dict(self) -> dict:
        return {"level": self.level, "file": self.file, "path": self.path, "message": self.message,
                "code": self.code}


class FormulaError(DataError):
    """A formula that cannot be used: names the file, the key path and the reason (exit 1)."""

    def __init__(self, diagnostics: list[Diagnostic], *, hint: str | None = None) -> None:
        errors = [d for d in diagnostics if d.level == "error"] or diagnostics
        lines = [d.format() for d in errors]
        message = lines[0] if len(lines) == 1 else f"{len(lines)} errors:\n  " + "\n  ".join(lines)
        super().__init__(message, hint=hint or "fix the formula file ('vermas formula validate <file>' "
                                               "lists every problem)")
        self.diagnostics = diagnostics


@dataclass
class VarDef:
    name: str
    description: str = ""
    default: str | None = None
    required: bool = False
    enum: list[str] = field(default_factory=list)
    pattern: str = ""
    type: str = ""
    required_unless: list[str] = field(default_factory=list)  # convoy inputs only


@dataclass
class Gate:
    """A step gate: bd's await gates (gh:run, gh:pr, timer, human, mail) or gt's conditional gate."""

    type: str = ""
    id: str = ""
    timeout: str = ""
    condition: str = ""


@dataclass
class Step:
    """A workflow step, an expansion template entry, or a nested child step."""

    id: str
    title: str = ""
    description: str = ""
    needs: list[str] = field(default_factory=list)
    parallel: bool = False
    acceptance: str = ""
    type: str = ""
    priority: int | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str = ""
    notes: str = ""
    interactive: bool = False
    condition: str = ""
    expand: str = ""
    expand_vars: dict[str, str] = field(default_factory=dict)
    gate: Gate | None = None
    children: list[Step] = field(default_factory=list)
    # Where the step was defined (kept through extends/expansion; written to the bead).
    source_formula: str = ""
    source_location: str = ""

    def copy(self) -> Step:
        return Step(
            id=self.id, title=self.title, description=self.description, needs=list(self.needs),
            parallel=self.parallel, acceptance=self.acceptance, type=self.type, priority=self.priority,
            labels=list(self.labels), assignee=self.assignee, notes=self.notes, interactive=self.interactive,
            condition=self.condition, expand=self.expand, expand_vars=dict(self.expand_vars), gate=self.gate,
            children=[c.copy() for c in self.children], source_formula=self.source_formula,
            source_location=self.source_location,
        )


@dataclass
class Leg:
    id: str
    title: str = ""
    focus: str = ""
    description: str = ""
    agent: str = ""
    review_only: bool = False
    source_location: str = ""


@dataclass
class Synthesis:
    title: str = ""
    description: str = ""
    depends_on: list[str] = field(default_factory=list)


@dataclass
class ExpandRule:
    target: str
    with_: str
    vars: dict[str, str] = field(default_factory=dict)
    path: str = ""


@dataclass
class MapRule:
    select: str
    with_: str
    vars: dict[str, str] = field(default_factory=dict)
    path: str = ""


@dataclass
class BranchRule:
    from_: str
    steps: list[str]
    join: str
    path: str = ""


@dataclass
class Compose:
    expand: list[ExpandRule] = field(default_factory=list)
    map: list[MapRule] = field(default_factory=list)
    branch: list[BranchRule] = field(default_factory=list)
    aspects: list[str] = field(default_factory=list)


@dataclass
class AdviceStep:
    id: str
    title: str = ""
    description: str = ""
    type: str = ""
    path: str = ""


@dataclass
class AdviceRule:
    target: str
    before: list[AdviceStep] = field(default_factory=list)  # ``before`` then ``around.before``
    after: list[AdviceStep] = field(default_factory=list)  # ``after`` then ``around.after``
    path: str = ""


@dataclass
class Aspect:
    id: str
    title: str = ""
    focus: str = ""
    description: str = ""


@dataclass
class Formula:
    """One parsed formula file (before resolution)."""

    name: str
    description: str = ""
    type: str = ""  # as declared, or inferred when absent (see ``type_inferred``)
    type_inferred: bool = False
    version: int = 1
    path: str = ""  # the file it was read from ("" for formulas built in memory)
    origin: str = ""  # rig | town | user | builtin | path
    extends: list[str] = field(default_factory=list)
    vars: dict[str, VarDef] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    template: list[Step] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    synthesis: Synthesis | None = None
    inputs: dict[str, VarDef] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    output: dict[str, str] = field(default_factory=dict)
    presets: dict[str, list[str]] = field(default_factory=dict)
    aspects: list[Aspect] = field(default_factory=list)
    compose: Compose | None = None
    advice: list[AdviceRule] = field(default_factory=list)
    pointcuts: list[str] = field(default_factory=list)
    squash: dict = field(default_factory=dict)
    phase: str = ""
    pour: bool = False
    agent: str = ""
    review_only: bool = False
    warnings: list[Diagnostic] = field(default_factory=list)

    def all_steps(self) -> list[Step]:
        """Every step, children after their parent, depth first."""
        out: list[Step] = []

        def walk(steps: list[Step]) -> None:
            for step in steps:
                out.append(step)
                walk(step.children)

        walk(self.steps)
        return out

    def warn(self, path: str, message: str, code: str) -> None:
        self.warnings.append(Diagnostic("warning", path, message, self.path, code))
