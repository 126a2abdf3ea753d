"""The witness over real tmux and git: each rule's action, done by ``vermas witness run --once``.

The polecats run a do-nothing agent (``bash -c 'sleep 3600'``) so the test plays the agent:
it commits in the worktree and runs the real ``vermas done``.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.roles.conftest import git, wait_for
from vermas.ledger import events
from vermas.town import protocol, slingqueue

pytestmark = pytest.mark.slow

IDLE_RUNTIME = '{"command": "bash", "args": ["-c", "sleep 3600", "idle-agent"], "prompt_mode": "arg", ' \
               '"ready_delay_ms": 0}'


class W:
    """The kit's town, driven through the CLI, with helpers for the witness."""

    def __init__(self, kit, cli, socket: str) -> None:
        self.kit = kit
        self.cli = cli
        self.socket = socket
        cli.environ["VERMAS_TOWN"] = kit.town.root
        self.ok("config", "set", "runtimes.idle", IDLE_RUNTIME)
        self.ok("config", "set", "runtime.default", "idle")
        for key, value in (("verify.spec_gate", "false"), ("verify.enabled", "false"),
                           ("witness.idle_after", "300"), ("witness.stuck_after", "900")):
            self.ok("config", "set", "--rig", "app", key, value)

    def ok(self, *argv: str):
        r = self.cli(*argv)
        assert r.exit_code == 0, f"vermas {' '.join(argv)}: {r.stderr}{r.stdout}"
        return r

    def sling(self, title: str, **kw) -> dict:
        bead = self.kit.task(title)
        return self.ok("sling", bead, "app", "--json", *kw.get("extra", ())).json()["results"][0]

    def patrol(self) -> dict:
        r = self.cli("witness", "run", "--rig", "app", "--once", "--json", "--quiet")
        assert r.exit_code == 0, r.stderr
        return r.json()

    def done_actions(self, report: dict) -> list[tuple[str, str]]:
        return [(a["kind"], a["polecat"]) for a in report["actions"] if a["status"] == "done"]

    def alive(self, session: str) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "=" + session],
                              capture_output=True).returncode == 0

    def kill_session(self, session: str) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-session", "-t", "=" + session], check=True)

    def finish(self, row: dict, files: dict[str, str]) -> dict:
        """Play the agent: commit in the worktree and run the real 'vermas done'."""
        from tests.roles.conftest import write_files

        write_files(row["worktree"], files)
        git("add", "-A", cwd=row["worktree"])
        git("commit", "-q", "-m", f"{row['bead']}: work", cwd=row["worktree"])
        return self.ok("done", "--agent", row["polecat"], "--json").json()

    def state(self, row: dict) -> dict:
        return self.ok("polecat", "status", row["polecat"], "--json").json()["state"]

    def mails(self, prefix: str, to: str | None = None) -> list[dict]:
        return [m for m in self.kit.mails(prefix) if to is None or m["assignee"] == to]

    def events(self, kind: str) -> list[dict]:
        return [e for e in events.read(self.kit.paths.beads_dir) if e["event_type"] == kind]


@pytest.fixture
def w(kit, cli, tmux_socket) -> W:
    return W(kit, cli, tmux_socket)


def test_dead_session_is_respawned_in_its_worktree_then_spawn_blocked(w):
    w.ok("config", "set", "--rig", "app", "witness.max_respawns", "1")
    row = w.sling("Survive a crash")
    w.kill_session(row["session"])
    report = w.patrol()
    assert w.done_actions(report) == [("respawn", row["name"])]
    [action] = [a for a in report["actions"] if a["status"] == "done"]
    assert action["incarnation"] == 2 and action["worktree"] == row["worktree"] and action["respawns"] == 1
    assert w.alive(row["session"])
    state = w.state(row)
    assert state["state"] == "working" and state["incarnation"] == 2
    assert w.kit.bead(row["bead"])["status"] == "hooked"
    # it dies again: the limit is reached, the mayor is told once, nothing is respawned
    w.kill_session(row["session"])
    assert w.done_actions(w.patrol()) == [("spawn_blocked", row["name"])]
    assert w.done_actions(w.patrol()) == []
    [blocked] = w.mails("SPAWN_BLOCKED", to="mayor/")
    record = protocol.parse(blocked["title"], blocked["description"])
    assert record.bead == row["bead"] and record.respawns == "1" and "respawn limit" in record.reason
    assert not w.alive(row["session"])
    status = w.ok("witness", "status", "--rig", "app", "--json").json()
    assert status["blocked"] == [row["bead"]] and status["totals"]["respawned"] == 1
    text = w.ok("witness", "status", "--rig", "app").stdout
    assert "SPAWN_BLOCKED (waiting for the mayor): " + row["bead"] in text
    # a human restarts it: the witness counts afresh for that incarnation
    w.ok("polecat", "restart", row["polecat"])
    w.kill_session(row["session"])
    assert w.done_actions(w.patrol()) == [("respawn", row["name"])]


