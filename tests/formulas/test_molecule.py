"""Pouring molecules and driving their steps, checked against the ledger and bd's ready semantics."""

from __future__ import annotations

import json
import os

import pytest

from tests.formulas.conftest import cook_fixture

STEP_READY = "ready"


def ready_ids(ledger, **kwargs) -> list[str]:
    from vermas.ledger import queries

    return sorted(i["id"] for i in queries.ready(ledger.conn, limit=None, **kwargs))


def pour_fixture(ledger, lookup, name, variables=None, **kwargs):
    from vermas.formulas.pour import pour

    proto = cook_fixture(lookup, name, variables, runtime=True)
    return proto, pour(ledger, proto, actor="tester", **kwargs)


def load(ledger, ref):
    from vermas.formulas import molecule

    return molecule.load(ledger, ref)


def test_pour_writes_root_and_one_child_per_step(ledger, lookup_for):
    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "shiny", {"feature": "login"})
    root = ledger.get(result.root_id)
    assert result.root_id.startswith("gt-mol-")
    assert root["issue_type"] == "molecule" and root["source_formula"] == "shiny"
    assert root["source_location"].endswith("shiny.formula.toml")
    assert root["mol_type"] == "work"
    keys = ["design", "implement", "review", "test", "submit"]
    assert result.ids == {key: f"{result.root_id}.{n}" for n, key in enumerate(keys, 1)}
    for n, key in enumerate(keys, 1):
        step = ledger.get(f"{result.root_id}.{n}")
        assert step["source_formula"] == "shiny"
        assert step["source_location"] == f"steps[{n - 1}]"
        assert f"step:{key}" in step["labels"]
        deps = {(d["type"], d["depends_on_id"]) for d in step["dependencies"]}
        assert ("parent-child", result.root_id) in deps
        if n > 1:
            assert ("blocks", f"{result.root_id}.{n - 1}") in deps
    assert ledger.get(result.ids["design"])["acceptance_criteria"].startswith("Design doc committed")
    assert ledger.get(result.ids["design"])["title"] == "Design login"
    # bd's ready: exactly the step whose needs are done (the molecule root type is excluded).
    assert ready_ids(ledger) == [result.ids["design"]]
    # Persisted in the git-tracked JSONL, one line per bead.
    with open(ledger.issues_path, encoding="utf-8") as fh:
        ids = [json.loads(line)["id"] for line in fh]
    assert ids == sorted([result.root_id, *result.ids.values()])


def test_pour_is_one_jsonl_write(ledger, lookup_for, monkeypatch):
    """Every ledger write path ends in an atomic rename onto issues.jsonl: count those."""
    replaced: list[str] = []
    real = os.replace

    def counting(src, dst, *args, **kwargs):
        replaced.append(os.path.basename(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", counting)
    monkeypatch.setattr(os, "rename", counting)
    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "towers-of-hanoi-7")
    assert len(result.ids) == 129
    assert replaced.count("issues.jsonl") == 1
    with open(ledger.issues_path, encoding="utf-8") as fh:
        assert len(fh.readlines()) == 130


def test_step_states_and_failed_step_keeps_dependents_blocked(ledger, lookup_for):
    from vermas.errors import ConflictError
    from vermas.formulas import steps

    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "shiny", {"feature": "f"})
    ids = result.ids
    states = {s.key: s.state for s in load(ledger, result.root_id).steps}
    assert states == {"design": "ready", "implement": "pending", "review": "pending", "test": "pending",
                      "submit": "pending"}
    steps.start(ledger, ids["design"], actor="a1")
    assert load(ledger, result.root_id).step("design").state == "in_progress"
    assert ledger.get(ids["design"])["assignee"] == "a1"
    out = steps.done(ledger, ids["design"], actor="a1", result="doc written")
    assert out["state"] == "completed" and [r["id"] for r in out["newly_ready"]] == [ids["implement"]]
    assert ledger.get(ids["design"])["close_reason"] == "doc written"

    failed = steps.fail(ledger, ids["implement"], actor="a1", reason="compiler error")
    assert failed["state"] == "failed"
    issue = ledger.get(ids["implement"])
    assert issue["status"] == "blocked" and "state:failed" in issue["labels"]
    assert "FAILED: compiler error" in issue["comments"][-1]["text"]
    mol = load(ledger, result.root_id)
    assert mol.step("implement").state == "failed"
    assert mol.step("review").state == "pending"  # still blocked by the failed step
    assert ready_ids(ledger) == []  # bd ready agrees: nothing is ready
    assert [s.key for s in mol.current()] == ["implement"]
    assert mol.state() == "failed"
    with pytest.raises(ConflictError):
        steps.start(ledger, ids["review"], actor="a1")  # needs unfinished

    steps.retry(ledger, ids["implement"], actor="a1")
    assert load(ledger, result.root_id).step("implement").state == "ready"
    steps.done(ledger, ids["implement"], actor="a1")
    # Completed steps never re-run: done again is a no-op, start is refused.
    again = steps.done(ledger, ids["implement"], actor="a1")
    assert again["changed"] is False and again["state"] == "completed"
    with pytest.raises(ConflictError):
        steps.start(ledger, ids["implement"], actor="a1")
    skipped = steps.skip(ledger, ids["review"], actor="a1", reason="reviewed upstream")
    assert skipped["state"] == "skipped" and [r["key"] for r in skipped["newly_ready"]] == ["test"]
    assert ledger.get(ids["review"])["close_reason"] == "skipped: reviewed upstream"
    steps.done(ledger, ids["test"], actor="a1")
    last = steps.done(ledger, ids["submit"], actor="a1")
    assert last["molecule_complete"] is True
    mol = load(ledger, result.root_id)
    assert mol.state() == "complete" and mol.root["status"] == "closed"
    assert (mol.progress()["completed"], mol.progress()["skipped"], mol.progress()["total"]) == (4, 1, 5)


