"""vermas sync with two real clones of a bare remote: commits, pulls, merges conflicting ledgers, pushes."""

from __future__ import annotations

import json
import subprocess

from tests.cli.conftest import make


def git(cwd, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _issues(clone) -> dict[str, dict]:
    with open(clone / ".beads" / "issues.jsonl", encoding="utf-8") as fh:
        return {json.loads(x)["id"]: json.loads(x) for x in fh}


def test_two_clones_merge_conflicting_ledgers_issue_by_issue(cli, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--bare", "-q", str(remote))
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    (a / "README.md").write_text("project\n")
    git(a, "add", "README.md")
    git(a, "commit", "-q", "-m", "initial")
    assert cli("init", "--prefix", "app", "--quiet", cwd=str(a)).exit_code == 0
    shared = make(cli, "shared issue", cwd=str(a))
    first = cli("sync", "--json", cwd=str(a))
    assert first.exit_code == 0, first.stderr
    assert first.json()["committed"] and first.json()["pushed"]
    assert "vermas-index.db" not in git(a, "ls-files")  # local files stay out of git

    git(tmp_path, "clone", "-q", str(remote), str(b))
    assert [i["id"] for i in cli("list", "--json", cwd=str(b)).json()] == [shared]

    # A and B change the same issue and each add one; A pushes first, B's change is newer.
    only_a = make(cli, "only in A", cwd=str(a))
    assert cli("update", shared, "--title", "A's title", "--actor", "alice", cwd=str(a)).exit_code == 0
    assert cli("sync", cwd=str(a)).exit_code == 0
    only_b = make(cli, "only in B", cwd=str(b))
    assert cli("update", shared, "--title", "B's title", "-p", "0", "--actor", "bob", cwd=str(b)).exit_code == 0
    merged = cli("sync", "--json", cwd=str(b))
    assert merged.exit_code == 0, merged.stderr
    result = merged.json()
    assert result["pulled"] and result["pushed"]
    files = {m["file"] for m in result["merged"]}
    assert ".beads/issues.jsonl" in files and ".beads/events.jsonl" in files
    issues_b = _issues(b)
    assert set(issues_b) == {shared, only_a, only_b}  # nothing dropped
    assert issues_b[shared]["title"] == "B's title" and issues_b[shared]["priority"] == 0  # newest wins
    assert list(issues_b) == sorted(issues_b)

    assert cli("sync", cwd=str(a)).exit_code == 0
    assert _issues(a) == issues_b
    listed = {i["id"]: i["title"] for i in cli("list", "--json", cwd=str(a)).json()}  # index rebuilt after pull
    assert listed[shared] == "B's title" and only_b in listed
    actors = {e["actor"] for e in cli("events", "list", "-n", "0", "--json", cwd=str(a)).json()}
    assert {"alice", "bob"} <= actors  # both logs survived the merge
    assert git(a, "status", "--porcelain", "--", ".beads") == ""
    assert git(a, "rev-parse", "HEAD") == git(b, "rev-parse", "HEAD")


def test_conflict_outside_the_ledger_undoes_the_pull(cli, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--bare", "-q", str(remote))
    a, b = tmp_path / "a", tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(a))
    assert cli("init", "--prefix", "app", "--quiet", cwd=str(a)).exit_code == 0
    (a / "notes.txt").write_text("base\n")
    git(a, "add", "notes.txt")
    git(a, "commit", "-q", "-m", "notes")
    assert cli("sync", cwd=str(a)).exit_code == 0
    git(tmp_path, "clone", "-q", str(remote), str(b))
    (a / "notes.txt").write_text("from a\n")
    git(a, "commit", "-q", "-am", "a edits notes")
    assert cli("sync", cwd=str(a)).exit_code == 0
    (b / "notes.txt").write_text("from b\n")
    git(b, "commit", "-q", "-am", "b edits notes")
    make(cli, "b's issue", cwd=str(b))
    head = git(b, "rev-parse", "HEAD")
    result = cli("sync", cwd=str(b))
    assert result.exit_code == 5 and "notes.txt" in result.stderr
    assert (b / "notes.txt").read_text() == "from b\n"
    assert git(b, "status", "--porcelain") == ""  # the rebase was aborted; the ledger commit is kept
    assert git(b, "rev-parse", "HEAD~1") == head
    assert len(cli("list", "--json", cwd=str(b)).json()) == 1


def test_sync_without_remote_commits_and_outside_git_fails(cli, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    assert cli("init", "--prefix", "app", "--quiet", cwd=str(repo)).exit_code == 0
    make(cli, "local", cwd=str(repo))
    result = cli("sync", cwd=str(repo))
    assert result.exit_code == 0 and "no git remote" in result.stdout
    assert "vermas sync" in git(repo, "log", "-1", "--format=%s")
    assert cli("sync", "--json", cwd=str(repo)).json()["committed"] is False
    plain = tmp_path / "plain"
    plain.mkdir()
    assert cli("init", "--prefix", "p", "--quiet", cwd=str(plain)).exit_code == 0
    outside = cli("sync", cwd=str(plain))
    assert outside.exit_code == 1 and "git init" in outside.stderr
