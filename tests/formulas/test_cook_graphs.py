"""Cooked step graphs, written out by hand from Gas Town's rules (``parser.go`` ``Resolve``).

extends: the parent's steps first, then the child's; vars inherited, the child's win.
[[compose.expand]] target=T with=E: T is replaced by E's templates, in template order, with
``{target}`` → T's id, ``{target.title}`` → T's title, ``{target.description}`` → T's
description (in that order); a template without ``needs`` inherits T's needs; every step that
needed T needs E's last template instead; a template's ``acceptance`` is carried over.
"""

from __future__ import annotations

import pytest

from tests.formulas.conftest import cook_fixture

SHINY_DESIGN_DESC = ("Think carefully about architecture before writing code. Consider: How does this fit into the "
                     "existing system? What are the edge cases? What could go wrong? Is there a simpler approach?")


@pytest.mark.parametrize("source", ["gastown", "vermas"])
def test_shiny_enterprise_graph(lookup_for, source):
    proto = cook_fixture(lookup_for(source), "shiny-enterprise", {"feature": "login"})
    # shiny: design → implement → review → test → submit; implement expanded by rule-of-five.
    expected = [
        ("design", [], "Design login", "shiny"),
        ("implement.draft", ["design"], "Draft: Implement login", "rule-of-five"),
        ("implement.refine-1", ["implement.draft"], "Refine 1: Correctness", "rule-of-five"),
        ("implement.refine-2", ["implement.refine-1"], "Refine 2: Clarity", "rule-of-five"),
        ("implement.refine-3", ["implement.refine-2"], "Refine 3: Edge Cases", "rule-of-five"),
        ("implement.refine-4", ["implement.refine-3"], "Refine 4: Excellence", "rule-of-five"),
        ("review", ["implement.refine-4"], "Review implementation", "shiny"),
        ("test", ["review"], "Test login", "shiny"),
        ("submit", ["test"], "Submit for merge", "shiny"),
    ]
    assert [(s.key, s.needs, s.title, s.source_formula) for s in proto.steps] == expected
    draft = proto.step("implement.draft")
    # {target.description} is implement's description, whose {{feature}} is then bound.
    assert draft.description == ("Initial attempt at: Write the code for login. Follow the design. Keep it simple. "
                                 "Don't gold-plate.. Don't aim for perfection. Get the shape right. "
                                 "Breadth over depth.")
    assert draft.source_location == "template[0]"
    assert proto.step("design").description == SHINY_DESIGN_DESC
    assert proto.vars == {"feature": "login"}  # assignee has no default: unbound, not invented
    assert proto.type == "workflow" and proto.name == "shiny-enterprise"


def test_shiny_enterprise_needs_feature(lookup_for):
    from vermas.formulas.model import FormulaError

    with pytest.raises(FormulaError) as info:
        cook_fixture(lookup_for("gastown"), "shiny-enterprise", runtime=True)
    assert "missing required variable: feature" in info.value.message
    assert "--var feature=" in info.value.hint


def test_mol_polecat_work_monorepo_tdd_graph(lookup_for):
    proto = cook_fixture(lookup_for("gastown"), "mol-polecat-work-monorepo-tdd", {"issue": "gt-abc"})
    # mol-polecat-work-monorepo (10 steps) with implement expanded by tdd-cycle (5 templates).
    expected = [
        ("load-context", []),
        ("branch-setup", ["load-context"]),
        ("implement.write-tests", ["branch-setup"]),  # no template needs: inherits implement's
        ("implement.verify-red", ["implement.write-tests"]),
        ("implement.implement", ["implement.verify-red"]),
        ("implement.verify-green", ["implement.implement"]),
        ("implement.refactor", ["implement.verify-green"]),
        ("self-review", ["implement.refactor"]),  # re-pointed from implement to the last template
        ("build-check", ["self-review"]),
        ("commit-changes", ["build-check"]),
        ("push-and-create-pr", ["commit-changes"]),
        ("validate-ci", ["push-and-create-pr"]),
        ("handle-ai-reviews", ["validate-ci"]),
        ("submit-and-exit", ["handle-ai-reviews"]),
    ]
    assert [(s.key, s.needs) for s in proto.steps] == expected
    assert proto.step("implement.write-tests").title == "Write failing tests for: Implement the solution"
    assert proto.step("implement.verify-red").title == "Verify tests fail (red)"
    assert proto.step("implement.implement").title == "Implement to green: Implement the solution"
    assert proto.step("implement.refactor").title == "Refactor: Implement the solution"
    assert proto.step("implement.verify-green").acceptance == "Full test suite passes with zero failures"
    write_tests = proto.step("implement.write-tests").description
    assert 'git commit -m "test: add failing tests for Implement the solution"' in write_tests
    # The monorepo parent's vars are inherited: issue bound, defaults applied.
    assert proto.vars["issue"] == "gt-abc" and proto.vars["base_branch"] == "main"
    assert {s.source_formula for s in proto.steps} == {"mol-polecat-work-monorepo", "tdd-cycle"}


