"""Acceptance: fault scenarios under full supervision. Each asserts no bead, mail or commit is lost."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.e2e.conftest import RIG, git, sim_steps, wait_for, write_file_step
from vermas.town import mail, protocol

pytestmark = pytest.mark.slow


def _tmux_alive(socket: str, session: str) -> bool:
    return subprocess.run(["tmux", "-L", socket, "has-session", "-t", "=" + session],
                          capture_output=True).returncode == 0


def _for(events: list[dict], polecat: str) -> list[dict]:
    return [e for e in events if e["data"].get("polecat") == f"{RIG}/polecats/{polecat}"]


def test_hanging_polecat_is_nudged_then_restarted_and_finishes(town):
    town.set("witness.idle_after", "2")
    town.set("witness.stuck_after", "6")
    runtime = town.fault_runtime("sim-hang-once", "hang")
    bead = town.file_bead("hang.txt", "finished after a restart")
    town.up()
    row = town.sling(bead, runtime=runtime)["results"][0]
    name = row["name"]
    town.wait_merged([bead], timeout=240)

    witness = [e for e in town.rig_events() if e["event_type"].startswith("witness.")]
    nudged = _for([e for e in witness if e["event_type"] == "witness.nudged"], name)
    restarted = _for([e for e in witness if e["event_type"] == "witness.restarted"], name)
    assert nudged and len(restarted) == 1
    assert witness.index(nudged[0]) < witness.index(restarted[0]), "nudged first, restarted after"
    assert restarted[0]["data"]["reason"].startswith(("stuck", "no progress"))
    assert restarted[0]["data"]["worktree"] == row["worktree"] and restarted[0]["data"]["incarnation"] == 2
    # the first session really hung (the sim's own fault); the second one did the work
    transcript = town.transcript(row["session"])
    assert any(e["event"] == "fault" and e.get("kind") == "hang" for e in transcript)
    starts = [e for e in transcript if e["event"] == "start"]
    assert len(starts) == 2 and starts[0]["faults"] == ["hang"] and starts[1]["faults"] == []
    assert town.show("hang.txt") == "finished after a restart"
    town.assert_nothing_lost()


def test_crashing_polecat_is_respawned_in_the_same_worktree_no_commit_lost(town):
    runtime = town.fault_runtime("sim-crash-once", "crash=2")
    body = "Two parts; the first is committed on its own.\n\n" + sim_steps(
        write_file_step("one.txt", "part one"),
        "git add -A && git commit -q -m 'part one' || true",
        write_file_step("two.txt", "part two"))
    bead = town.bead("Two-part job", body)
    town.up()
    row = town.sling(bead, runtime=runtime)["results"][0]
    town.wait_merged([bead], timeout=240)

    respawned = _for(town.rig_events("witness.respawned"), row["name"])
    assert len(respawned) == 1 and "died" in respawned[0]["data"]["reason"]
    assert respawned[0]["data"]["worktree"] == row["worktree"]
    transcript = town.transcript(row["session"])
    crash = [e for e in transcript if e["event"] == "fault" and e.get("kind") == "crash"]
    assert len(crash) == 1, "the first session crashed mid-work"
    # the commit the crashed session made survived: it is in the submitted branch, exactly once
    [mr] = [m for m in town.merge_requests() if m.get("close_reason") == "merged"]
    commit = next(line for line in mr["description"].splitlines() if line.startswith("commit_sha: ")).split(": ")[1]
    history = git("log", "--format=%s", commit, cwd=town.rig.repo).splitlines()
    assert history.count("part one") == 1
    assert town.subjects().count("part one") == 1
    assert town.show("one.txt") == "part one" and town.show("two.txt") == "part two"
    town.assert_nothing_lost()


def test_sigkilled_witness_is_restarted_by_the_deacon_within_two_patrols(town):
    town.set("deacon.patrol_interval", "0.5", rig=False)
    beads = [town.bead(f"Slow job {n}", "Takes a moment.\n\n" + sim_steps(
        "sleep 2", write_file_step(f"slow{n}.txt", f"slow {n}"))) for n in range(3)]
    town.up()
    town.sling(*beads)
    old = town.pid("witness")
    with open(os.path.join(town.root, "deacon", "heartbeat.json"), encoding="utf-8") as fh:
        patrol_at_kill = json.load(fh)["patrols"]
    town.kill9("witness")
    wait_for(lambda: town.pid("witness") not in (None, old), timeout=60, what="the witness to come back")
    [restart] = wait_for(lambda: [e for e in town.town_events("deacon.restarted")
                                  if e["data"]["target"] == f"{RIG}/witness"], timeout=30, what="the restart event")
    assert restart["data"]["patrol"] - patrol_at_kill <= 2
    town.wait_merged(beads, timeout=240)
    town.wait_cleaned()
    # no polecat was lost: each bead ran in exactly one session, none had to be respawned
    started = [e["data"]["hooked_bead"] for e in town.town_events("agent.started")]
    assert sorted(started) == sorted(beads)
    assert not town.rig_events("witness.respawned") and not town.rig_events("witness.restarted")
    town.assert_nothing_lost()


def test_sigkilled_refinery_mid_merge_resumes_and_never_half_merges(town, tmp_path):
    mark = tmp_path / "gate-started"
    town.set("deacon.patrol_interval", "0.5", rig=False)
    town.set("gates.test", f"if [ ! -e {mark} ]; then touch {mark}; sleep 60; fi; ./check.sh")
    bead = town.file_bead("feature.txt", "merged once")
    base = git("rev-parse", "main", cwd=town.rig.repo)
    town.up()
    town.sling(bead)
    wait_for(mark.exists, timeout=180, what="the gate to start (the refinery is mid-merge)")
    old = town.kill9("refinery")
    assert git("rev-parse", "main", cwd=town.rig.repo) == base, "the target moved before the gates passed"
    wait_for(lambda: town.pid("refinery") not in (None, old), timeout=60, what="the deacon to restart the refinery")
    restarts = wait_for(lambda: town.town_events("deacon.restarted"), timeout=30, what="the restart event")
    assert [e["data"]["target"] for e in restarts] == [f"{RIG}/refinery"]
    town.wait_merged([bead], timeout=180)
    # the target went from the base straight to the tested commit: one change, exactly once
    tip = git("rev-parse", "main", cwd=town.rig.repo)
    assert git("rev-parse", f"{tip}~1", cwd=town.rig.repo) == base
    assert town.subjects().count(f"{bead}: Write feature.txt") == 1
    status = wait_for(lambda: (lambda doc: doc if doc["current"] is None else None)(town.status("refinery")),
                      timeout=60, what="the refinery to finish the round")
    assert not status["interrupted"] and status["running"]
    assert git("status", "--porcelain", cwd=town.rig.refinery_worktree) == ""
    town.assert_nothing_lost()


def test_sigkilled_deacon_is_restarted_by_boot_and_by_up(town):
    town.set("deacon.patrol_interval", "0.5", rig=False)
    town.up()
    first = town.kill9("deacon")
    wait_for(lambda: town.pid("deacon") not in (None, first), timeout=60, what="boot to restart the deacon")
    restarts = wait_for(lambda: town.town_events("boot.restarted"), timeout=30, what="boot's restart event")
    assert [e["data"]["target"] for e in restarts] == ["deacon"]
    # without boot, 'vermas up' brings it back (and leaves what runs alone)
    town.run("boot", "stop")
    second = town.kill9("deacon")
    wait_for(lambda: not town.status("deacon")["running"], timeout=30, what="the deacon to be gone")
    rows = town.up()
    by_name = {r["component"]: r["status"] for r in rows}
    # up starts boot first, and boot may bring the deacon back before up gets to it: either way it runs
    assert by_name["boot"] == "started" and by_name["deacon"] in ("started", "already running")
    assert by_name[f"{RIG}/witness"] == by_name[f"{RIG}/refinery"] == "already running"
    assert town.pid("deacon") not in (None, first, second)
    if by_name["deacon"] == "already running":
        wait_for(lambda: len(town.town_events("boot.restarted")) == 2, timeout=30, what="boot's second restart")
    # the town still works
    bead = town.file_bead("after.txt", "still works")
    town.sling(bead)
    town.wait_merged([bead], timeout=180)
    town.assert_nothing_lost()


def test_stale_polecat_done_from_an_earlier_incarnation_changes_nothing(town, tmp_path, tmux_socket):
    go = tmp_path / "go"
    body = "Waits for a signal.\n\n" + sim_steps(f"while [ ! -e {go} ]; do sleep 0.2; done",
                                                write_file_step("late.txt", "finished"))
    bead = town.bead("Waiting job", body)
    town.up()
    row = town.sling(bead)["results"][0]
    name, session = row["name"], row["session"]
    first = town.polecat(name)
    # a second incarnation (e.g. after a restart); the first one's POLECAT_DONE arrives late
    town.run("polecat", "restart", f"{RIG}/{name}")
    current = town.polecat(name)
    assert current["incarnation"] == first["incarnation"] + 1
    stale = protocol.PolecatDone(polecat=name, exit="COMPLETED", issue=bead, mr="", branch=row["branch"], rig=RIG,
                                 commit=git("rev-parse", "HEAD", cwd=row["worktree"]), worker=f"{RIG}/polecats/{name}")
    stale.extra = {"Incarnation": str(first["incarnation"]), "Spawn-Id": first["spawn_id"], "Session": session}
    [message] = mail.send_protocol(town.root, f"{RIG}/polecats/{name}", f"{RIG}/witness", stale)
    wait_for(lambda: next(m for m in town.mails("POLECAT_DONE") if m["id"] == message["id"])["status"] == "closed",
             timeout=60, what="the witness to read the stale message")

    [ignored] = town.rig_events("witness.stale_message")
    assert ignored["data"]["message_id"] == message["id"]
    assert ignored["data"]["message_spawn_id"] == first["spawn_id"]
    assert ignored["data"]["current_spawn_id"] == current["spawn_id"]
    # nothing changed: same incarnation, still working, session alive, bead still hooked, no MERGE_READY
    now = town.polecat(name)
    assert (now["spawn_id"], now["state"], now["bead"]) == (current["spawn_id"], "working", bead)
    assert _tmux_alive(tmux_socket, session)
    issue = town.issue(bead)
    assert issue["status"] == "hooked" and issue["assignee"] == f"{RIG}/polecats/{name}"
    assert town.mails("MERGE_READY") == []
    assert not town.rig_events("witness.reaped") and not town.rig_events("witness.cleaned")

    # the current incarnation then finishes normally, and its own POLECAT_DONE counts
    go.touch()
    town.wait_merged([bead], timeout=180)
    town.wait_cleaned()
    assert len(town.rig_events("witness.stale_message")) == 1
    town.assert_nothing_lost()
