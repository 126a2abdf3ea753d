"""Bad formulas: every failure names the file, the key path and the reason; exit 1, never a traceback."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import run_vermas

GOOD_HEAD = 'formula = "f"\nversion = 1\n'


def write(directory, name: str, text: str) -> str:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def check(path: str):
    from vermas.formulas.check import check_file
    from vermas.formulas.lookup import Lookup, search_path

    return check_file(path, Lookup(search_path()))


CASES = [
    ("malformed-toml", 'formula = "f"\n[[steps]]\nid = "a"\ntitle = oops\n', "line 4", "malformed TOML"),
    ("needs-type", GOOD_HEAD + '[[steps]]\nid = "a"\n[[steps]]\nid = "b"\nneeds = "a"\n',
     "steps[1].needs", "expected an array of strings, got a string"),
    ("missing-id", GOOD_HEAD + '[[steps]]\ntitle = "no id"\n', "steps[0].id", "step missing required id field"),
    ("unknown-need", GOOD_HEAD + '[[steps]]\nid = "a"\n[[steps]]\nid = "b"\nneeds = ["zz"]\n',
     "steps[1].needs[0]", "step 'b' needs unknown step: zz"),
    ("cycle", GOOD_HEAD + '[[steps]]\nid = "a"\nneeds = ["b"]\n[[steps]]\nid = "b"\nneeds = ["a"]\n',
     "steps", "cycle detected in needs: a → b → a"),
    ("duplicate", GOOD_HEAD + '[[steps]]\nid = "a"\n[[steps]]\nid = "a"\n', "steps[1].id", "duplicate step id: a"),
    ("bad-type", GOOD_HEAD + 'type = "pipeline"\n[[steps]]\nid = "a"\n', "type", "invalid formula type 'pipeline'"),
    ("no-name", 'version = 1\n[[steps]]\nid = "a"\n', "formula", "formula field is required"),
    ("empty", GOOD_HEAD, "type", "cannot infer the formula type"),
    ("var-type", GOOD_HEAD + '[vars]\nx = 3\n[[steps]]\nid = "a"\n', "vars.x", "expected a string (the default)"),
    ("convoy-no-legs", GOOD_HEAD + 'type = "convoy"\n', "legs", "convoy formula requires at least one leg"),
    ("synthesis-unknown-leg", GOOD_HEAD + '[[legs]]\nid = "a"\n[synthesis]\ndepends_on = ["b"]\n',
     "synthesis.depends_on[0]", "synthesis depends_on references unknown leg: b"),
    ("template-needs", GOOD_HEAD + '[[template]]\nid = "{target}.a"\nneeds = ["{target}.z"]\n',
     "template[0].needs[0]", "needs unknown template"),
    ("bad-pattern", GOOD_HEAD + '[vars.x]\npattern = "(["\n[[steps]]\nid = "a"\n', "vars.x.pattern",
     "invalid regular expression"),
    ("child-unknown-need", GOOD_HEAD + '[[steps]]\nid = "a"\n[[steps.children]]\nid = "c"\nneeds = ["q"]\n',
     "steps[0].children[0].needs[0]", "step 'c' needs unknown step: q"),
    ("extends-missing", GOOD_HEAD + 'extends = ["no-such-parent"]\n', "extends[0]",
     "formula 'no-such-parent' not found"),
]


@pytest.mark.parametrize(("case", "text", "key", "reason"), CASES, ids=[c[0] for c in CASES])
def test_error_names_file_key_and_reason(tmp_path, case, text, key, reason):
    path = write(tmp_path, f"{case}.formula.toml", text)
    result = check(path)
    assert not result.ok
    messages = [e.format() for e in result.errors]
    assert any(e.path == key and reason in e.message for e in result.errors), messages
    assert all(m.startswith(path) for m in messages), messages


def test_malformed_json(tmp_path):
    path = write(tmp_path, "bad.formula.json", '{"formula": "f", "steps": [\n  {"id": "a",}\n]}\n')
    result = check(path)
    assert not result.ok
    assert "malformed JSON" in result.errors[0].message and result.errors[0].path == "line 2"


def test_unknown_keys_are_warnings_not_dropped_silently(tmp_path):
    path = write(tmp_path, "f.formula.toml", GOOD_HEAD + 'colour = "red"\n[[steps]]\nid = "a"\nflavour = "x"\n'
                                                         'loop = { count = 3 }\n')
    result = check(path)
    assert result.ok
    paths = {w.path: w for w in result.warnings}
    assert paths["colour"].code == "unknown-key"
    assert paths["steps[0].flavour"].code == "unknown-key"
    assert paths["steps[0].loop"].code == "unsupported"  # a bd feature we do not apply: said so


def test_bd_only_key_with_wrong_type_is_a_warning(tmp_path):
    # gt ignores `priority`, so a bad value there must not make the formula invalid.
    path = write(tmp_path, "f.formula.toml", GOOD_HEAD + '[[steps]]\nid = "a"\npriority = "high"\n')
    result = check(path)
    assert result.ok
    assert any(w.path == "steps[0].priority" and w.code == "type" for w in result.warnings)


def test_extends_cycle_is_named(tmp_path):
    write(tmp_path, "a.formula.toml", 'formula = "a"\nextends = ["b"]\n')
    path_b = write(tmp_path, "b.formula.toml", 'formula = "b"\nextends = ["a"]\n')
    result = check(path_b)
    assert not result.ok
    assert any("circular extends detected: b -> a -> b" in e.message for e in result.errors), \
        [e.format() for e in result.errors]


def test_compose_errors(tmp_path):
    write(tmp_path, "base.formula.toml", 'formula = "base"\n[[steps]]\nid = "work"\ntitle = "Work"\n')
    bad_target = write(tmp_path, "t.formula.toml", 'formula = "t"\nextends = ["base"]\n'
                       '[[compose.expand]]\ntarget = "nope"\nwith = "exp"\n')
    write(tmp_path, "exp.formula.toml", 'formula = "exp"\ntype = "expansion"\n[[template]]\nid = "{target}.x"\n')
    result = check(bad_target)
    assert any(e.path == "compose.expand[0].target" and "target step 'nope' not found" in e.message
               for e in result.errors), [e.format() for e in result.errors]
    not_expansion = write(tmp_path, "u.formula.toml", 'formula = "u"\nextends = ["base"]\n'
                          '[[compose.expand]]\ntarget = "work"\nwith = "base"\n')
    result = check(not_expansion)
    assert any(e.path == "compose.expand[0].with" and "is type 'workflow', want \"expansion\"" in e.message
               for e in result.errors), [e.format() for e in result.errors]


def test_var_checks_at_cook(tmp_path):
    from vermas.formulas.cook import cook
    from vermas.formulas.lookup import Lookup, search_path
    from vermas.formulas.model import FormulaError
    from vermas.formulas.parse import parse_file

    path = write(tmp_path, "v.formula.toml", GOOD_HEAD + """
        [vars.mode]
        enum = ["fast", "slow"]
        default = "fast"
        [vars.n]
        pattern = "^[0-9]+$"
        required = true
        [vars.who]
        required = true
        description = "the person"
        [[steps]]
        id = "a"
        title = "{{mode}} {{n}} {{who}} {{nobody}}"
        """)
    formula = parse_file(path)
    lookup = Lookup(search_path())
    with pytest.raises(FormulaError) as info:
        cook(formula, lookup, runtime=True)
    assert "missing required variables: n; who (the person)" in info.value.message
    with pytest.raises(FormulaError) as info:
        cook(formula, lookup, variables={"n": "x1", "who": "me", "mode": "medium"})
    assert "vars.mode: value 'medium' is not one of fast, slow" in info.value.message
    assert "vars.n: value 'x1' does not match pattern" in info.value.message
    proto = cook(formula, lookup, variables={"n": "12", "who": "me"})
    assert proto.steps[0].title == "fast 12 me {{nobody}}"  # undeclared placeholder left as is
    assert any("{{nobody}} is used but not declared" in w.message for w in proto.warnings)


def test_required_with_default_is_satisfied_by_the_default(tmp_path):
    from vermas.formulas.cook import cook
    from vermas.formulas.lookup import Lookup, search_path
    from vermas.formulas.parse import parse_file

    path = write(tmp_path, "r.formula.toml", GOOD_HEAD + '[vars.x]\nrequired = true\ndefault = "d"\n'
                                                         '[[steps]]\nid = "a"\ntitle = "{{x}}"\n')
    proto = cook(parse_file(path), Lookup(search_path()), runtime=True)
    assert proto.steps[0].title == "d"


# ------------------------------------------------------------------------------------------- CLI
def test_cli_validate_bad_file_exits_1_with_file_key_reason(cli, tmp_path):
    path = write(tmp_path, "bad.formula.toml", CASES[3][1])
    r = cli("formula", "validate", path)
    assert r.exit_code == 1
    assert f"{path}: steps[1].needs[0]: step 'b' needs unknown step: zz" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    r = cli("formula", "validate", path, "--json")
    assert r.exit_code == 1
    doc = r.json()
    assert doc["invalid"] == 1 and doc["results"][0]["errors"][0]["path"] == "steps[1].needs[0]"


def test_cli_cook_bad_formula_is_a_clean_error(cli, tmp_path):
    path = write(tmp_path, "bad.formula.toml", CASES[0][1])
    r = cli("mol", "cook", path)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"vermas: error: {path}: line 4: malformed TOML")
    assert "Traceback" not in r.stderr


def test_cli_pour_missing_vars_lists_them(cli, tmp_path, formula_sets):
    assert cli("init", "--prefix", "gt").exit_code == 0
    r = cli("mol", "pour", f"{formula_sets['gastown']}/shiny-enterprise.formula.toml")
    assert r.exit_code == 1
    assert "missing required variable: feature" in r.stderr
    assert "--var feature=<value>" in r.stderr
    assert json.loads(cli("list", "--json").stdout) == []  # nothing was written


def test_real_console_script_reports_without_traceback(tmp_path):
    path = write(tmp_path, "bad.formula.toml", CASES[4][1])
    proc = run_vermas("formula", "validate", path, cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "cycle detected in needs: a → b → a" in proc.stdout
    assert "Traceback" not in proc.stderr
    proc = run_vermas("mol", "cook", path, cwd=str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{path}: steps: cycle detected in needs" in proc.stderr