def test_done_becomes_merge_ready_the_session_is_reaped_and_merged_work_cleaned_up(w):
    row = w.sling("A job")
    result = w.finish(row, {"job.txt": "done\n"})
    [done_mail] = w.mails("POLECAT_DONE")
    fields = protocol.parse(done_mail["title"], done_mail["description"]).extra
    state = w.state(row)
    assert fields == {"Incarnation": "1", "Spawn-Id": state["spawn_id"], "Session": row["session"]}

    report = w.patrol()
    assert report["mail"]["merge_ready"] == [result["mr"]]
    [ready] = w.mails("MERGE_READY", to="app/refinery")
    record = protocol.parse(ready["title"], ready["description"])
    assert (record.mr, record.issue, record.branch) == (result["mr"], row["bead"], row["branch"])
    assert w.kit.mails("POLECAT_DONE")[0]["status"] == "closed"
    # the finished polecat's session goes (at once: a current POLECAT_DONE), its worktree stays for the merge
    if w.alive(row["session"]):
        assert ("reap", row["name"]) in w.done_actions(w.patrol())
    assert not w.alive(row["session"]) and os.path.isdir(row["worktree"])

    assert w.kit.run_once()["merged"] == [result["mr"]]
    report = w.patrol()
    assert w.done_actions(report) == [("cleanup", row["name"])]
    assert not os.path.exists(row["worktree"])
    assert not w.kit.branch_exists(row["branch"])
    assert row["worktree"] not in git("worktree", "list", cwd=w.kit.repo)
    [slot] = w.mails("SLOT_OPEN", to="mayor/")
    assert slot["title"] == f"SLOT_OPEN: app/{row['name']} completed (exit=COMPLETED)"
    state = w.state(row)
    assert state["last"]["cleaned_at"] and state["state"] == "idle"
    assert w.done_actions(w.patrol()) == []  # once
    kinds = [e["event_type"] for e in w.events("witness.merge_ready") + w.events("witness.cleaned")]
    assert kinds == ["witness.merge_ready", "witness.cleaned"]


def test_cleanup_never_deletes_uncommitted_work(w):
    row = w.sling("A job with leftovers")
    result = w.finish(row, {"job.txt": "done\n"})
    with open(os.path.join(row["worktree"], "notes.txt"), "w", encoding="utf-8") as fh:
        fh.write("not committed\n")
    assert w.kit.run_once()["merged"] == [result["mr"]]
    report = w.patrol()
    skipped = [a for a in report["actions"] if a["kind"] == "cleanup"]
    assert skipped and skipped[0]["status"] == "skipped" and "uncommitted changes: notes.txt" in skipped[0]["why"]
    assert os.path.exists(os.path.join(row["worktree"], "notes.txt"))
    assert [a for a in w.patrol()["actions"] if a["kind"] == "cleanup"] == []  # not retried every patrol
    [event] = w.events("witness.cleanup_skipped")
    assert event["data"]["worktree"] == row["worktree"]
    text = w.ok("witness", "status", "--rig", "app").stdout
    assert "worktree kept: uncommitted changes: notes.txt" in text


def test_rework_respawns_the_idle_polecat_and_prime_shows_why(w):
    row = w.sling("A job to redo")
    result = w.finish(row, {"job.txt": "first try\n"})
    w.patrol()  # merge ready, session reaped
    w.ok("mq", "reject", result["mr"], "--rig", "app", "--reason", "job.txt must say 'second try'")
    bead = w.kit.bead(row["bead"])
    assert bead["status"] == "hooked" and "rework" in bead["labels"]
    report = w.patrol()
    assert w.done_actions(report) == [("rework", row["name"])]
    assert w.alive(row["session"])
    state = w.state(row)
    assert state["state"] == "working" and state["incarnation"] == 2 and state["worktree"] == row["worktree"]
    r = w.cli("prime", cwd=row["worktree"])  # the agent is found from its worktree
    assert r.exit_code == 0, r.stderr
    prime = r.stdout
    assert "### Rework requested" in prime and "job.txt must say 'second try'" in prime
    assert prime.index("### Rework requested") < prime.index("When the work is committed")