def test_parallel_fork_join_steps_become_ready_together(ledger):
    from vermas.formulas import steps
    from vermas.formulas.lookup import Lookup, search_path

    lookup = Lookup(search_path())  # the shipped witness patrol: survey → 3 parallel → join
    _proto, result = pour_fixture(ledger, lookup, "mol-witness-patrol", {"rig": "app"})
    ids = result.ids
    steps.done(ledger, ids["inbox"], actor="w")
    out = steps.done(ledger, ids["survey"], actor="w")
    fork = {ids["nudge-idle"], ids["restart-stuck"], ids["respawn-dead"]}
    assert {r["id"] for r in out["newly_ready"]} == fork
    assert set(ready_ids(ledger)) == fork
    assert {s.id for s in load(ledger, result.root_id).current()} == fork
    steps.done(ledger, ids["nudge-idle"], actor="w")
    steps.done(ledger, ids["restart-stuck"], actor="w")
    assert load(ledger, result.root_id).step("cleanup-finished").state == "pending"  # join waits for all
    out = steps.done(ledger, ids["respawn-dead"], actor="w")
    assert [r["key"] for r in out["newly_ready"]] == ["cleanup-finished"]


def test_diamond(ledger, tmp_path):
    from vermas.formulas import steps
    from vermas.formulas.lookup import Lookup, search_path

    (tmp_path / "d.formula.toml").write_text(
        'formula = "d"\n[[steps]]\nid = "a"\n[[steps]]\nid = "b"\nneeds = ["a"]\n'
        '[[steps]]\nid = "c"\nneeds = ["a"]\n[[steps]]\nid = "e"\nneeds = ["b", "c"]\n')
    lookup = Lookup(search_path(first=(str(tmp_path),)))
    _proto, result = pour_fixture(ledger, lookup, "d")
    steps.done(ledger, result.ids["a"], actor="x")
    assert set(ready_ids(ledger)) == {result.ids["b"], result.ids["c"]}
    steps.done(ledger, result.ids["c"], actor="x")
    assert ready_ids(ledger) == [result.ids["b"]]
    steps.done(ledger, result.ids["b"], actor="x")
    assert ready_ids(ledger) == [result.ids["e"]]


def test_children_containers_finish_with_their_children(ledger, lookup_for):
    from vermas.errors import ConflictError
    from vermas.formulas import steps

    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "mol-gastown-boot")
    ids = result.ids
    assert ids["ensure-gastown-witness"] == f"{ids['ensure-witnesses']}.1"
    assert ids["ensure-beads-witness"] == f"{ids['ensure-witnesses']}.2"
    steps.done(ledger, ids["ensure-daemon"], actor="m")
    # Children of a blocked container are blocked (bd: parent-child propagates blocking).
    assert load(ledger, result.root_id).step("ensure-gastown-witness").state == "pending"
    out = steps.done(ledger, ids["ensure-deacon"], actor="m")
    children = {ids[k] for k in ("ensure-gastown-witness", "ensure-beads-witness", "ensure-gastown-refinery",
                                 "ensure-beads-refinery")}
    assert {r["id"] for r in out["newly_ready"]} == children
    assert {s.id for s in load(ledger, result.root_id).current()} == children  # containers are not work
    with pytest.raises(ConflictError):
        steps.done(ledger, ids["ensure-witnesses"], actor="m")
    steps.done(ledger, ids["ensure-gastown-witness"], actor="m")
    assert ledger.get(ids["ensure-witnesses"])["status"] == "open"
    steps.done(ledger, ids["ensure-beads-witness"], actor="m")
    assert ledger.get(ids["ensure-witnesses"])["status"] == "closed"  # closed with its last child
    steps.done(ledger, ids["ensure-gastown-refinery"], actor="m")
    out = steps.done(ledger, ids["ensure-beads-refinery"], actor="m")
    assert [r["key"] for r in out["newly_ready"]] == ["verify-town-health"]


