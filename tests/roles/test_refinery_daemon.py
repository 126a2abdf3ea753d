"""The refinery daemon in its tmux session: start (idempotent), merge while running, status, stop, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from tests.roles.conftest import wait_for

pytestmark = pytest.mark.slow


def _tmux_has(socket: str, session: str) -> bool:
    return subprocess.run(["tmux", "-L", socket, "has-session", "-t", "=" + session],
                          capture_output=True).returncode == 0


def _closed(kit, bead_id: str) -> bool:
    return kit.bead(bead_id)["status"] == "closed"


def test_daemon_lifecycle_in_tmux(kit, cli, tmux_socket):
    kit.set("gates.test", "./check.sh")
    town = ["--town", kit.town.root, "--rig", "app"]

    r = cli("refinery", "start", *town, "--json")
    assert r.exit_code == 0, r.stderr
    started = r.json()
    assert started["running"] and started["started"] and started["session"] == "vm-app-refinery"
    assert _tmux_has(tmux_socket, "vm-app-refinery")
    pid = started["pid"]

    again = cli("refinery", "start", *town, "--json").json()
    assert again["already_running"] and again["pid"] == pid

    r = cli("refinery", "run", *town, "--once")
    assert r.exit_code == 5 and "already running" in r.stderr

    # Work submitted while it runs is merged without anyone asking.
    _cat, source, mr = kit.work("nux", {"feature.py": "X = 1\n"}, "feature while running")
    wait_for(lambda: _closed(kit, mr), timeout=90, message="the daemon to merge the request")
    assert kit.bead(mr)["close_reason"] == "merged" and _closed(kit, source)

    def finished() -> dict | None:
        doc = cli("refinery", "status", *town, "--json").json()
        return doc if (doc["last_result"] or {}).get("merged") == [mr] else None

    status = wait_for(finished, timeout=60, message="the round to be recorded")
    assert status["running"] and status["pid"] == pid and status["session_exists"]
    assert status["queue"]["depth"] == 0 and status["current"] is None
    text = cli("refinery", "status", *town).stdout
    assert f"running, pid {pid}, session vm-app-refinery" in text

    # A kick wakes it at once (the town's `done` can call daemon.kick after submitting).
    from vermas.roles.refinery.daemon import kick

    _cat2, _source2, mr2 = kit.work("toast", {"other.py": "Y = 1\n"}, "second while running")
    assert kick(kit.town.root, "app")
    wait_for(lambda: _closed(kit, mr2), timeout=90, message="the kicked daemon to merge")

    r = cli("refinery", "stop", *town, "--json")
    assert r.exit_code == 0, r.stderr
    stopped = r.json()
    assert stopped["was_running"] and not stopped["forced"]
    assert not _tmux_has(tmux_socket, "vm-app-refinery")
    status = cli("refinery", "status", *town, "--json").json()
    assert not status["running"] and status["pid"] is None
    assert not os.path.exists(os.path.join(kit.paths.refinery_dir, "refinery.pid"))
    assert "not running" in cli("refinery", "stop", *town).stdout
    with open(os.path.join(kit.paths.refinery_dir, "refinery.log"), encoding="utf-8") as fh:
        log = fh.read()
    assert "refinery for app started" in log and "refinery for app stopped" in log


def test_sigkilled_daemon_restarts_and_resumes(kit, cli, tmp_path):
    mark = tmp_path / "gate-started"
    kit.set("gates.test", f"if [ ! -e {mark} ]; then touch {mark}; sleep 120; fi; ./check.sh")
    town = ["--town", kit.town.root, "--rig", "app"]
    _cat, _source, mr = kit.work("nux", {"feature.py": "X = 1\n"}, "feature across a crash")
    before = kit.main()

    pid = cli("refinery", "start", *town, "--json").json()["pid"]
    wait_for(mark.exists, timeout=90, message="the gate to start")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not cli("refinery", "status", *town, "--json").json()["running"], timeout=30,
             message="the lock to be released")
    status = cli("refinery", "status", *town, "--json").json()
    assert status["interrupted"] and status["current"]["mrs"] == [mr]
    assert kit.main() == before

    r = cli("refinery", "start", *town, "--json")
    assert r.exit_code == 0, r.stderr
    wait_for(lambda: _closed(kit, mr), timeout=90, message="the restarted daemon to merge")
    assert kit.subjects().count("feature across a crash") == 1
    cli("refinery", "stop", *town)


def test_graceful_stop_interrupts_gates_and_loses_nothing(kit, cli, tmp_path):
    mark = tmp_path / "gate-started"
    kit.set("gates.test", f"if [ ! -e {mark} ]; then touch {mark}; sleep 120; fi; ./check.sh")
    town = ["--town", kit.town.root, "--rig", "app"]
    _cat, _source, mr = kit.work("nux", {"feature.py": "X = 1\n"}, "feature across a stop")

    cli("refinery", "start", *town)
    wait_for(mark.exists, timeout=90, message="the gate to start")
    stopped = cli("refinery", "stop", *town, "--json").json()
    assert stopped["was_running"] and not stopped["forced"]
    bead = kit.bead(mr)
    assert bead["status"] == "open" and not bead.get("assignee")  # back in the queue, not lost

    assert kit.run_once()["merged"] == [mr]
