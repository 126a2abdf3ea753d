"""Small pieces: placeholders, conditions, description fields, graph helpers, globbing, state mapping."""

from __future__ import annotations

import pytest


def test_substitute_leaves_unknown_and_go_templates_alone():
    from vermas.formulas.vars import substitute, used

    text = "{{a}} {{ b }} {{.review_id}} {{missing}} {{a}}"
    assert substitute(text, {"a": "X", "missing_not": "y"}) == "X {{ b }} {{.review_id}} {{missing}} X"
    assert used("{{else}} {{x}} {{this}} {{x}} {{y_1}}") == ["x", "y_1"]


@pytest.mark.parametrize(("condition", "expected"), [
    ("{{flag}}", True), ("!{{flag}}", False), ("{{off}}", False), ("{{zero}}", False), ("{{unset}}", False),
    ("{{mode}} == fast", True), ("{{mode}} != fast", False), ("{{mode}} == 'slow'", False), ("!{{unset}}", True),
])
def test_conditions(condition, expected):
    from vermas.formulas.vars import evaluate_condition

    values = {"flag": "yes", "off": "off", "zero": "0", "mode": "fast"}
    assert evaluate_condition(condition, values) is expected


def test_condition_drops_step_and_rewires(tmp_path):
    from vermas.formulas.cook import cook
    from vermas.formulas.lookup import Lookup, search_path
    from vermas.formulas.parse import parse_file

    (tmp_path / "c.formula.toml").write_text(
        'formula = "c"\n[vars.docs]\ndefault = "no"\n[[steps]]\nid = "a"\n[[steps]]\nid = "b"\nneeds = ["a"]\n'
        'condition = "{{docs}}"\n[[steps]]\nid = "c"\nneeds = ["b"]\n')
    formula = parse_file(str(tmp_path / "c.formula.toml"))
    lookup = Lookup(search_path())
    assert [(s.key, s.needs) for s in cook(formula, lookup, runtime=True).steps] == [("a", []), ("c", ["a"])]
    with_docs = cook(formula, lookup, variables={"docs": "yes"})
    assert [(s.key, s.needs) for s in with_docs.steps] == [("a", []), ("b", ["a"]), ("c", ["b"])]


def test_description_fields_roundtrip():
    from vermas.formulas.fields import decode_vars, encode_vars, get_field, parse_fields, set_fields

    desc = "Users cannot log in.\n\nSteps: see below\nattached_molecule: old"
    updated = set_fields(desc, {"attached_molecule": "gt-mol-1", "attached_formula": "f"})
    assert updated == "attached_molecule: gt-mol-1\nattached_formula: f\n\nUsers cannot log in.\n\nSteps: see below"
    assert get_field(updated, "Attached-Molecule") == "gt-mol-1"
    cleared = set_fields(updated, {"attached_molecule": None, "attached_formula": None})
    assert cleared == "Users cannot log in.\n\nSteps: see below"
    assert parse_fields("Key: v\nnot a field line\nother: x: y") == {"key": "v", "other": "x: y"}
    values = {"a": "1", "semi": "x;y", "back": "c:\\d", "nl": "l1\nl2", "empty": ""}
    assert decode_vars(encode_vars(values)) == values


def test_find_cycle_and_topological_order():
    from vermas.formulas.graph import find_cycle, topological_order

    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": [], "b": ["a", "zz"]}) is None
    chain = {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(5000)}  # no recursion limit
    assert find_cycle(chain) is None
    # Formula order is kept where the needs allow it.
    assert topological_order(["c", "a", "b"], {"c": ["b"], "b": ["a"]}) == ["a", "b", "c"]
    assert topological_order(["x", "y", "z"], {}) == ["x", "y", "z"]


def test_match_glob():
    from vermas.formulas.compose import match_glob

    assert match_glob("implement", "implement") and not match_glob("implement", "implement.draft")
    assert match_glob("*.draft", "implement.draft") and match_glob("shiny.*", "shiny.test")
    assert match_glob("*", "anything") and match_glob("im*", "implement")


def test_state_mapping():
    from vermas.formulas.state import step_state

    assert step_state({"status": "open"}, blocked=False) == "ready"
    assert step_state({"status": "open"}, blocked=True) == "pending"
    assert step_state({"status": "in_progress"}, blocked=False) == "in_progress"
    assert step_state({"status": "hooked"}, blocked=True) == "in_progress"
    assert step_state({"status": "closed", "close_reason": "failed badly"}, blocked=False) == "completed"
    assert step_state({"status": "closed", "labels": ["state:skipped"]}, blocked=False) == "skipped"
    assert step_state({"status": "blocked", "labels": ["state:failed"]}, blocked=False) == "failed"
    assert step_state({"status": "blocked"}, blocked=False) == "pending"


def test_go_durations_and_ttls():
    from vermas.formulas.pour import _duration_ns, parse_ttl

    assert _duration_ns("30m") == 30 * 60 * 10**9
    assert _duration_ns("1h30m") == 90 * 60 * 10**9
    assert _duration_ns("soon") == 0
    assert parse_ttl("2h") == 7200 and parse_ttl("1d") == 86400
    with pytest.raises(ValueError):
        parse_ttl("-5m")