def test_idle_polecat_is_nudged_and_a_hookless_queue_is_flushed(w, kit):
    w.ok("config", "set", "--rig", "app", "witness.idle_after", "0.5")
    row = w.sling("Nudge me")
    wait_for(lambda: w.ok("witness", "status", "--rig", "app", "--json").json()["polecats"][0]["inactive_s"] >= 1,
             timeout=60, message="the polecat to be quiet for a while")
    report = w.patrol()
    assert w.done_actions(report) == [("nudge", row["name"])], report
    pane = subprocess.run(["tmux", "-L", w.socket, "capture-pane", "-p", "-t", row["session"]],
                          capture_output=True, text=True).stdout
    assert "Work is on your hook" in pane.replace("\n", "")
    assert w.done_actions(w.patrol()) == []  # no reaction yet: no second nudge, not stuck either
    # a queued nudge for a hook-less agent is typed in by the patrol
    w.ok("nudge", row["polecat"], "queued for you", "--mode", "queue")
    report = w.patrol()
    assert report["flushed"] == [{"polecat": row["name"], "count": 1}]
    pane = subprocess.run(["tmux", "-L", w.socket, "capture-pane", "-p", "-t", row["session"]],
                          capture_output=True, text=True).stdout
    assert "queued for you" in pane.replace("\n", "")


def test_a_lost_drainer_is_made_up_for(w, kit):
    from vermas.town import done as done_mod
    from vermas.town.identity import Agent

    w.ok("config", "set", "--rig", "app", "polecats.max", "1")
    first = w.sling("First")
    second_bead = kit.task("Second")
    queued = w.ok("sling", second_bead, "app", "--json").json()["results"][0]
    assert queued["status"] == "queued"
    from tests.roles.conftest import write_files

    write_files(first["worktree"], {"a.txt": "a\n"})
    git("add", "-A", cwd=first["worktree"])
    git("commit", "-q", "-m", "a", cwd=first["worktree"])
    done_mod.done(kit.town, Agent("polecat", "app", first["name"]), dispatch=False)  # its drainer never ran
    assert [e["bead"] for e in slingqueue.items(kit.paths)] == [second_bead]
    report = w.patrol()
    assert report["drained"]["started"] == [second_bead]
    assert slingqueue.items(kit.paths) == []
    assert kit.bead(second_bead)["status"] == "hooked"
    [event] = w.events("witness.drained")
    assert event["data"]["started"] == [second_bead]


def test_help_mail_is_escalated_to_the_mayor(w, kit):
    w.ok("mail", "send", "app/witness", "-s", "HELP: tests hang", "-m", "Agent: app/polecats/nux\nProblem: hang",
         "--actor", "app/polecats/nux")
    report = w.patrol()
    assert len(report["mail"]["escalated"]) == 1
    listed = w.ok("escalate", "list", "--json").json()
    assert [e["severity"] for e in listed] == ["medium"] and "HELP from app/polecats/nux" in listed[0]["title"]
    assert w.mails("HELP")[0]["status"] == "closed"


def test_witness_daemon_lifecycle(w, kit):
    town = ["--rig", "app"]
    started = w.ok("witness", "start", *town, "--json").json()
    assert started["running"] and started["started"] and started["session"] == "vm-app-witness" and started["wanted"]
    assert w.alive("vm-app-witness")
    again = w.ok("witness", "start", *town, "--json").json()
    assert again["already_running"] and again["pid"] == started["pid"]
    r = w.cli("witness", "run", *town, "--once")
    assert r.exit_code == 5 and "already running" in r.stderr
    wait_for(lambda: w.ok("witness", "status", *town, "--json").json()["last_patrol"], timeout=60,
             message="a first patrol")
    os.kill(started["pid"], 9)
    wait_for(lambda: not w.ok("witness", "status", *town, "--json").json()["running"], timeout=30,
             message="the lock to be released")
    status = w.ok("witness", "status", *town, "--json").json()
    assert status["wanted"], "a killed witness is still wanted (the deacon restarts it)"
    assert "wanted: the deacon will restart it" in w.ok("witness", "status", *town).stdout
    w.ok("witness", "start", *town)
    stopped = w.ok("witness", "stop", *town, "--json").json()
    assert stopped["was_running"] and not stopped["forced"]
    status = w.ok("witness", "status", *town, "--json").json()
    assert not status["running"] and not status["wanted"] and not w.alive("vm-app-witness")
    with open(os.path.join(kit.paths.witness_dir, "witness.log"), encoding="utf-8") as fh:
        log = fh.read()
    assert "witness for app started" in log and "witness for app stopped" in log


def test_a_polecat_that_cannot_resume_is_reported_once_not_retried(w, tmp_path):
    row = w.sling("Lost worktree")
    w.kill_session(row["session"])
    os.rename(row["worktree"], tmp_path / "moved-away")  # gone (a human moved it): no session can resume there
    report = w.patrol()
    [action] = report["actions"]
    assert action["kind"] == "respawn" and action["status"] == "skipped" and "SPAWN_BLOCKED" in action["why"]
    [blocked] = w.mails("SPAWN_BLOCKED", to="mayor/")
    assert "worktree" in protocol.parse(blocked["title"], blocked["description"]).reason
    assert w.patrol()["actions"] == []
    assert len(w.mails("SPAWN_BLOCKED")) == 1 and len(w.events("witness.spawn_blocked")) == 1
    assert w.kit.bead(row["bead"])["status"] == "hooked"  # the work stays where it is, for the mayor
