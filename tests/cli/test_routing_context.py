"""Which ledger a command acts on: cwd, redirects, --rig, --town, $VERMAS_TOWN, routed ids."""

from __future__ import annotations

import json

from tests.cli.conftest import make


def test_routed_ids_are_served_by_their_rigs_ledger(cli, town):
    gt = make(cli, "gastown work", "--rig", "gastown", cwd=str(town))
    bd = make(cli, "beads work", "--rig", "bd", cwd=str(town))
    hq = make(cli, "town work", cwd=str(town))
    assert gt.startswith("gt-") and bd.startswith("bd-") and hq.startswith("hq-")
    rig_file = town / "gastown" / "mayor" / "rig" / ".beads" / "issues.jsonl"
    assert gt in rig_file.read_text() and gt not in (town / ".beads" / "issues.jsonl").read_text()
    # from the town root (hq ledger), every id reaches its own ledger
    shown = cli("show", gt, bd, hq, "--json", cwd=str(town)).json()
    assert [s["id"] for s in shown] == [gt, bd, hq]
    assert cli("update", gt, "--status", "in_progress", cwd=str(town)).exit_code == 0
    assert json.loads(rig_file.read_text())["status"] == "in_progress"
    assert cli("label", "add", gt, "routed", cwd=str(town)).exit_code == 0
    assert cli("comment", "add", gt, "hello", cwd=str(town)).exit_code == 0
    assert cli("dep", "add", gt, bd, cwd=str(town)).exit_code == 0  # cross-rig: stored in gt's line
    issue = json.loads(rig_file.read_text())
    assert issue["labels"] == ["routed"] and issue["comments"][0]["text"] == "hello"
    assert issue["dependencies"][0]["depends_on_id"] == bd
    assert cli("close", gt, bd, "-r", "done", cwd=str(town)).exit_code == 0
    assert cli("reopen", gt, cwd=str(town)).exit_code == 0
    assert cli("show", "gt-nothere", cwd=str(town)).exit_code == 3
    # from inside the beads rig, a gastown id is still found (town routes apply)
    inside = town / "beads" / "mayor" / "rig" / "src"
    inside.mkdir()
    assert cli("show", gt, "--json", cwd=str(inside)).json()[0]["id"] == gt


def test_rig_flag_lists_that_rigs_ledger(cli, town):
    make(cli, "only in beads", "--rig", "beads", cwd=str(town))
    assert [i["title"] for i in cli("list", "--rig", "bd", "--json", cwd=str(town)).json()] == ["only in beads"]
    assert cli("list", "--json", cwd=str(town)).json() == []
    unknown = cli("list", "--rig", "nope", cwd=str(town))
    assert unknown.exit_code == 3 and "known rigs:" in unknown.stderr and "gastown (gt)" in unknown.stderr


def test_rig_flag_needs_a_town(cli, tmp_path, town):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = cli("list", "--rig", "gastown", cwd=str(outside))
    assert result.exit_code == 3 and "--town" in result.stderr
    assert cli("list", "--rig", "gastown", "--town", str(town), "--json", cwd=str(outside)).exit_code == 0
    assert cli("list", "--rig", "gastown", "--json", cwd=str(outside), env={"VERMAS_TOWN": str(town)}).exit_code == 0
    bad = cli("list", "--rig", "gastown", "--town", str(outside), cwd=str(outside))
    assert bad.exit_code == 3 and "not a town" in bad.stderr


def test_redirected_worktree_uses_the_rigs_ledger(cli, town):
    worktree = town / "gastown" / "polecats" / "nux"
    (worktree / ".beads").mkdir(parents=True)
    (worktree / ".beads" / "redirect").write_text("../../mayor/rig/.beads\n")  # from the worktree root
    made = make(cli, "from a polecat", cwd=str(worktree))
    assert made.startswith("gt-")
    assert made in (town / "gastown" / "mayor" / "rig" / ".beads" / "issues.jsonl").read_text()


def test_beads_dir_environment_variable(cli, town, tmp_path):
    elsewhere = tmp_path / "x"
    elsewhere.mkdir()
    env = {"BEADS_DIR": str(town / "beads" / "mayor" / "rig" / ".beads")}
    assert make(cli, "via env", cwd=str(elsewhere), env=env).startswith("bd-")
    assert cli("list", cwd=str(elsewhere), env={"BEADS_DIR": str(elsewhere)}).exit_code == 3
