"""Raw formula table → :class:`~vermas.formulas.model.Formula`, checking every key's type.

Keys are the union of what Gas Town's parser decodes and what bd's understands. A value of
the wrong type under a key Gas Town decodes is an error (gt's TOML decoder fails on it); under
a key only bd knows it is a warning and the value is ignored (gt would ignore the key). Keys
nobody knows are warnings too, never silently dropped. bd features VerMAS does not apply
(``loop``, ``on_complete``, ``waits_for``, ``[compose]`` ``bond_points``/``hooks``/``gate``)
are reported as warnings.
"""

from __future__ import annotations

from vermas.formulas.model import (
    FORMULA_TYPES,
    AdviceRule,
    AdviceStep,
    Aspect,
    BranchRule,
    Compose,
    Diagnostic,
    ExpandRule,
    Formula,
    FormulaError,
    Gate,
    Leg,
    MapRule,
    Step,
    Synthesis,
    VarDef,
)
from vermas.formulas.source import read_raw

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_NOT_APPLIED = "is a bd feature VerMAS does not apply (ignored)"
# Keys Gas Town's structs decode (a wrong type there is a decode error in gt).
_GT_TOP = {"formula", "description", "type", "version", "pour", "agent", "review_only", "inputs", "prompts",
           "output", "legs", "synthesis", "steps", "vars", "template", "aspects", "extends", "compose", "advice",
           "pointcuts", "squash", "presets"}
_GT_STEP = {"id", "title", "description", "needs", "parallel", "interactive", "acceptance", "gate"}
_STEP_KEYS = _GT_STEP | {"type", "priority", "labels", "depends_on", "assignee", "notes", "condition", "expand",
                         "expand_vars", "children", "waits_for", "loop", "on_complete"}


def parse_file(path: str, *, origin: str = "path") -> Formula:
    """Read and parse one formula file; :class:`FormulaError` when it cannot be read at all.

    Structural problems (missing ids, bad ``needs``) are not raised here: see
    :func:`vermas.formulas.validate.validate`. Type errors are raised.
    """
    raw = read_raw(path)
    formula, diagnostics = parse_data(raw, path)
    errors = [d for d in diagnostics if d.level == "error"]
    if errors:
        raise FormulaError(diagnostics)
    formula.origin = origin
    return formula


def parse_data(raw: dict, path: str = "") -> tuple[Formula, list[Diagnostic]]:
    """Parse a decoded table; returns the formula and every diagnostic (errors and warnings)."""
    reader = _Reader(path)
    formula = reader.formula(raw)
    formula.path = path
    formula.warnings = [d for d in reader.diagnostics if d.level == "warning"]
    return formula, reader.diagnostics


