"""Acceptance: the main job end to end under full supervision (vermas up), sim agents over tmux."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import RIG, git, wait_for

pytestmark = pytest.mark.slow


def test_twelve_beads_three_polecats_one_refinery(town):
    beads = [town.file_bead(f"f{n:02d}.txt", f"change {n}") for n in range(12)]
    components = town.up()
    assert [c["component"] for c in components] == ["boot", "deacon", f"{RIG}/witness", f"{RIG}/refinery"]
    assert all(c["status"] == "started" for c in components)
    slung = town.sling(*beads)
    started = [r for r in slung["results"] if r["status"] == "started"]
    assert len(started) == 3 and len({r["polecat"] for r in started}) == 3

    town.wait_merged(beads, timeout=400)
    town.wait_cleaned()

    # every change is in the target exactly once, and the target holds every file
    subjects = town.subjects()
    for bead in beads:
        title = town.issue(bead)["title"]
        assert subjects.count(f"{bead}: {title}") == 1, f"{bead} is in main {subjects.count(f'{bead}: {title}')}x"
    for n in range(12):
        assert town.show(f"f{n:02d}.txt") == f"change {n}"
    # every bead closed by the merge; every merge request closed merged, one per bead
    assert all(town.issue(b)["close_reason"] == "merged" for b in beads)
    merged = [m for m in town.merge_requests() if m.get("close_reason") == "merged"]
    assert sorted(m["title"] for m in merged) == sorted(f"Merge: {b}" for b in beads)
    # the convoy landed; no polecat worktree or branch is left
    wait_for(lambda: town.convoy_of(slung)["status"] == "closed", timeout=60, what="the convoy to land")
    assert not town.polecat_worktrees()
    assert git("for-each-ref", "--format=%(refname)", "refs/heads/polecat/", cwd=town.rig.repo) == ""
    polecat_dirs = [d for d in os.listdir(town.rig.polecats_dir) if os.path.isdir(town.rig.polecat_worktree(d))]
    assert polecat_dirs == []
    # the witness cleaned every polecat up and told the mayor each time (an identity that took the
    # next queued bead before its cleanup is cleaned once, after its last job); nobody was restarted
    totals = town.status("witness")["totals"]
    names = {s["name"] for s in town.polecat_states()}
    assert len(names) >= 3 and len(names) <= totals["cleaned"] <= 12
    assert len(town.mails("SLOT_OPEN", to="mayor/")) == totals["cleaned"]
    assert totals["restarted"] == 0 and totals["respawned"] == 0 and totals["spawn_blocked"] == 0
    # each polecat got exactly one MERGED per job
    for mr in merged:
        assert len([m for m in town.mails("MERGED") if mr["id"] in m["description"]
                    and m["assignee"] == f"{RIG}/witness"]) == 1
    town.assert_nothing_lost()