def test_extends_without_compose_keeps_parent_graph(lookup_for):
    # shiny-secure: extends shiny, [compose] aspects = ["security-audit"]. Gas Town records the
    # aspects without applying them, so the graph is shiny's.
    proto = cook_fixture(lookup_for("gastown"), "shiny-secure", {"feature": "x"})
    assert [(s.key, s.needs) for s in proto.steps] == [
        ("design", []), ("implement", ["design"]), ("review", ["implement"]), ("test", ["review"]),
        ("submit", ["test"])]
    assert any(w.code == "aspects" for w in proto.warnings)


def test_weaving_security_audit_aspect(lookup_for):
    # Opt-in: the advice takes the target's place (before-steps inherit its needs; dependents
    # wait for the after-steps).
    proto = cook_fixture(lookup_for("gastown"), "shiny-secure", {"feature": "x"}, weave_aspects=True)
    assert [(s.key, s.needs) for s in proto.steps] == [
        ("design", []),
        ("implement-security-prescan", ["design"]),
        ("implement", ["implement-security-prescan"]),
        ("implement-security-postscan", ["implement"]),
        ("review", ["implement-security-postscan"]),
        ("test", ["review"]),
        ("submit-security-prescan", ["test"]),
        ("submit", ["submit-security-prescan"]),
        ("submit-security-postscan", ["submit"]),
    ]
    assert proto.step("implement-security-prescan").title == "Security prescan for implement"
    assert proto.step("submit-security-postscan").source_formula == "security-audit"


def test_convoy_legs_and_synthesis(lookup_for):
    proto = cook_fixture(lookup_for("gastown"), "code-review", {"pr": "42"})
    legs = ["correctness", "performance", "security", "elegance", "resilience", "style", "smells", "wiring",
            "commit-discipline", "test-quality"]
    assert [s.key for s in proto.steps] == [*legs, "synthesis"]
    assert all(proto.step(leg).needs == [] and proto.step(leg).parallel for leg in legs)
    assert proto.step("synthesis").needs == legs
    assert proto.mol_type == "swarm"
    assert "Base Prompt:" in proto.step("security").description
    gate = cook_fixture(lookup_for("gastown"), "code-review", {"pr": "42"}, preset="gate")
    assert [s.key for s in gate.steps] == ["security", "smells", "wiring", "test-quality", "synthesis"]
    assert gate.step("synthesis").needs == ["security", "smells", "wiring", "test-quality"]


def test_convoy_required_unless(lookup_for):
    from vermas.formulas.model import FormulaError

    # pr / files / branch are each required unless one of the others is given.
    assert cook_fixture(lookup_for("gastown"), "code-review", {"branch": "feat"}).vars["branch"] == "feat"
    with pytest.raises(FormulaError) as info:
        cook_fixture(lookup_for("gastown"), "code-review", runtime=True)
    assert "pr" in info.value.message and "files" in info.value.message and "branch" in info.value.message


def test_nested_children_become_containers(lookup_for):
    proto = cook_fixture(lookup_for("gastown"), "mol-gastown-boot", runtime=True)
    graph = [(s.key, s.needs, s.parent, s.kind) for s in proto.steps]
    assert graph == [
        ("ensure-daemon", [], None, "step"),
        ("ensure-deacon", ["ensure-daemon"], None, "step"),
        ("ensure-witnesses", ["ensure-deacon"], None, "container"),
        ("ensure-gastown-witness", [], "ensure-witnesses", "step"),
        ("ensure-beads-witness", [], "ensure-witnesses", "step"),
        ("ensure-refineries", ["ensure-deacon"], None, "container"),
        ("ensure-gastown-refinery", [], "ensure-refineries", "step"),
        ("ensure-beads-refinery", [], "ensure-refineries", "step"),
        ("verify-town-health", ["ensure-witnesses", "ensure-refineries"], None, "step"),
    ]
    assert proto.step("ensure-witnesses").issue_type == "epic"


def test_compile_time_cook_keeps_placeholders(lookup_for):
    proto = cook_fixture(lookup_for("gastown"), "shiny")
    assert not proto.runtime
    assert proto.step("design").title == "Design {{feature}}"
    assert proto.unbound == ["feature"]


def test_towers_of_hanoi_10_is_a_1025_step_chain(lookup_for):
    proto = cook_fixture(lookup_for("gastown"), "towers-of-hanoi-10", runtime=True)
    keys = ["setup", *[f"move-{i}" for i in range(1, 1024)], "verify"]
    assert [s.key for s in proto.steps] == keys
    assert all(step.needs == [keys[i - 1]] for i, step in enumerate(proto.steps) if i > 0)
