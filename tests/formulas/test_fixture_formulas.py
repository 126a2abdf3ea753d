"""Every fixture formula loads; exactly the ones Gas Town accepts validate, the rest fail with reasons.

Expected verdicts come from reading Gas Town's validator (``internal/formula/parser.go`` at
HEAD a8bd79bf, the commit the gastown fixtures were taken from), not from running ours:

* ``Parse`` decodes the TOML, infers the type (extends/steps → workflow, legs → convoy,
  template → expansion, aspects → aspect) and calls ``Validate``: name required; a known type;
  convoy → ≥1 leg, unique leg ids, synthesis ``depends_on`` naming legs, ``required_unless``
  naming inputs; workflow → ≥1 step unless it extends, unique ids, ``needs`` naming steps, no
  cycle; expansion → ≥1 template, same id/needs/cycle rules; aspect → **≥1 ``[[aspects]]``**.
  gt does not check vars at all (``Var`` has no validation), so a var both required and
  defaulted is fine for gt, and convoy formulas with legs are valid.
* ``Resolve`` (extends + ``[compose]`` expand) succeeds for the five composition fixtures:
  their parents (``shiny``, ``mol-polecat-work-monorepo``) and expansions (``rule-of-five``,
  ``tdd-cycle``) exist beside them; ``[compose] aspects`` are recorded, not loaded.

So of the 84 files, 82 validate and 2 are rejected: both copies of ``security-audit``, an aspect
formula that defines bd-style ``[[advice]]`` but no ``[[aspects]]``. Separately, bd v0.43's
validator rejects the 12 files SOURCES.md lists (6 convoy, 6 required+default): we report
those as ``bd-compat`` warnings.
"""

from __future__ import annotations

import pytest

from tests.formulas.conftest import fixture_files, fixture_path

EXPECTED_TOTAL = 84
EXPECTED_REJECTED = {
    "gastown__security-audit.formula.toml": ("aspects", "aspect formula requires at least one aspect"),
    "vermas__security-audit.formula.toml": ("aspects", "aspect formula requires at least one aspect"),
}
BD_V043_REJECTS = {
    # type = "convoy"
    "gastown__code-review.formula.toml": "type",
    "gastown__design.formula.toml": "type",
    "gastown__mol-plan-review.formula.toml": "type",
    "gastown__mol-prd-review.formula.toml": "type",
    "vermas__code-review.formula.toml": "type",
    "vermas__design.formula.toml": "type",
    # a var with required = true and a default
    "gastown__mol-digest-generate.formula.toml": "vars.",
    "gastown__mol-orphan-scan.formula.toml": "vars.",
    "gastown__mol-shutdown-dance.formula.toml": "vars.",
    "vermas__mol-digest-generate.formula.toml": "vars.",
    "vermas__mol-orphan-scan.formula.toml": "vars.",
    "vermas__mol-session-gc.formula.toml": "vars.",
}


@pytest.fixture(scope="module")
def verdicts(formula_sets):
    from vermas.formulas.check import check_file
    from vermas.formulas.lookup import Lookup, search_path

    lookup = Lookup(search_path())
    return {name: check_file(fixture_path(formula_sets, name), lookup) for name in fixture_files()}


def test_every_fixture_loads(formula_sets):
    from vermas.formulas.parse import parse_data
    from vermas.formulas.source import read_raw

    names = fixture_files()
    assert len(names) == EXPECTED_TOTAL
    for name in names:
        formula, diagnostics = parse_data(read_raw(fixture_path(formula_sets, name)), name)
        assert formula.name, name
        assert [d for d in diagnostics if d.level == "error"] == [], name


def test_exact_count_validates(verdicts):
    valid = [name for name, result in verdicts.items() if result.ok]
    assert len(verdicts) == EXPECTED_TOTAL
    assert len(valid) == EXPECTED_TOTAL - len(EXPECTED_REJECTED) == 82


def test_exact_rejections_and_reasons(verdicts):
    rejected = {name: result for name, result in verdicts.items() if not result.ok}
    assert set(rejected) == set(EXPECTED_REJECTED)
    for name, (path, reason) in EXPECTED_REJECTED.items():
        errors = rejected[name].errors
        assert len(errors) == 1, [e.format() for e in errors]
        assert errors[0].path == path
        assert reason in errors[0].message
        assert "[[advice]]" in errors[0].message  # says why the advice does not count
        text = errors[0].format()
        assert text.startswith(rejected[name].path)  # names the file


def test_bd_v043_rejections_are_reported_as_warnings(verdicts):
    flagged = {name for name, result in verdicts.items() if any(w.code == "bd-compat" for w in result.warnings)}
    assert flagged == set(BD_V043_REJECTS)
    for name, path_prefix in BD_V043_REJECTS.items():
        warnings = [w for w in verdicts[name].warnings if w.code == "bd-compat"]
        assert all(w.path.startswith(path_prefix) for w in warnings), [w.format() for w in warnings]


def test_inferred_types(verdicts):
    towers = verdicts["gastown__towers-of-hanoi-10.formula.toml"].formula
    assert towers.type == "workflow" and towers.type_inferred
    design = verdicts["gastown__design.formula.toml"].formula
    assert design.type == "convoy" and not design.type_inferred


def test_json_and_toml_twins_cook_to_the_same_graph(formula_sets, lookup_for):
    from vermas.formulas.cook import cook
    from vermas.formulas.parse import parse_file

    lookup = lookup_for("vermas")
    json_formula = parse_file(fixture_path(formula_sets, "vermas__mol-gastown-boot.formula.json"))
    toml_formula = parse_file(fixture_path(formula_sets, "vermas__mol-gastown-boot.formula.toml"))
    a = cook(json_formula, lookup, runtime=True)
    b = cook(toml_formula, lookup, runtime=True)
    assert [(s.key, s.needs, s.parent) for s in a.steps] == [(s.key, s.needs, s.parent) for s in b.steps]
    # By name, the TOML file wins over the JSON one in the same directory (bd's rule).
    assert lookup.find("mol-gastown-boot")[0].endswith(".formula.toml")


def test_bd_json_release_formula_cooks(formula_sets, lookup_for):
    from vermas.formulas.cook import cook
    from vermas.formulas.parse import parse_file

    formula = parse_file(fixture_path(formula_sets, "beads-v0.43.0__beads-release.formula.json"))
    proto = cook(formula, lookup_for("beads-v0.43.0"), variables={"version": "0.43.1"})
    assert len(proto.steps) == 21
    assert all("{{version}}" not in s.title for s in proto.steps)