def test_attach_records_both_ways(ledger, lookup_for):
    from vermas.errors import ConflictError
    from vermas.formulas import molecule
    from vermas.formulas.fields import get_field
    from vermas.formulas.lookup import Lookup, search_path

    with ledger.transaction("t") as tx:
        work = tx.create("Fix the login bug", description="Users cannot log in.")
    lookup = Lookup(search_path())
    _proto, result = pour_fixture(ledger, lookup, "mol-polecat-work", {"issue": work["id"]}, attach_to=work["id"])
    bead = ledger.get(work["id"])
    assert get_field(bead["description"], "attached_molecule") == result.root_id
    assert get_field(bead["description"], "attached_formula") == "mol-polecat-work"
    assert bead["description"].endswith("Users cannot log in.")
    assert molecule.molecule_of(ledger, work["id"]) == result.root_id
    mol = molecule.load(ledger, work["id"])  # the work bead leads to its molecule
    assert mol.id == result.root_id and mol.attached_to == work["id"]
    assert mol.vars["issue"] == work["id"]
    with pytest.raises(ConflictError):
        pour_fixture(ledger, lookup, "mol-polecat-work", {"issue": work["id"]}, attach_to=work["id"])
    _p, second = pour_fixture(ledger, lookup, "mol-polecat-work", {"issue": work["id"]}, attach_to=work["id"],
                              replace=True)
    assert molecule.molecule_of(ledger, work["id"]) == second.root_id
    assert ledger.get(result.root_id)["status"] == "tombstone"  # the replaced molecule was burned


def test_wisp_is_local_with_ttl_and_gc(ledger, lookup_for):
    from vermas.formulas import lifecycle, molecule, steps

    _proto, wisp = pour_fixture(ledger, lookup_for("gastown"), "towers-of-hanoi", ephemeral=True, ttl_seconds=60)
    assert wisp.root_id.startswith("gt-wisp-")
    with open(ledger.issues_path, encoding="utf-8") as fh:
        assert fh.read() == ""  # never exported
    with open(ledger.wisps_path, encoding="utf-8") as fh:
        assert len(fh.readlines()) == 1 + 9
    mol = molecule.load(ledger, wisp.root_id)
    assert mol.ephemeral and mol.expires_at
    assert ready_ids(ledger) == []  # bd's ready never lists wisps…
    assert [s.key for s in mol.current()] == ["setup"]  # …but the molecule knows its frontier
    steps.done(ledger, wisp.ids["setup"], actor="w")
    assert lifecycle.gc(ledger, actor="w") == []  # not expired yet
    import time

    assert lifecycle.gc(ledger, actor="w", now=time.time() + 61) == [wisp.root_id]
    assert ledger.find(wisp.root_id) is None and ledger.find(wisp.ids["setup"]) is None
    # Re-creatable: the same formula wisps again.
    _proto, again = pour_fixture(ledger, lookup_for("gastown"), "towers-of-hanoi", ephemeral=True)
    assert again.root_id != wisp.root_id and len(again.ids) == 9


def test_squash_poured_molecule(ledger, lookup_for):
    from vermas.errors import ConflictError
    from vermas.formulas import lifecycle, steps

    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "shiny", {"feature": "f"})
    with pytest.raises(ConflictError):
        lifecycle.squash(ledger, result.root_id, actor="t")
    for key in ("design", "implement", "review", "test"):
        steps.done(ledger, result.ids[key], actor="t", result=f"{key} ok")
    out = lifecycle.squash(ledger, result.root_id, actor="t", force=True)
    digest = ledger.get(out["digest"])
    assert digest["title"] == "Digest: shiny" and digest["status"] == "closed"
    assert digest["close_reason"] == "Squashed from 5 steps"
    assert "- [x] design: Design f — design ok" in digest["description"]
    assert "- [ ] submit: Submit for merge" in digest["description"]
    assert {"type": "parent-child", "depends_on_id": result.root_id}.items() <= digest["dependencies"][0].items()
    assert all(ledger.get(i)["status"] == "tombstone" for i in result.ids.values())
    assert ledger.get(result.root_id)["status"] == "closed"
    assert ready_ids(ledger) == []


