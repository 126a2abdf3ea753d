"""vermas demo: the guided ledger walkthrough runs end to end and leaves a real ledger behind."""

from __future__ import annotations

import json


def test_demo_walks_through_the_ledger(cli, tmp_path):
    target = tmp_path / "walk"
    result = cli("demo", "--dir", str(target))
    assert result.exit_code == 0, result.stderr + result.stdout
    out = result.stdout
    for expected in ("$ vermas init --prefix demo", "Ready work", "would create a cycle", "(exit code 5)",
                     "History of", "no problems found", "Where to look:", str(target / ".beads" / "issues.jsonl")):
        assert expected in out, expected
    lines = (target / ".beads" / "issues.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    issues = [json.loads(x) for x in lines]
    assert len(issues) == 5 and [i["id"] for i in issues] == sorted(i["id"] for i in issues)
    assert any("\\u003cb\\u003e" in x for x in lines)  # Go-style escaping on disk
    assert sum(1 for i in issues if i["status"] == "closed") == 1
    again = cli("demo", "--dir", str(target))
    assert again.exit_code == 5


def test_demo_quiet_in_a_temp_dir(cli):
    result = cli("demo", "--quiet")
    assert result.exit_code == 0
    assert "$ vermas" not in result.stdout and "Where to look:" in result.stdout