def infer_type(formula: Formula) -> str:
    """Gas Town's ``inferType``: extends/steps → workflow, legs → convoy, template → expansion, aspects → aspect."""
    if formula.extends or formula.steps:
        return "workflow"
    if formula.legs:
        return "convoy"
    if formula.template:
        return "expansion"
    if formula.aspects:
        return "aspect"
    return ""


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    # -------------------------------------------------------------- reporting
    def error(self, path: str, message: str, code: str = "type") -> None:
        self.diagnostics.append(Diagnostic("error", path, message, self.file, code))

    def warn(self, path: str, message: str, code: str = "unknown-key") -> None:
        self.diagnostics.append(Diagnostic("warning", path, message, self.file, code))

    def bad_type(self, path: str, expected: str, value: object, *, gt: bool) -> None:
        got = _type_name(value)
        if gt:
            self.error(path, f"expected {expected}, got {got}")
        else:
            self.warn(path, f"expected {expected}, got {got} (ignored)", "type")

    def unknown(self, table: dict, known: set[str], path: str, *, not_applied: set[str] = frozenset()) -> None:
        for key in table:
            if key in not_applied:
                self.warn(_join(path, key), f"'{key}' {_NOT_APPLIED}", "unsupported")
            elif key not in known:
                self.warn(_join(path, key), f"unknown key '{key}' (ignored)")

    # ----------------------------------------------------------------- scalars
    def str_(self, table: dict, key: str, path: str, *, gt: bool = True, default: str = "") -> str:
        value = table.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        self.bad_type(_join(path, key), "a string", value, gt=gt)
        return default

    def bool_(self, table: dict, key: str, path: str, *, gt: bool = True) -> bool:
        value = table.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self.bad_type(_join(path, key), "true or false", value, gt=gt)
        return False

    def int_(self, table: dict, key: str, path: str, *, gt: bool = True) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.bad_type(_join(path, key), "an integer", value, gt=gt)
        return None

    def str_list(self, table: dict, key: str, path: str, *, gt: bool = True) -> list[str]:
        value = table.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad_type(_join(path, key), "an array of strings", value, gt=gt)
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.bad_type(f"{_join(path, key)}[{i}]", "a string", item, gt=gt)
        return out

    def str_map(self, table: dict, key: str, path: str, *, gt: bool = True) -> dict[str, str]:
        value = table.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad_type(_join(path, key), "a table of strings", value, gt=gt)
            return {}
        out: dict[str, str] = {}
        for name, item in value.items():
            if isinstance(item, str):
                out[name] = item
            else:
                self.bad_type(_join(_join(path, key), name), "a string", item, gt=gt)
        return out

    def tables(self, table: dict, key: str, path: str, *, gt: bool = True) -> list[tuple[str, dict]]:
        """An array of tables (``[[key]]``), each with its key path."""
        value = table.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad_type(_join(path, key), "an array of tables", value, gt=gt)
            return []
        out = []
        for i, item in enumerate(value):
            item_path = f"{_join(path, key)}[{i}]"
            if isinstance(item, dict):
                out.append((item_path, item))
            else:
                self.bad_type(item_path, "a table", item, gt=gt)
        return out

    def table(self, table: dict, key: str, path: str, *, gt: bool = True) -> dict | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return value
        self.bad_type(_join(path, key), "a table", value, gt=gt)
        return None

    # ----------------------------------------------------------------- formula
    def formula(self, raw: dict) -> Formula:
        name = self.str_(raw, "formula", "")
        f = Formula(name=name)
        f.description = self.str_(raw, "description", "")
        declared = self.str_(raw, "type", "")
        version = self.int_(raw, "version", "")
        f.version = version if version else 1
        f.extends = self.str_list(raw, "extends", "")
        f.pour = self.bool_(raw, "pour", "")
        f.agent = self.str_(raw, "agent", "")
        f.review_only = self.bool_(raw, "review_only", "")
        f.phase = self.str_(raw, "phase", "", gt=False)
        if f.phase and f.phase not in ("liquid", "vapor"):
            self.warn("phase", f"unknown phase {f.phase!r} (bd knows 'liquid' and 'vapor')", "value")
        f.vars = self.vars(raw)
        f.steps = [self.step(item, p) for p, item in self.tables(raw, "steps", "")]
        f.template = [self.step(item, p, template=True) for p, item in self.tables(raw, "template", "")]
        f.legs = [self.leg(item, p) for p, item in self.tables(raw, "legs", "")]
        synthesis = self.table(raw, "synthesis", "")
        if synthesis is not None:
            f.synthesis = Synthesis(
                title=self.str_(synthesis, "title", "synthesis"),
                description=self.str_(synthesis, "description", "synthesis"),
                depends_on=self.str_list(synthesis, "depends_on", "synthesis"),
            )
            self.unknown(synthesis, {"title", "description", "depends_on"}, "synthesis")
        f.inputs = self.inputs(raw)
        f.prompts = self.str_map(raw, "prompts", "")
        output = self.table(raw, "output", "")
        if output is not None:
            f.output = {k: self.str_(output, k, "output") for k in ("directory", "leg_pattern", "synthesis")
                        if k in output}
            self.unknown(output, {"directory", "leg_pattern", "synthesis"}, "output")
        f.presets = self.presets(raw)
        f.aspects = [self.aspect(item, p) for p, item in self.tables(raw, "aspects", "")]
        f.compose = self.compose(raw)
        f.advice = [self.advice(item, p) for p, item in self.tables(raw, "advice", "")]
        f.pointcuts = self.pointcuts(raw)
        squash = self.table(raw, "squash", "")
        if squash is not None:
            f.squash = {"trigger": self.str_(squash, "trigger", "squash"),
                        "template_type": self.str_(squash, "template_type", "squash"),
                        "include_metrics": self.bool_(squash, "include_metrics", "squash")}
            self.unknown(squash, {"trigger", "template_type", "include_metrics"}, "squash")
        if "source" in raw:
            self.str_(raw, "source", "", gt=False)
        self.unknown(raw, _GT_TOP | {"phase", "source"}, "")
        if declared:
            if declared not in FORMULA_TYPES:
                self.error("type", f"invalid formula type {declared!r} (must be convoy, workflow, expansion, "
                                   "or aspect)", "gt")
            f.type = declared
        else:
            f.type = infer_type(f)
            f.type_inferred = True
        return f

    def vars(self, raw: dict) -> dict[str, VarDef]:
        table = self.table(raw, "vars", "")
        out: dict[str, VarDef] = {}
        for name, value in (table or {}).items():
            path = f"vars.{name}"
            if isinstance(value, str):  # shorthand: name = "default"
                out[name] = VarDef(name=name, default=value)
                continue
            if not isinstance(value, dict):
                self.error(path, f"expected a string (the default) or a table, got {_type_name(value)}")
                continue
            var = VarDef(name=name)
            var.description = self.str_(value, "description", path, gt=False)
            var.required = self.bool_(value, "required", path, gt=False)
            if "default" in value:
                default = value["default"]
                if isinstance(default, str):
                    var.default = default
                else:
                    self.warn(f"{path}.default", f"expected a string, got {_type_name(default)} (ignored)", "type")
            var.enum = self.str_list(value, "enum", path, gt=False)
            var.pattern = self.str_(value, "pattern", path, gt=False)
            if var.pattern:
                import re

                try:
                    re.compile(var.pattern)
                except re.error as exc:
                    self.error(f"{path}.pattern", f"invalid regular expression {var.pattern!r}: {exc}", "vars")
            var.type = self.str_(value, "type", path, gt=False)
            self.unknown(value, {"description", "required", "default", "enum", "pattern", "type"}, path)
            out[name] = var
        return out

    def inputs(self, raw: dict) -> dict[str, VarDef]:
        table = self.table(raw, "inputs", "")
        out: dict[str, VarDef] = {}
        for name, value in (table or {}).items():
            path = f"inputs.{name}"
            if not isinstance(value, dict):
                self.bad_type(path, "a table", value, gt=True)
                continue
            var = VarDef(name=name)
            var.description = self.str_(value, "description", path)
            var.type = self.str_(value, "type", path)
            var.required = self.bool_(value, "required", path)
            var.required_unless = self.str_list(value, "required_unless", path)
            if "default" in value:
                var.default = self.str_(value, "default", path)
            self.unknown(value, {"description", "type", "required", "required_unless", "default"}, path)
            out[name] = var
        return out

    def presets(self, raw: dict) -> dict[str, list[str]]:
        table = self.table(raw, "presets", "")
        out: dict[str, list[str]] = {}
        for name, value in (table or {}).items():
            path = f"presets.{name}"
            if not isinstance(value, dict):
                self.bad_type(path, "a table", value, gt=True)
                continue
            self.str_(value, "description", path)
            out[name] = self.str_list(value, "legs", path)
            self.unknown(value, {"description", "legs"}, path)
        return out

    def step(self, item: dict, path: str, *, template: bool = False, child: bool = False) -> Step:
        gt_keys = {"id", "title", "description", "needs", "acceptance"} if template else _GT_STEP
        if child:
            gt_keys = set()

        def gt(key: str) -> bool:
            return key in gt_keys

        step = Step(id=self.str_(item, "id", path, gt=gt("id")))
        step.title = self.str_(item, "title", path, gt=gt("title"))
        step.description = self.str_(item, "description", path, gt=gt("description"))
        step.needs = self.str_list(item, "needs", path, gt=gt("needs"))
        for dep in self.str_list(item, "depends_on", path, gt=False):
            if dep not in step.needs:
                step.needs.append(dep)
        step.parallel = self.bool_(item, "parallel", path, gt=gt("parallel"))
        step.interactive = self.bool_(item, "interactive", path, gt=gt("interactive"))
        step.acceptance = self.str_(item, "acceptance", path, gt=gt("acceptance"))
        step.type = self.str_(item, "type", path, gt=False)
        priority = self.int_(item, "priority", path, gt=False)
        if priority is not None:
            if 0 <= priority <= 4:
                step.priority = priority
            else:
                self.warn(f"{path}.priority", f"priority must be 0-4, got {priority} (ignored)", "value")
        step.labels = self.str_list(item, "labels", path, gt=False)
        step.assignee = self.str_(item, "assignee", path, gt=False)
        step.notes = self.str_(item, "notes", path, gt=False)
        step.condition = self.str_(item, "condition", path, gt=False)
        step.expand = self.str_(item, "expand", path, gt=False)
        step.expand_vars = self.str_map(item, "expand_vars", path, gt=False)
        gate = self.table(item, "gate", path, gt=gt("gate"))
        if gate is not None:
            gpath = f"{path}.gate"
            step.gate = Gate(type=self.str_(gate, "type", gpath, gt=gt("gate")),
                             id=self.str_(gate, "id", gpath, gt=False),
                             timeout=self.str_(gate, "timeout", gpath, gt=False),
                             condition=self.str_(gate, "condition", gpath, gt=gt("gate")))
            self.unknown(gate, {"type", "id", "timeout", "condition"}, gpath)
        step.children = [self.step(c, p, child=True) for p, c in self.tables(item, "children", path, gt=False)]
        step.source_location = path
        self.unknown(item, _STEP_KEYS, path, not_applied={"waits_for", "loop", "on_complete"})
        return step

    def leg(self, item: dict, path: str) -> Leg:
        leg = Leg(id=self.str_(item, "id", path), title=self.str_(item, "title", path),
                  focus=self.str_(item, "focus", path), description=self.str_(item, "description", path),
                  agent=self.str_(item, "agent", path), review_only=self.bool_(item, "review_only", path),
                  source_location=path)
        self.unknown(item, {"id", "title", "focus", "description", "agent", "review_only"}, path)
        return leg

    def aspect(self, item: dict, path: str) -> Aspect:
        aspect = Aspect(id=self.str_(item, "id", path), title=self.str_(item, "title", path),
                        focus=self.str_(item, "focus", path), description=self.str_(item, "description", path))
        self.unknown(item, {"id", "title", "focus", "description"}, path)
        return aspect

    def compose(self, raw: dict) -> Compose | None:
        table = self.table(raw, "compose", "")
        if table is None:
            return None
        compose = Compose()
        for path, item in self.tables(table, "expand", "compose"):
            compose.expand.append(ExpandRule(target=self.str_(item, "target", path),
                                             with_=self.str_(item, "with", path),
                                             vars=self.str_map(item, "vars", path, gt=False), path=path))
            self.unknown(item, {"target", "with", "vars"}, path)
        for path, item in self.tables(table, "map", "compose", gt=False):
            compose.map.append(MapRule(select=self.str_(item, "select", path, gt=False),
                                       with_=self.str_(item, "with", path, gt=False),
                                       vars=self.str_map(item, "vars", path, gt=False), path=path))
            self.unknown(item, {"select", "with", "vars"}, path)
        for path, item in self.tables(table, "branch", "compose", gt=False):
            compose.branch.append(BranchRule(from_=self.str_(item, "from", path, gt=False),
                                             steps=self.str_list(item, "steps", path, gt=False),
                                             join=self.str_(item, "join", path, gt=False), path=path))
            self.unknown(item, {"from", "steps", "join"}, path)
        compose.aspects = self.str_list(table, "aspects", "compose")
        self.unknown(table, {"expand", "map", "branch", "aspects"}, "compose",
                     not_applied={"bond_points", "hooks", "gate"})
        return compose

    def advice(self, item: dict, path: str) -> AdviceRule:
        rule = AdviceRule(target=self.str_(item, "target", path), path=path)
        known = {"target", "before", "after", "around"}
        for key, into in (("before", rule.before), ("after", rule.after)):
            one = self.table(item, key, path, gt=False)
            if one is not None:
                into.append(self.advice_step(one, f"{path}.{key}"))
        around = self.table(item, "around", path)
        if around is not None:
            apath = f"{path}.around"
            for key, into in (("before", rule.before), ("after", rule.after)):
                for spath, sitem in self.tables(around, key, apath):
                    into.append(self.advice_step(sitem, spath))
            self.unknown(around, {"before", "after"}, apath)
        self.unknown(item, known, path)
        return rule

    def advice_step(self, item: dict, path: str) -> AdviceStep:
        step = AdviceStep(id=self.str_(item, "id", path), title=self.str_(item, "title", path),
                          description=self.str_(item, "description", path),
                          type=self.str_(item, "type", path, gt=False), path=path)
        self.unknown(item, {"id", "title", "description", "type", "args", "output"}, path)
        return step

    def pointcuts(self, raw: dict) -> list[str]:
        out = []
        for path, item in self.tables(raw, "pointcuts", ""):
            out.append(self.str_(item, "glob", path))
            self.str_(item, "type", path, gt=False)
            self.str_(item, "label", path, gt=False)
            self.unknown(item, {"glob", "type", "label"}, path)
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def parse_each(paths: list[str], on_error: Callable[[str, FormulaError], None]) -> list[Formula]:
    """Parse several files, reporting failures through ``on_error`` instead of raising."""
    out = []
    for path in paths:
        try:
            out.append(parse_file(path))
        except FormulaError as exc:
            on_error(path, exc)
    return out
