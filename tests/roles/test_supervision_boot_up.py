"""Boot (the deacon's watchdog) and ``vermas up`` / ``vermas down`` over real tmux."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.roles.conftest import wait_for
from vermas.ledger import events

pytestmark = pytest.mark.slow

IDLE_RUNTIME = '{"command": "bash", "args": ["-c", "sleep 3600", "idle-agent"], "prompt_mode": "arg", ' \
               '"ready_delay_ms": 0}'


class S:
    def __init__(self, kit, cli, socket: str) -> None:
        self.kit = kit
        self.cli = cli
        self.socket = socket
        cli.environ["VERMAS_TOWN"] = kit.town.root
        for key, value in (("deacon.patrol_interval", "0.5"), ("runtimes.idle", IDLE_RUNTIME),
                           ("runtime.default", "idle")):
            self.ok("config", "set", key, value)
        for key, value in (("witness.patrol_interval", "0.5"), ("verify.spec_gate", "false"),
                           ("verify.enabled", "false")):
            self.ok("config", "set", "--rig", "app", key, value)

    def ok(self, *argv: str):
        r = self.cli(*argv)
        assert r.exit_code == 0, f"vermas {' '.join(argv)}: {r.stderr}{r.stdout}"
        return r

    def json(self, *argv: str):
        return self.ok(*argv, "--json").json()

    def sessions(self) -> set[str]:
        proc = subprocess.run(["tmux", "-L", self.socket, "ls", "-F", "#{session_name}"], capture_output=True,
                              text=True)
        return set(proc.stdout.split())

    def town_events(self, kind: str) -> list[dict]:
        return [e for e in events.read(self.kit.town.beads_dir) if e["event_type"] == kind]


@pytest.fixture
def s(kit, cli, tmux_socket):
    helper = S(kit, cli, tmux_socket)
    yield helper
    cli("down", "--polecats", "--timeout", "5")


def test_boot_check_restarts_a_dead_deacon_and_a_silent_one(s, kit):
    # nothing wanted: nothing to do
    result = s.json("boot", "check")
    assert result["action"] == "none" and not result["deacon"]["running"]
    assert "not wanted" in s.ok("boot", "check").stdout
    first = s.json("deacon", "start")["pid"]
    assert s.json("boot", "check")["action"] == "ok"
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not s.json("deacon", "status")["running"], timeout=30, message="the deacon to die")
    result = s.json("boot", "check")
    assert result["action"] == "restarted"
    second = s.json("deacon", "status")["pid"]
    assert second not in (None, first)
    # a hung deacon (its patrol blocks: here on its own state lock, which the test holds) writes no
    # heartbeat; once that is stale, boot stops it (SIGKILL when SIGTERM is not enough) and starts a new one
    from vermas.fileops import FileLock

    s.ok("config", "set", "deacon.heartbeat_stale", "1.5")
    wait_for(lambda: s.json("deacon", "status")["heartbeat"]["age_s"] is not None, timeout=30,
             message="a heartbeat")
    with FileLock(os.path.join(kit.town.root, "deacon", "state.json.lock")):
        wait_for(lambda: (s.json("deacon", "status")["heartbeat"]["age_s"] or 0) > 1.5, timeout=30,
                 message="the heartbeat to go stale")
        result = s.json("boot", "check")
    assert result["deacon"]["stale"] and result["action"] == "restarted"
    third = s.json("deacon", "status")["pid"]
    assert third not in (None, first, second)
    [stale] = s.town_events("boot.deacon_stale")
    assert stale["data"]["pid"] == second
    assert len(s.town_events("boot.restarted")) == 2
    status = s.json("boot", "status")
    assert status["totals"]["restarts"] == 2 and status["last_check"]["action"] == "restarted"


def test_up_and_down_in_order_idempotent(s, kit):
    rows = s.json("up")["components"]
    assert [(r["component"], r["status"]) for r in rows] == [
        ("boot", "started"), ("deacon", "started"), ("app/witness", "started"), ("app/refinery", "started")]
    assert {"vm-boot", "vm-deacon", "vm-app-witness", "vm-app-refinery"} <= s.sessions()
    again = s.ok("up")
    assert again.stdout.count("already running") == 4 and "starting boot…" in again.stderr
    status = s.json("deacon", "status")
    assert all(row["running"] and row["wanted"] for row in status["supervised"])

    down = s.ok("down")
    assert [line.split()[:2] for line in down.stdout.splitlines()] == [
        ["boot", "stopped"], ["deacon", "stopped"], ["app/witness", "stopped"], ["app/refinery", "stopped"]]
    assert not ({"vm-boot", "vm-deacon", "vm-app-witness", "vm-app-refinery"} & s.sessions())
    status = s.json("deacon", "status")
    assert not status["running"] and not any(row["running"] or row["wanted"] for row in status["supervised"])
    assert s.ok("down").stdout.count("not running") == 4
    r = s.cli("up", "--rig", "nope")
    assert r.exit_code == 3 and "nope" in r.stderr


def test_down_polecats_keeps_their_work_and_up_respawns_them(s, kit):
    bead = kit.task("Long job")
    row = s.json("sling", bead, "app")["results"][0]
    s.ok("up")
    rows = s.json("down", "--polecats")["components"]
    assert {"component": row["polecat"], "status": "stopped", "bead": bead} in rows
    assert row["session"] not in s.sessions()
    assert kit.bead(bead)["status"] == "hooked" and os.path.isdir(row["worktree"])
    s.ok("up")
    wait_for(lambda: s.json("polecat", "status", row["polecat"])["state"]["incarnation"] == 2, timeout=60,
             message="the witness to respawn the polecat")
    assert row["session"] in s.sessions()
    [event] = [e for e in events.read(kit.paths.beads_dir) if e["event_type"] == "witness.respawned"]
    assert event["data"]["bead_id"] == bead and event["data"]["worktree"] == row["worktree"]


@pytest.mark.parametrize("command", ["witness", "deacon", "boot", "up", "down"])
def test_help(cli, command):
    r = cli(command, "--help")
    assert r.exit_code == 0 and "examples:" in r.stdout
