"""stats, export, import, doctor and events through the CLI."""

from __future__ import annotations

import json
import os
import threading

from tests.cli.conftest import make
from tests.conftest import FIXTURES, run_vermas
from tests.ledger.conftest import read_text

LARGEST = max((os.path.join(FIXTURES, "jsonl", n) for n in os.listdir(os.path.join(FIXTURES, "jsonl"))
               if n.endswith(".jsonl")), key=os.path.getsize)


def test_stats(project):
    a = make(project, "A")
    make(project, "B", "--deps", a)
    project("close", make(project, "C"))
    stats = project("stats", "--json").json()
    assert (stats["total_issues"], stats["open_issues"], stats["closed_issues"], stats["ready_issues"],
            stats["dependencies"]) == (3, 2, 1, 1, 1)
    assert "total" in project("stats").stdout


def test_export_equals_the_ledger_file(project, tmp_path):
    make(project, "A <&>")
    make(project, "wisp", "--ephemeral")
    out = project("export")
    assert out.stdout == (tmp_path / ".beads" / "issues.jsonl").read_text()
    assert project("export", "-o", "backup.jsonl").exit_code == 0
    assert (tmp_path / "backup.jsonl").read_text() == out.stdout
    assert len(project("export", "--include-ephemeral").stdout.split("\n")) == 3


def test_import_the_largest_fixture_and_report(project, tmp_path):
    result = project("import", LARGEST, "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    lines = read_text(LARGEST).split("\n")[:-1]
    assert summary["created"] == len(lines) and summary["updated"] == summary["skipped"] == 0
    assert (tmp_path / ".beads" / "issues.jsonl").read_text() == "".join(
        x + "\n" for x in sorted(lines, key=lambda x: json.loads(x)["id"]))
    again = project("import", LARGEST)
    assert again.exit_code == 0 and f"0 created, 0 updated, {len(lines)} unchanged, 0 skipped" in again.stdout


def test_import_from_stdin_dry_run_and_malformed(project, tmp_path):
    line = json.dumps({"id": "app-imp", "title": "imported", "status": "open", "priority": 1, "issue_type": "task",
                       "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"})
    dry = project("import", "-", "--dry-run", "--json", stdin=line + "\n").json()
    assert dry["created"] == 1 and dry["dry_run"] is True
    assert project("show", "app-imp").exit_code == 3
    assert project("import", "-", stdin=line + "\n").exit_code == 0
    assert project("show", "app-imp", "--json").json()[0]["title"] == "imported"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n" + "oops\n")
    before = (tmp_path / ".beads" / "issues.jsonl").read_bytes()
    result = project("import", str(bad))
    assert result.exit_code == 1 and f"{bad}:2: malformed JSON" in result.stderr
    assert (tmp_path / ".beads" / "issues.jsonl").read_bytes() == before
    assert project("import", "missing.jsonl").exit_code == 3


def test_doctor_reports_and_fixes(project, tmp_path):
    make(project, "A")
    assert project("doctor").exit_code == 0
    path = tmp_path / ".beads" / "issues.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    report = project("doctor", "--json")
    assert report.exit_code == 1
    assert report.json()["errors"] == 1 and report.json()["findings"][0]["check"] == "malformed-lines"
    fixed = project("doctor", "--fix")
    assert fixed.exit_code == 0 and "quarantine" in fixed.stdout
    assert "{broken" in (tmp_path / ".beads" / "issues.jsonl.quarantine").read_text()
    assert project("list", "--json").exit_code == 0


def test_events_list_filters_replay_and_stats(project):
    a = make(project, "A")
    project("update", a, "--status", "in_progress", "--actor", "bob")
    project("close", a, "-r", "done")
    listed = project("events", "list", "--json").json()
    assert [e["event_type"] for e in listed] == ["bead.created", "bead.updated", "bead.status_changed", "bead.closed"]
    assert [e["event_type"] for e in project("events", "list", "--actor", "bob", "--json").json()] == [
        "bead.updated", "bead.status_changed"]
    assert len(project("events", "list", "--type", "bead.c*", "--json").json()) == 2
    assert project("events", "list", "--since", "1h", "--json").json() == listed
    assert project("events", "list", "--since", "2999-01-01", "--json").json() == []
    assert project("events", "list", "--since", "yesterdayish").exit_code == 2
    jsonl = project("events", "list", "--jsonl", "-n", "2").stdout.split("\n")[:-1]
    assert [json.loads(x)["event_type"] for x in jsonl] == ["bead.status_changed", "bead.closed"]
    replay = project("events", "replay", a, "--json").json()
    assert replay["state"]["status"] == "closed" and replay["state"]["close_reason"] == "done"
    stats = project("events", "stats", "--json").json()
    assert stats["total"] == 4 and stats["by_actor"] == {"tester": 2, "bob": 2}
    assert "bead.created" in project("events", "stats").stdout


def test_events_tail_prints_recent_then_follows(project, tmp_path):
    a = make(project, "A")
    recent = project("events", "tail", "--no-follow", "--json")
    assert [json.loads(x)["event_type"] for x in recent.stdout.split("\n")[:-1]] == ["bead.created"]

    from vermas.ledger.store import Ledger

    writer_done = threading.Event()

    def writer() -> None:
        ledger = Ledger.open(str(tmp_path / ".beads"))
        for n in range(3):
            with ledger.transaction("writer") as tx:
                tx.add_label(a, f"l{n}")
        ledger.close()
        writer_done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    result = project("events", "tail", "-n", "0", "--type", "label.*", "--max-events", "3", "--timeout", "30",
                     "--json")
    thread.join()
    assert result.exit_code == 0
    got = [json.loads(x) for x in result.stdout.split("\n")[:-1]]
    assert [(e["event_type"], e["data"]["label"]) for e in got] == [("label.added", f"l{n}") for n in range(3)]


def test_real_console_script_round_trip(tmp_path):
    env = {"BD_ACTOR": "proc"}
    assert run_vermas("init", "--prefix", "rp", cwd=str(tmp_path), env=env).returncode == 0
    made = run_vermas("create", "from a real process", "--json", cwd=str(tmp_path), env=env)
    assert made.returncode == 0, made.stderr
    issue = json.loads(made.stdout)
    shown = run_vermas("show", issue["id"], "--json", cwd=str(tmp_path), env=env)
    assert json.loads(shown.stdout)[0]["title"] == "from a real process"
    missing = run_vermas("show", "rp-zzz", cwd=str(tmp_path), env=env)
    assert missing.returncode == 3 and "rp-zzz" in missing.stderr
