"""towers-of-hanoi-10: 1,025 steps poured in one transaction and driven to completion step by step."""

from __future__ import annotations

import pytest

from tests.formulas.conftest import cook_fixture


@pytest.mark.slow
def test_pour_and_drive_towers_of_hanoi_10(ledger, lookup_for):
    from vermas.formulas import molecule, steps
    from vermas.formulas.pour import pour
    from vermas.ledger import queries

    proto = cook_fixture(lookup_for("gastown"), "towers-of-hanoi-10", runtime=True)
    result = pour(ledger, proto, actor="hanoi")
    assert len(result.ids) == 1025
    keys = ["setup", *[f"move-{i}" for i in range(1, 1024)], "verify"]
    assert [result.ids[k] for k in keys] == [f"{result.root_id}.{n}" for n in range(1, 1026)]
    mol = molecule.load(ledger, result.root_id)
    assert mol.progress()["total"] == 1025 and mol.progress()["ready"] == 1

    # Drive it through the API the way an agent does: always the first unfinished step.
    current = mol.next_step().id
    for n, key in enumerate(keys, 1):
        assert current == result.ids[key]
        out = steps.done(ledger, current, actor="hanoi", result=f"move {n}")
        if key == "verify":
            assert out["molecule_complete"] is True and out["newly_ready"] == []
            break
        assert [r["id"] for r in out["newly_ready"]] == [result.ids[keys[n]]]  # exactly the next one
        if n % 256 == 0:  # bd's ready agrees with the molecule, now and then (it costs a query)
            assert [i["id"] for i in queries.ready(ledger.conn, limit=None)] == [result.ids[keys[n]]]
        current = out["newly_ready"][0]["id"]
    mol = molecule.load(ledger, result.root_id)
    progress = mol.progress()
    assert (progress["completed"], progress["total"], progress["state"]) == (1025, 1025, "complete")
    assert mol.root["status"] == "closed"
    assert queries.ready(ledger.conn, limit=None) == []


@pytest.mark.slow
def test_drive_hanoi_10_steps_through_the_cli(cli, tmp_path):
    assert cli("init", "--prefix", "gt").exit_code == 0
    from tests.formulas.conftest import FORMULA_FIXTURES

    path = tmp_path / "towers-of-hanoi-10.formula.toml"
    with open(f"{FORMULA_FIXTURES}/gastown__towers-of-hanoi-10.formula.toml", "rb") as src:
        path.write_bytes(src.read())
    r = cli("mol", "pour", str(path), "--json")
    assert r.exit_code == 0, r.stderr
    poured = r.json()
    root = poured["molecule"]
    assert poured["step_count"] == 1025 and [s["key"] for s in poured["ready"]] == ["setup"]
    for n in range(1, 6):
        current = cli("mol", "current", root, "--json").json()
        assert current["next"]["id"] == f"{root}.{n}"
        r = cli("mol", "step", "done", current["next"]["id"], "--json")
        assert r.exit_code == 0, r.stderr
        assert [x["id"] for x in r.json()["newly_ready"]] == [f"{root}.{n + 1}"]
    ready = cli("ready", "--json").json()
    assert [i["id"] for i in ready] == [f"{root}.6"]
    progress = cli("mol", "progress", root, "--json").json()
    assert (progress["completed"], progress["pending"], progress["ready"]) == (5, 1019, 1)
