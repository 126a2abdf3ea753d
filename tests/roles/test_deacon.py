"""The deacon: restarts with backoff, crash loops escalated, convoys landed, escalations forwarded."""

from __future__ import annotations

import json
import os

import pytest

from tests.roles.conftest import wait_for
from vermas.ledger import events
from vermas.roles.deacon import tracker

pytestmark = pytest.mark.slow


class D:
    def __init__(self, kit, cli) -> None:
        self.kit = kit
        self.cli = cli
        cli.environ["VERMAS_TOWN"] = kit.town.root
        self.ok("config", "set", "deacon.patrol_interval", "0.05")

    def ok(self, *argv: str):
        r = self.cli(*argv)
        assert r.exit_code == 0, f"vermas {' '.join(argv)}: {r.stderr}{r.stdout}"
        return r

    def patrol(self) -> dict:
        r = self.cli("deacon", "run", "--once", "--json", "--quiet")
        assert r.exit_code == 0, r.stderr
        return r.json()

    def status(self) -> dict:
        return self.ok("deacon", "status", "--json").json()

    def target(self, key: str) -> dict:
        return next(row for row in self.status()["supervised"] if row["target"] == key)

    def town_events(self, kind: str) -> list[dict]:
        return [e for e in events.read(self.kit.town.beads_dir) if e["event_type"] == kind]

    def kill_witness(self) -> None:
        pid = self.ok("witness", "status", "--rig", "app", "--json").json()["pid"]
        os.kill(pid, 9)
        wait_for(lambda: not self.ok("witness", "status", "--rig", "app", "--json").json()["running"], timeout=30,
                 message="the witness to die")


@pytest.fixture
def d(kit, cli) -> D:
    return D(kit, cli)


def test_restarts_a_wanted_daemon_that_died_and_leaves_stopped_ones_alone(d):
    d.ok("witness", "start", "--rig", "app")
    d.kill_witness()
    report = d.patrol()
    assert [(a["target"], a["action"]) for a in report["actions"]] == [("app/witness", "restarted")]
    assert d.target("app/witness")["running"] and d.target("app/witness")["restarts_recent"] == 1
    # the refinery was never started (not wanted): the deacon does not start it
    assert not d.target("app/refinery")["running"] and not d.target("app/refinery")["wanted"]
    [event] = d.town_events("deacon.restarted")
    assert event["data"]["target"] == "app/witness" and event["data"]["patrol"] == 1
    # its heartbeat says when it last patrolled
    with open(os.path.join(d.kit.town.root, "deacon", "heartbeat.json"), encoding="utf-8") as fh:
        beat = json.load(fh)
    assert beat["patrols"] == 1 and beat["last_patrol_ms"] is not None
    # a witness stopped on purpose stays stopped
    d.ok("witness", "stop", "--rig", "app")
    assert d.patrol()["actions"] == []
    assert not d.target("app/witness")["running"]
    d.ok("witness", "stop", "--rig", "app")


def test_crash_loop_stops_restarts_and_escalates_once(d):
    d.ok("witness", "start", "--rig", "app")
    d.kill_witness()
    d.ok("config", "set", "--rig", "app", "witness.patrol_interval", "-1")  # every start now fails
    outcomes = []

    def looped() -> bool:
        outcomes.extend(a["action"] for a in d.patrol()["actions"])
        return "crash_loop" in outcomes

    wait_for(looped, timeout=120, message="the crash loop to be detected")
    assert outcomes.count("restart_failed") == tracker.CRASH_LOOP
    assert set(outcomes) <= {"restart_failed", "backoff", "crash_loop"}
    row = d.target("app/witness")
    assert row["crash_loop"] and row["escalation"] and "witness.patrol_interval" in row["last_error"]
    [escalation] = d.ok("escalate", "list", "--json").json()
    assert escalation["severity"] == "high" and "crash-looping" in escalation["title"]
    assert [m["title"] for m in d.kit.mails("ESCALATION") if m["assignee"] == "mayor/"] == \
        [f"ESCALATION: {escalation['title'].split('] ', 1)[1]}"]
    assert d.patrol()["actions"] == []  # stopped restarting, escalated once
    assert "CRASH LOOP" in d.ok("deacon", "status").stdout
    # fixed by hand and started again: the loop is cleared
    d.ok("config", "unset", "--rig", "app", "witness.patrol_interval")
    d.ok("witness", "start", "--rig", "app")
    assert [a["action"] for a in d.patrol()["actions"]] == ["cleared"]
    assert not d.target("app/witness")["crash_loop"]
    d.ok("witness", "stop", "--rig", "app")


def test_clear_backoff(d):
    d.ok("witness", "start", "--rig", "app")
    d.kill_witness()
    d.ok("config", "set", "--rig", "app", "witness.patrol_interval", "-1")
    d.patrol()
    assert d.target("app/witness")["restarts_recent"] == 1
    r = d.cli("deacon", "clear-backoff", "nope/witness")
    assert r.exit_code == 3 and "no restart record" in r.stderr
    assert d.ok("deacon", "clear-backoff", "app/witness", "--json").json() == {"cleared": ["app/witness"]}
    assert d.target("app/witness")["restarts_recent"] == 0


def test_lands_complete_convoys_and_forwards_escalations(d, kit):
    a, b = kit.task("one"), kit.task("two")
    convoy = d.ok("convoy", "create", "Pair", a, b, "--owner", "mayor", "--json").json()["id"]
    d.ok("close", a, b, "--rig", "app", "--reason", "done by hand")
    d.ok("mail", "send", "deacon", "-s", "ESCALATION: disk almost full", "-m", "Severity: high\nSource: app/witness",
         "--actor", "app/witness")
    report = d.patrol()
    assert report["convoys_landed"] == [convoy]
    assert d.ok("convoy", "status", convoy, "--json").json()["status"] == "closed"
    assert len(report["escalations"]) == 1
    [escalation] = d.ok("escalate", "list", "--json").json()
    assert escalation["severity"] == "high" and "disk almost full" in escalation["title"]
    assert all(m["status"] == "closed" for m in d.kit.mails("ESCALATION: disk") if m["assignee"] == "deacon/")
    assert d.patrol()["escalations"] == []


def test_deacon_daemon_lifecycle(d, kit):
    d.ok("config", "set", "deacon.patrol_interval", "0.5")
    started = d.ok("deacon", "start", "--json").json()
    assert started["running"] and started["session"] == "vm-deacon" and started["wanted"]
    assert d.ok("deacon", "start", "--json").json()["already_running"]
    r = d.cli("deacon", "run", "--once")
    assert r.exit_code == 5 and "already running" in r.stderr
    wait_for(lambda: d.status()["heartbeat"]["age_s"] is not None, timeout=60, message="a heartbeat")
    assert d.status()["heartbeat"]["stale"] is False
    text = d.ok("deacon", "status").stdout
    assert "deacon: running" in text and "app/witness" in text and "boot" in text
    stopped = d.ok("deacon", "stop", "--json").json()
    assert stopped["was_running"] and not d.status()["running"] and not d.status()["wanted"]