def test_patrol_wisp_squashes_itself_on_completion(ledger):
    from vermas.formulas import steps
    from vermas.formulas.lookup import Lookup, search_path

    _proto, wisp = pour_fixture(ledger, Lookup(search_path()), "mol-deacon-patrol", ephemeral=True)
    order = ["heartbeat", "check-witnesses", "check-refineries", "restart", "escalate", "stranded-convoys",
             "wisp-gc", "report"]
    for key in order[:-1]:
        steps.done(ledger, wisp.ids[key], actor="deacon")
    out = steps.done(ledger, wisp.ids["report"], actor="deacon", result="all healthy")
    assert out["molecule_complete"] and out["squashed"]["ephemeral"]
    digest = ledger.get(out["squashed"]["digest"])
    assert digest["title"] == "Digest: mol-deacon-patrol" and "all healthy" in digest["description"]
    assert ledger.find(wisp.root_id) is None  # the wisp evaporated; the digest stays
    with open(ledger.issues_path, encoding="utf-8") as fh:
        assert [json.loads(line)["id"] for line in fh] == [digest["id"]]


def test_burn(ledger, lookup_for):
    from vermas.formulas import lifecycle

    _proto, result = pour_fixture(ledger, lookup_for("gastown"), "shiny", {"feature": "f"})
    out = lifecycle.burn(ledger, result.root_id, actor="t")
    assert out["steps_removed"] == 5
    assert all(ledger.get(i)["status"] == "tombstone" for i in [result.root_id, *result.ids.values()])
    _proto, wisp = pour_fixture(ledger, lookup_for("gastown"), "shiny", {"feature": "f"}, ephemeral=True)
    lifecycle.burn(ledger, wisp.root_id, actor="t")
    assert ledger.find(wisp.root_id) is None


def test_gate_steps(ledger, formula_sets):
    from vermas.formulas.lookup import Lookup, search_path

    lookup = Lookup(search_path(first=(formula_sets["beads-HEAD"],)))
    _proto, result = pour_fixture(ledger, lookup, "beads-release", {"version": "1.2.3"})
    gate = ledger.get(result.ids["gate-await-ci"])
    assert gate["issue_type"] == "gate" and gate["await_type"] == "gh:run" and gate["await_id"] == "release.yml"
    assert gate["timeout"] == 30 * 60 * 10**9  # Go duration "30m" in nanoseconds, bd's field format
    step = ledger.get(result.ids["await-ci"])
    assert ("blocks", gate["id"]) in {(d["type"], d["depends_on_id"]) for d in step["dependencies"]}
    # The gate waits with the step's own needs, then holds the step until it is resolved.
    from vermas.formulas import steps

    for key in [k for k in proto_keys_before(result, "await-ci") if k != "gate-await-ci"]:
        steps.done(ledger, result.ids[key], actor="r")
    mol = load(ledger, result.root_id)
    gate_view = mol.step(result.ids["gate-await-ci"])
    assert (gate_view.state, gate_view.kind) == ("ready", "gate")
    assert mol.step(result.ids["await-ci"]).state == "pending"
    out = steps.done(ledger, result.ids["gate-await-ci"], actor="ci", result="release.yml succeeded")
    assert [r["key"] for r in out["newly_ready"]] == ["await-ci"]


def proto_keys_before(result, key: str) -> list[str]:
    keys = list(result.ids)
    return keys[:keys.index(key)]


def test_pour_inside_an_open_transaction(ledger):
    """sling hooks a bead and pours its work formula in one transaction (the pour joins it)."""
    from vermas.formulas import molecule
    from vermas.formulas.lookup import Lookup, search_path
    from vermas.formulas.pour import pour

    lookup = Lookup(search_path())
    with ledger.transaction("sling") as tx:
        work = tx.create("Add a health endpoint")
        tx.update(work["id"], status="hooked", assignee="app/polecats/nux")
        proto = cook_fixture(lookup, "mol-polecat-work", {"issue": work["id"]})
        result = pour(ledger, proto, actor=tx.actor, attach_to=work["id"], assignee="app/polecats/nux")
    assert molecule.molecule_of(ledger, work["id"]) == result.root_id
    assert ledger.get(work["id"])["status"] == "hooked"
    assert ledger.get(result.ids["load-context"])["assignee"] == "app/polecats/nux"
    assert [s.key for s in molecule.load(ledger, work["id"]).current()] == ["load-context"]
