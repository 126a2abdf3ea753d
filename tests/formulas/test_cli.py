"""``vermas formula`` and ``vermas mol`` through the CLI: lookup order, output shapes, help."""

from __future__ import annotations

import json
import os

import pytest

SHIPPED = ["mol-deacon-patrol", "mol-inspect-verify", "mol-polecat-work", "mol-refinery-patrol",
           "mol-witness-patrol"]


def _formula(name: str, title: str) -> str:
    return f'formula = "{name}"\n[[steps]]\nid = "only"\ntitle = "{title}"\n'


@pytest.fixture
def town(tmp_path, cli):
    """A town with a rig: formulas at rig, town and user level (the user level is $HOME)."""
    root = tmp_path / "town"
    (root / "mayor").mkdir(parents=True)
    (root / "mayor" / "town.json").write_text('{"name": "t"}\n')
    (root / ".beads" / "formulas").mkdir(parents=True)
    rig = root / "app"
    (rig / ".beads" / "formulas").mkdir(parents=True)
    assert cli("init", "--prefix", "ap", cwd=str(rig)).exit_code == 0
    (rig / ".beads" / "formulas" / "shared.formula.toml").write_text(_formula("shared", "from the rig"))
    (root / ".beads" / "formulas" / "shared.formula.toml").write_text(_formula("shared", "from the town"))
    (root / ".beads" / "formulas" / "townonly.formula.toml").write_text(_formula("townonly", "town"))
    (root / ".beads" / "formulas" / "mol-polecat-work.formula.toml").write_text(_formula("mol-polecat-work", "town"))
    home = os.environ["HOME"]
    os.makedirs(os.path.join(home, ".beads", "formulas"), exist_ok=True)
    with open(os.path.join(home, ".beads", "formulas", "useronly.formula.json"), "w") as fh:
        json.dump({"formula": "useronly", "steps": [{"id": "u", "title": "user"}]}, fh)
    return root, rig


def test_lookup_order_rig_town_user_shipped(cli, town):
    _root, rig = town
    rows = cli("formula", "list", "--json", cwd=str(rig)).json()
    by_name = {r["name"]: r for r in rows}
    assert by_name["shared"]["origin"] == "rig"
    assert by_name["townonly"]["origin"] == "town"
    assert by_name["useronly"]["origin"] == "user"
    assert by_name["mol-polecat-work"]["origin"] == "town"  # the town overrides the shipped one
    assert by_name["mol-witness-patrol"]["origin"] == "builtin"
    everything = cli("formula", "list", "--all", "--json", cwd=str(rig)).json()
    shadowed = [r for r in everything if r["shadowed_by"]]
    assert {(r["name"], r["origin"]) for r in shadowed} == {("shared", "town"), ("mol-polecat-work", "builtin")}
    cooked = cli("mol", "cook", "shared", "--json", cwd=str(rig)).json()
    assert cooked["steps"][0]["title"] == "from the rig"
    assert cooked["origin"] == "rig"


def test_shipped_formulas_validate_cleanly(cli, tmp_path):
    r = cli("formula", "validate", "--json")
    assert r.exit_code == 0, r.stdout
    doc = r.json()
    assert sorted(res["name"] for res in doc["results"]) == SHIPPED
    for res in doc["results"]:
        assert res["valid"] and res["errors"] == []
        assert [w for w in res["warnings"] if w["code"] in ("unknown-key", "type", "unsupported")] == []


@pytest.mark.parametrize(("name", "variables"), [
    ("mol-polecat-work", ["issue=gt-1"]),
    ("mol-witness-patrol", ["rig=app"]),
    ("mol-refinery-patrol", ["rig=app", "mr=gt-2"]),
    ("mol-deacon-patrol", []),
    ("mol-inspect-verify", ["bead=gt-3"]),
])
def test_shipped_formulas_cook_with_vermas_commands(cli, name, variables):
    args = [a for v in variables for a in ("--var", v)]
    r = cli("mol", "cook", name, "--runtime", "--json", *args)
    assert r.exit_code == 0, r.stderr
    proto = r.json()
    text = json.dumps(proto)
    assert "vermas " in text and "gt " not in text and "bd " not in text  # written for VerMAS's own CLI
    assert not [w for w in proto["warnings"] if w["code"] == "vars"]  # every {{var}} declared


