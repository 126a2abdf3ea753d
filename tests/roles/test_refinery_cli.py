"""``vermas mq`` and ``vermas refinery`` commands: output, --json, errors and exit codes."""

from __future__ import annotations

import pytest


@pytest.fixture
def run(cli, kit):
    def call(*argv: str):
        return cli(*argv, "--town", kit.town.root)

    return call


def test_mq_list_and_refinery_queue_show_processing_order(kit, run):
    _c1, _s1, first = kit.work("nux", {"a.py": "A = 1\n"}, "a", priority=2)
    _c2, _s2, urgent = kit.work("toast", {"b.py": "B = 1\n"}, "b", priority=1)

    r = run("mq", "list", "--rig", "app", "--json")
    assert r.exit_code == 0, r.stderr
    rows = r.json()
    assert [(row["id"], row["state"], row["position"]) for row in rows] == [(urgent, "ready", 1), (first, "ready", 2)]
    assert rows[0]["branch"].startswith("polecat/toast") and rows[0]["worker"] == "app/polecats/toast"

    text = run("refinery", "queue", "--rig", "app").stdout
    assert text.index(urgent) < text.index(first) and "ready" in text
    assert run("refinery", "queue", "--rig", "ap", "--json").json() == rows  # a rig prefix works too

    kit.run_once()
    assert run("mq", "list", "--rig", "app", "--json").json() == []
    closed = run("mq", "list", "--rig", "app", "--all", "--json").json()
    assert {row["id"]: row["close_reason"] for row in closed} == {urgent: "merged", first: "merged"}
    assert "merge queue of app: empty" in run("mq", "list", "--rig", "app").stdout


def test_mq_status_of_one_request_shows_history_and_evidence(kit, run):
    kit.set("gates.test", "./check.sh")
    _cat, source, mr = kit.work("nux", {"bad.py": "BROKEN = 1\n"}, "bad")
    kit.run_once()

    r = run("mq", "status", mr[3:], "--rig", "app", "--json")  # partial id
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["id"] == mr and doc["state"] == "closed" and doc["close_reason"] == "rejected"
    assert any("[refinery] rejected" in c["text"] for c in doc["comments"])
    assert any(p.endswith("/test.log") for p in doc["evidence"])
    assert f"/evidence/{source}/gates/{mr}/" in doc["evidence"][0]
    text = run("mq", "status", mr, "--rig", "app").stdout
    assert "state: closed" in text and "evidence:" in text


def test_mq_retry_reopens_a_rejected_request_and_reject_sends_rework(kit, run):
    kit.set("gates.test", "./check.sh")
    _cat, _source, mr = kit.work("nux", {"flag.txt": "BROKEN\n"}, "needs a fix")
    kit.run_once()
    assert kit.bead(mr)["close_reason"] == "rejected"

    # The gate was wrong, not the branch: the overseer fixes the gate and retries.
    kit.set("gates.test", "true")
    r = run("mq", "retry", mr, "--rig", "app", "--note", "gate fixed")
    assert r.exit_code == 0, r.stderr
    bead = kit.bead(mr)
    assert bead["status"] == "open" and "retry_count: 1" in bead["description"]
    assert kit.run_once()["merged"] == [mr]

    r = run("mq", "retry", mr, "--rig", "app")
    assert r.exit_code == 5 and "already merged" in r.stderr

    _c2, source2, mr2 = kit.work("toast", {"x.py": "X = 1\n"}, "wrong approach")
    r = run("mq", "reject", mr2, "--rig", "app", "--reason", "use the cache layer $(not a command)", "--json",
            "--actor", "overseer")
    assert r.exit_code == 0, r.stderr
    assert r.json()["source"] == "hooked"
    assert kit.bead(mr2)["close_reason"] == "rejected"
    assert kit.bead(source2)["status"] == "hooked"
    [mail] = [m for m in kit.mails("REWORK_REQUEST toast") if m["assignee"] == "app/toast"]
    assert "rejected by overseer: use the cache layer $(not a command)" in mail["description"]
    r = run("mq", "reject", mr2, "--rig", "app", "--reason", "again")
    assert r.exit_code == 5 and "already closed" in r.stderr


def test_errors_name_what_is_wrong(kit, run):
    r = run("mq", "list", "--rig", "nope")
    assert r.exit_code == 3 and "no rig named 'nope'" in r.stderr
    r = run("mq", "status", "ap-zzzzzz", "--rig", "app")
    assert r.exit_code == 3
    task = kit.task("not an MR")
    r = run("mq", "retry", task, "--rig", "app")
    assert r.exit_code == 3 and "is not a merge request" in r.stderr
    r = run("refinery", "run", "--rig", "app", "--max-rounds", "2")
    assert r.exit_code == 2
    r = run("refinery", "status", "--rig", "app", "--json")
    assert r.exit_code == 0 and r.json()["running"] is False
    assert "not running" in run("refinery", "status", "--rig", "app").stdout


@pytest.mark.parametrize("argv", [("refinery", "--help"), ("refinery", "start", "--help"), ("mq", "--help"),
                                  ("mq", "reject", "--help")])
def test_help(cli, argv):
    r = cli(*argv)
    assert r.exit_code == 0 and "usage: vermas" in r.stdout


def test_a_failing_pass_is_visible_in_status(kit, run):
    kit.set("merge.batch_size", 0)
    r = run("refinery", "run", "--rig", "app", "--once", "--quiet")
    assert r.exit_code == 1 and "merge.batch_size = 0 (from rig) must be at least 1" in r.stderr
    doc = run("refinery", "status", "--rig", "app", "--json").json()
    assert "merge.batch_size" in doc["last_error"]["message"]
    assert "last error" in run("refinery", "status", "--rig", "app").stdout
    kit.set("merge.batch_size", 1)
    assert run("refinery", "run", "--rig", "app", "--once", "--quiet").exit_code == 0
    assert run("refinery", "status", "--rig", "app", "--json").json()["last_error"] is None
