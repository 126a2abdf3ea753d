"""doctor: finds problems in real and damaged ledgers; --fix repairs only what is safe, losing nothing."""

from __future__ import annotations

import json
import os

from tests.ledger.conftest import JSONL_FIXTURES, read_bytes, read_text
from vermas.ledger import codec, doctor
from vermas.ledger.store import Ledger


def _checks(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for finding in report.findings:
        out.setdefault(finding.check, []).append(finding)
    return out


def test_clean_ledger_has_no_findings(ledger):
    with ledger.transaction("me") as tx:
        a = tx.create("a")["id"]
        tx.create("b", deps=[("blocks", a)])
    report, _ = doctor.diagnose(ledger.dir)
    assert report.findings == [] and report.errors == 0


def test_malformed_and_duplicate_lines_are_quarantined_verbatim(ledger):
    with ledger.transaction("me") as tx:
        a = tx.create("a")
        b = tx.create("b")
    older = dict(a, title="older copy", updated_at="2020-01-01T00:00:00Z")
    garbage = '{"id":"t-zzz","title": nope'
    with open(ledger.issues_path, "a", encoding="utf-8") as fh:
        fh.write(garbage + "\n" + codec.encode_issue(older) + "\n" + "[1,2,3]\n")
    report, _ = doctor.diagnose(ledger.dir)
    found = _checks(report)
    assert len(found["malformed-lines"][0].items) == 2
    assert found["malformed-lines"][0].items[0].startswith(f"{ledger.issues_path}:3: ")
    assert found["duplicate-ids"][0].items == [f"{a['id']}: lines {1 if a['id'] < b['id'] else 2}, 4"]
    assert report.errors == 2

    fixed = doctor.fix(ledger.dir)
    assert fixed.errors == 0
    side = read_text(ledger.issues_path + doctor.QUARANTINE_SUFFIX)
    assert garbage in side and "[1,2,3]" in side and codec.encode_issue(older) in side
    reopened = Ledger.open(ledger.dir)
    assert reopened.get(a["id"])["title"] == "a"  # the newer copy kept
    assert reopened.exists(b["id"])


def test_fix_fills_missing_timestamps_and_leaves_other_inconsistencies(tmp_path):
    beads = tmp_path / ".beads"
    beads.mkdir()
    base = {"priority": 2, "issue_type": "task", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z"}
    lines = [
        {"id": "x-1", "title": "tomb", "status": "tombstone", **base},
        {"id": "x-2", "title": "closed", "status": "closed", **base},
        {"id": "x-3", "title": "live but deleted_at", "status": "closed", "closed_at": "2026-01-02T00:00:00Z",
         "deleted_at": "2026-01-02T00:00:00Z", **base},
        {"id": "x-4", "title": "open with closed_at", "status": "open", "closed_at": "2026-01-02T00:00:00Z", **base},
    ]
    (beads / "issues.jsonl").write_text("".join(codec.encode_issue(codec.canonical(x)) + "\n" for x in lines))
    (beads / "config.yaml").write_text("issue-prefix: x\n")
    report = doctor.fix(str(beads))
    issues = {json.loads(x)["id"]: json.loads(x) for x in read_text(beads / "issues.jsonl").split("\n")[:-1]}
    assert issues["x-1"]["deleted_at"] == "2026-01-02T00:00:00Z"
    assert issues["x-2"]["closed_at"] == "2026-01-02T00:00:00Z"
    assert issues["x-3"]["deleted_at"] and issues["x-4"]["closed_at"]  # reported, not changed
    messages = " ".join(f.message for f in report.findings if not f.fixed)
    assert "closed_at" in messages and "inconsistenc" in messages


def test_cycles_dangling_deps_and_prefix_mismatch_are_reported(ledger, tmp_path):
    with ledger.transaction("me") as tx:
        a = tx.create("a")["id"]
        b = tx.create("b", deps=[("blocks", a)])["id"]
        tx.put(dict(ledger.get(a), dependencies=[{"issue_id": a, "depends_on_id": b, "type": "blocks",
                                                  "created_at": "2026-01-01T00:00:00Z"},
                                                 {"issue_id": a, "depends_on_id": "t-ghost", "type": "blocks",
                                                  "created_at": "2026-01-01T00:00:00Z"},
                                                 {"issue_id": a, "depends_on_id": "external:p:cap", "type": "blocks",
                                                  "created_at": "2026-01-01T00:00:00Z"}]))
        tx.create("foreign", issue_id="other-1")
    report, _ = doctor.diagnose(ledger.dir)
    found = _checks(report)
    assert found["cycles"][0].items == [f"{min(a, b)} → {max(a, b)} → {min(a, b)}"]
    assert found["dangling-deps"][0].items == [f"{a} → t-ghost (blocks)"]
    assert found["prefix-mismatch"][0].items == ["other-1"]
    assert report.errors == 1  # the cycle; nothing to fix automatically
    before = read_bytes(ledger.issues_path)
    doctor.fix(ledger.dir)
    assert read_bytes(ledger.issues_path) == before


def test_fix_resorts_and_removes_dead_temp_files_and_damaged_index(ledger):
    with ledger.transaction("me") as tx:
        for n in range(3):
            tx.create(f"i{n}")
    lines = read_text(ledger.issues_path).split("\n")[:-1]
    with open(ledger.issues_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(reversed(lines)))  # unsorted and no final newline
    stray = os.path.join(ledger.dir, ".issues.jsonl.tmp.999999")
    with open(stray, "w") as fh:
        fh.write("partial")
    ledger.close()
    with open(os.path.join(ledger.dir, "vermas-index.db"), "r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff" * 4000)
    report, _ = doctor.diagnose(ledger.dir)
    assert {"unsorted", "files", "index"} <= set(_checks(report))
    fixed = doctor.fix(ledger.dir)
    assert not os.path.exists(stray)
    assert read_text(ledger.issues_path) == "".join(line + "\n" for line in lines)
    assert Ledger.open(ledger.dir).conn.execute("SELECT count(*) FROM issues").fetchone()[0] == 3
    assert {f.check for f in fixed.findings if f.fixed} >= {"unsorted", "files", "index"}


def test_real_fixtures_are_diagnosed_without_errors_except_known_ones(tmp_path):
    for n, fixture in enumerate(JSONL_FIXTURES):
        work = tmp_path / f"f{n}"
        work.mkdir()
        beads = work / ".beads"
        beads.mkdir()
        (beads / "issues.jsonl").write_bytes(read_bytes(fixture))
        report, _ = doctor.diagnose(str(beads))
        checks = _checks(report)
        assert "malformed-lines" not in checks and "duplicate-ids" not in checks, fixture
        if "gastown__issues" in fixture:
            assert checks["tombstones"]  # the 61 closed issues that carry deleted_at
            assert checks["unsorted"]