def test_inspect_verify_objective_only_drops_the_panel(cli):
    full = cli("mol", "cook", "mol-inspect-verify", "--var", "bead=b", "--json").json()
    objective = cli("mol", "cook", "mol-inspect-verify", "--var", "bead=b", "--var", "objective_only=true",
                    "--json").json()
    assert [s["key"] for s in full["steps"]] == ["load-spec", "checkout", "verifier", "auditor", "advocate", "critic",
                                                 "judge", "rules", "record", "route"]
    graph = {s["key"]: s["needs"] for s in objective["steps"]}
    assert graph == {"load-spec": [], "checkout": ["load-spec"], "verifier": ["checkout"], "rules": ["verifier"],
                     "record": ["rules"], "route": ["record"]}
    bad = cli("mol", "cook", "mol-inspect-verify", "--var", "bead=b", "--var", "objective_only=maybe")
    assert bad.exit_code == 1 and "vars.objective_only: value 'maybe' is not one of true, false" in bad.stderr


def test_formula_show(cli):
    r = cli("formula", "show", "mol-witness-patrol")
    assert r.exit_code == 0
    assert "nudge-idle: Nudge idle polecats [parallel]  ← survey" in r.stdout
    data = cli("formula", "show", "mol-witness-patrol", "--json").json()
    assert data["vars"]["rig"]["required"] is True and data["unbound_vars"] == ["rig"]
    assert cli("formula", "show", "no-such-formula").exit_code == 3


def test_mol_commands_end_to_end(cli, tmp_path):
    assert cli("init", "--prefix", "gt").exit_code == 0
    work = cli("create", "Add login", "--json").json()["id"]
    poured = cli("mol", "pour", "mol-polecat-work", "--on", work, "--var", f"issue={work}", "--json").json()
    root = poured["molecule"]
    assert poured["attached_to"] == work and poured["step_count"] == 7
    assert [s["key"] for s in cli("mol", "current", work, "--json").json()["current"]] == ["load-context"]
    shown = cli("mol", "show", root, "--json").json()
    assert shown["attached_to"] == work and shown["vars"]["issue"] == work
    assert [s["state"] for s in shown["steps"]] == ["ready"] + ["pending"] * 6
    r = cli("mol", "step", "done", "load-context", "--mol", root, "--result", "read it")
    assert r.exit_code == 0 and "ready:" in r.stdout
    r = cli("mol", "step", "start", "3", "--mol", root)  # implement: its need is not finished
    assert r.exit_code == 5 and "not ready" in r.stderr
    assert cli("mol", "step", "start", "2", "--mol", root).exit_code == 0
    r = cli("mol", "step", "fail", f"{root}.2", "--reason", "merge conflict", "--json")
    assert r.json()["state"] == "failed"
    assert cli("mol", "steps", root, "--state", "failed", "--json").json()[0]["key"] == "branch-setup"
    env_current = cli("mol", "current", "--json", env={"BEAD_ID": work}).json()
    assert env_current["state"] == "failed" and env_current["next"] is None
    assert cli("mol", "step", "retry", f"{root}.2").exit_code == 0
    listing = cli("mol", "list", "--json").json()
    assert [m["id"] for m in listing] == [root] and listing[0]["progress"]["completed"] == 1
    assert cli("mol", "burn", root).exit_code == 0
    assert cli("mol", "list", "--json").json() == []
    assert "attached_molecule" not in cli("show", work, "--json").json()[0].get("description", "")
    assert cli("mol", "current", "gt-nope").exit_code == 3


def test_help_everywhere(cli):
    for argv in (["formula", "--help"], ["formula", "validate", "--help"], ["mol", "--help"],
                 ["mol", "pour", "--help"], ["mol", "step", "done", "--help"], ["mol", "current", "--help"]):
        r = cli(*argv)
        assert r.exit_code == 0 and "usage:" in r.stdout, argv
    assert "examples:" in cli("mol", "--help").stdout
