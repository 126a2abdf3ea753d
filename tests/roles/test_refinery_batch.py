"""Batch-then-bisect: one gate run for a green batch; culprits found and reworked alone."""

from __future__ import annotations

import pytest

from tests.roles.conftest import git


def _counted_gate(kit, tmp_path) -> str:
    counter = tmp_path / "gate-runs"
    kit.set("gates.test", f"echo run >> {counter}; ./check.sh")
    return str(counter)


def _runs(counter: str) -> int:
    try:
        with open(counter, encoding="utf-8") as fh:
            return len(fh.read().splitlines())
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("strategy", ["ff", "squash"])
def test_batch_of_five_with_one_culprit_merges_four_and_reworks_the_culprit(kit, tmp_path, strategy):
    kit.set("merge.batch_size", 5)
    kit.set("merge.strategy", strategy)
    counter = _counted_gate(kit, tmp_path)
    jobs = []
    for i in range(5):
        text = "VALUE = 'BROKEN'\n" if i == 2 else f"VALUE = {i}\n"
        jobs.append(kit.work(f"cat{i}", {f"mod{i}.py": text}, f"change {i}"))
    culprit = jobs[2]
    good = [j for j in jobs if j is not culprit]
    before = kit.main()

    summary = kit.run_once()

    assert summary["merged"] == [j[2] for j in good]
    assert summary["rework"] == [culprit[2]]
    subjects = kit.subjects()
    for i, job in enumerate(jobs):
        assert subjects.count(f"change {i}") == (0 if job is culprit else 1)
    assert git("merge-base", "--is-ancestor", before, "main", cwd=kit.repo) == ""
    assert "BROKEN" not in "".join(kit.show(f"mod{i}.py") for i in (0, 1, 3, 4))
    assert kit.bead(culprit[2])["close_reason"] == "rejected"
    assert kit.bead(culprit[1])["status"] == "hooked"
    assert all(kit.bead(j[1])["status"] == "closed" for j in good)
    assert len(kit.mails("REWORK_REQUEST")) == 2  # the culprit polecat and the witness, nobody else
    assert kit.recipients("REWORK_REQUEST cat2") == ["app/cat2", "app/witness"]
    # full stack (+retry), the target check, [0..2] (+retry), [0,1], [0,1,3,4]: 7 runs, not 5 per request
    assert _runs(counter) == 7
    # one move of the target for the four: the main history is linear over `before`
    assert len(git("rev-list", f"{before}..main", cwd=kit.repo).splitlines()) == 4


def test_green_batch_runs_the_gates_once(kit, tmp_path):
    kit.set("merge.batch_size", 3)
    counter = _counted_gate(kit, tmp_path)
    mrs = [kit.work(f"cat{i}", {f"m{i}.py": f"V = {i}\n"}, f"change {i}")[2] for i in range(3)]

    summary = kit.run_once()

    assert summary["merged"] == mrs
    assert _runs(counter) == 1


def test_requests_conflicting_inside_a_batch_are_deferred_then_reworked(kit, tmp_path):
    kit.set("merge.batch_size", 3)
    _counted_gate(kit, tmp_path)
    _a, _sa, first = kit.work("a", {"shared.txt": "from a\n"}, "a writes shared")
    _b, _sb, second = kit.work("b", {"shared.txt": "from b\n"}, "b writes shared")
    _c, _sc, third = kit.work("c", {"c.txt": "c\n"}, "c")

    summary = kit.run_once()

    assert summary["merged"] == [first, third]
    assert summary["rework"] == [second]  # deferred in round 1, conflicts with the new target in round 2
    [mail] = [m for m in kit.mails("REWORK_REQUEST b") if m["assignee"] == "app/b"]
    assert "Conflict-Files: shared.txt" in mail["description"]
