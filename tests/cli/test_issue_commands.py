"""Issue commands end to end through the CLI: shapes of --json, filters, exit codes for bad input."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import make

TITLES = ['Quote "double" and \'single\'', "two\nlines\tand tab", "unicode ✓ naïve 日本 🚀", "<b>bold</b> & <i>x</i>"]


def test_init_writes_bd_files_and_is_idempotent(cli, tmp_path):
    result = cli("init", "--prefix", "app-", "--json")
    assert result.exit_code == 0
    assert result.json()["prefix"] == "app"
    beads = tmp_path / ".beads"
    assert (beads / "issues.jsonl").read_text() == ""
    assert "issue-prefix: app" in (beads / "config.yaml").read_text()
    assert json.loads((beads / "metadata.json").read_text()) == {"database": "beads.db", "jsonl_export": "issues.jsonl"}
    assert "vermas-index.db" in (beads / ".gitignore").read_text()
    assert cli("init", "--prefix", "app").exit_code == 0
    clash = cli("init", "--prefix", "other")
    assert clash.exit_code == 5 and "issue-prefix: app" in clash.stderr


def test_init_guesses_the_prefix_from_the_directory(cli, tmp_path):
    (tmp_path / "My Project").mkdir()
    assert cli("init", "--json", cwd=str(tmp_path / "My Project")).json()["prefix"] == "my-project"


@pytest.mark.parametrize("title", TITLES)
def test_titles_round_trip_exactly_through_the_cli(project, title):
    created = project("create", title, "-d", title, "--json").json()
    shown = project("show", created["id"], "--json").json()[0]
    assert shown["title"] == title and shown["description"] == title
    listed = project("list", "--json").json()
    assert [i["title"] for i in listed] == [title]


def test_create_with_every_option_and_show_details_shape(project):
    blocker = make(project, "Blocker", "-p", "0")
    epic = make(project, "Epic", "--type", "epic")
    result = project("create", "Main work", "-d", "desc", "--type", "feature", "-p", "P1", "--parent", epic,
                     "--deps", f"blocks:{blocker},related:{epic}", "--deps", "external:other:cap",
                     "--labels", "b,a", "-l", "c", "--assignee", "alice", "--design", "des", "--acceptance", "acc",
                     "--notes", "n", "--external-ref", "gh-9", "--json")
    assert result.exit_code == 0, result.stderr
    issue = result.json()
    assert issue["id"] == f"{epic}.1" and issue["priority"] == 1 and issue["issue_type"] == "feature"
    assert issue["labels"] == ["a", "b", "c"] and issue["assignee"] == "alice"
    assert (issue["design"], issue["acceptance_criteria"], issue["notes"], issue["external_ref"]) == (
        "des", "acc", "n", "gh-9")
    deps = [(d["type"], d["depends_on_id"]) for d in issue["dependencies"]]
    assert deps == [("parent-child", epic), ("blocks", blocker), ("related", epic), ("blocks", "external:other:cap")]
    details = project("show", issue["id"], "--json").json()
    assert isinstance(details, list) and len(details) == 1
    d = details[0]
    assert d["parent"] == epic
    assert [(x["id"], x["dependency_type"]) for x in d["dependencies"]] == [
        (epic, "parent-child"), (blocker, "blocks"), (epic, "related")]
    assert d["dependencies"][1]["title"] == "Blocker" and "created_at" in d["dependencies"][1]
    key_order = list(d)
    assert key_order.index("labels") > key_order.index("updated_at")
    blocker_details = project("show", blocker, "--json").json()[0]
    assert [(x["id"], x["dependency_type"]) for x in blocker_details["dependents"]] == [(issue["id"], "blocks")]
    text = project("show", issue["id"])
    assert "DEPENDS ON" in text.stdout and "external:other:cap" in text.stdout and "Blocker" in text.stdout


def test_list_shape_and_filters(project):
    a = make(project, "A", "-p", "0", "--type", "bug", "-l", "x,y", "-a", "alice")
    b = make(project, "B", "-p", "3", "--deps", a)
    c = make(project, "C", "-p", "1")
    project("close", c)
    rows = project("list", "--json").json()
    assert {r["id"]: (r["dependency_count"], r["dependent_count"]) for r in rows} == {a: (0, 1), b: (1, 0), c: (0, 0)}
    ids = lambda *args: [r["id"] for r in project("list", *args, "--json").json()]  # noqa: E731
    assert ids("--status", "closed") == [c]
    assert sorted(ids("-s", "open,closed")) == sorted([a, b, c])
    assert ids("--type", "bug") == [a]
    assert ids("-p", "3") == [b]
    assert ids("--label", "x", "--label", "y") == [a]
    assert ids("--label-any", "y,zzz") == [a]
    assert ids("--assignee", "alice") == [a]
    assert sorted(ids("--unassigned")) == sorted([b, c])
    assert len(ids("--limit", "2")) == 2
    assert ids("--sort", "id") == sorted([a, b, c])


def test_ready_and_blocked_shapes(project):
    a = make(project, "A", "-p", "1")
    b = make(project, "B", "--deps", a)
    make(project, "Msg", "--type", "message")
    ready = project("ready", "--json").json()
    assert [r["id"] for r in ready] == [a]
    assert ready[0]["dependent_count"] == 1
    blocked = project("blocked", "--json").json()
    assert [(r["id"], r["blocked_by"], r["blocked_by_count"]) for r in blocked] == [(b, [a], 1)]
    project("update", a, "--status", "in_progress", "--assignee", "bob")
    assert [r["id"] for r in project("ready", "--assignee", "bob", "--json").json()] == [a]
    project("close", a, "--reason", "done")
    assert [r["id"] for r in project("ready", "--json").json()] == [b]
    assert project("blocked", "--json").json() == []
    assert "Ready work (1 issue)" in project("ready").stdout


def test_multiple_ids_for_show_update_close(project):
    ids = [make(project, f"i{n}") for n in range(3)]
    updated = project("update", *ids, "-p", "0", "--add-label", "hot", "--json").json()
    assert [(u["id"], u["priority"], u["labels"]) for u in updated] == [(i, 0, ["hot"]) for i in ids]
    closed = project("close", *ids[:2], "-r", "batch", "--json").json()
    assert [c["status"] for c in closed] == ["closed", "closed"]
    shown = project("show", *ids, "--json").json()
    assert [s["status"] for s in shown] == ["closed", "closed", "open"]
    again = project("close", ids[0])
    assert again.exit_code == 0 and "already closed" in again.stdout
    assert project("reopen", ids[0], "--json").json()[0]["status"] == "open"


def test_update_fields_claim_defer_and_reparent(project):
    a = make(project, "A")
    epic = make(project, "Epic", "--type", "epic")
    result = project("update", a, "--title", "A2", "-d", "new desc", "--notes", "nn", "--type", "bug",
                     "--defer", "2h", "--parent", epic, "--json")
    assert result.exit_code == 0, result.stderr
    issue = result.json()[0]
    got = (issue["title"], issue["description"], issue["notes"], issue["issue_type"])
    assert got == ("A2", "new desc", "nn", "bug")
    assert "defer_until" in issue and [d["type"] for d in issue["dependencies"]] == ["parent-child"]
    assert a not in [r["id"] for r in project("ready", "--limit", "0", "--json").json()]  # deferred
    assert project("update", a, "--defer", "", "--json").json()[0].get("defer_until") is None
    claimed = project("update", a, "--claim", "--json").json()[0]
    assert claimed["assignee"] == "tester" and claimed["status"] == "in_progress"
    other = project("update", a, "--claim", "--actor", "someone-else")
    assert other.exit_code == 5 and "already claimed by tester" in other.stderr
    assert project("update", a).exit_code == 2  # nothing to update


@pytest.mark.parametrize("argv", [
    ("create", "x", "-p", "9"), ("create", "x", "-p", "high"), ("create", "x", "--type", "storyy"),
    ("create", "x", "--status", "doing"), ("list", "--status", "bogus"), ("list", "-p", "7"),
    ("list", "--type", "nope"), ("ready", "--type", "nope"), ("ready", "-p", "-1"),
    ("create", "x", "--deps", "blockz:app-1"), ("create", "x", "--deps", ":app-1"), ("create",),
    ("dep", "add", "a", "b", "--type", "blocking"), ("list", "--limit", "-3"), ("create", "x", "--bogus-flag"),
])
def test_invalid_values_on_the_command_line_exit_2(project, argv):
    result = project(*argv)
    assert result.exit_code == 2, (argv, result.stderr)
    assert result.stderr.startswith("vermas: error: ")


def test_update_with_invalid_status_exits_2_and_changes_nothing(project, tmp_path):
    a = make(project, "A")
    before = (tmp_path / ".beads" / "issues.jsonl").read_bytes()
    result = project("update", a, "--status", "doing")
    assert result.exit_code == 2 and "expected one of" in result.stderr
    assert project("update", a, "--status", "tombstone").exit_code == 2
    assert (tmp_path / ".beads" / "issues.jsonl").read_bytes() == before


def test_custom_statuses_and_types_when_configured(project, tmp_path):
    config = tmp_path / ".beads" / "config.yaml"
    config.write_text(config.read_text() + 'status:\n  custom: "review, qa"\ntypes.custom: spike\n')
    a = make(project, "A", "--type", "spike")
    assert project("update", a, "--status", "review").exit_code == 0
    assert project("list", "--status", "review", "--json").json()[0]["id"] == a


@pytest.mark.parametrize("argv", [
    ("show", "app-nope"), ("update", "app-nope", "-p", "1"), ("close", "app-nope"), ("reopen", "app-nope"),
    ("delete", "app-nope"), ("dep", "add", "app-nope", "app-zzz"), ("label", "add", "app-nope", "x"),
    ("comment", "add", "app-nope", "hi"), ("dep", "tree", "app-nope"), ("create", "x", "--deps", "app-nope"),
    ("create", "x", "--parent", "app-nope"), ("events", "replay", "app-nope"), ("comment", "list", "app-nope"),
])
def test_unknown_ids_exit_3(project, argv):
    make(project, "exists")
    result = project(*argv)
    assert result.exit_code == 3, (argv, result.stderr)
    assert "app-nope" in result.stderr


def test_show_prints_found_issues_then_fails_for_missing(project):
    a = make(project, "A")
    result = project("show", a, "app-missing", "--json")
    assert result.exit_code == 3
    assert [d["id"] for d in json.loads(result.stdout)] == [a]


def test_dependency_cycle_exits_5_naming_the_cycle(project, tmp_path):
    a, b, c = (make(project, x) for x in "ABC")
    assert project("dep", "add", b, a).exit_code == 0
    assert project("dep", "add", c, b).exit_code == 0
    before = (tmp_path / ".beads" / "issues.jsonl").read_bytes()
    result = project("dep", "add", a, c)
    assert result.exit_code == 5
    assert f"{a} → {c} → {b} → {a}" in result.stderr
    assert (tmp_path / ".beads" / "issues.jsonl").read_bytes() == before
    assert project("dep", "add", a, a).exit_code == 5  # self-dependency
    assert project("dep", "add", a, c, "--type", "related").exit_code == 0  # non-blocking edges may loop


def test_dep_tree_list_remove_and_cycles(project, tmp_path):
    a, b, c = (make(project, x) for x in "ABC")
    project("dep", "add", b, a)
    project("dep", "add", c, b)
    tree = project("dep", "tree", c, "--json").json()
    assert [(n["id"], n["depth"], n["dependency_type"]) for n in tree] == [(c, 0, None), (b, 1, "blocks"),
                                                                          (a, 2, "blocks")]
    up = project("dep", "tree", a, "--reverse", "--json").json()
    assert [n["id"] for n in up] == [a, b, c]
    listed = project("dep", "list", b, "--json").json()
    assert [d["id"] for d in listed["dependencies"]] == [a] and [d["id"] for d in listed["dependents"]] == [c]
    assert project("dep", "cycles", "--json").json() == []
    # a cycle written by another tool is found
    lines = (tmp_path / ".beads" / "issues.jsonl").read_text().split("\n")[:-1]
    patched = []
    for line in lines:
        obj = json.loads(line)
        if obj["id"] == a:
            obj["dependencies"] = [{"issue_id": a, "depends_on_id": c, "type": "blocks",
                                    "created_at": obj["created_at"]}]
        patched.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    (tmp_path / ".beads" / "issues.jsonl").write_text("\n".join(patched) + "\n")
    cycles = project("dep", "cycles", "--json").json()
    assert cycles == [[min(a, b, c), *cycles[0][1:-1], min(a, b, c)]] and len(cycles[0]) == 4
    assert project("dep", "remove", c, b).exit_code == 0
    assert project("dep", "cycles", "--json").json() == []
    assert project("dep", "remove", c, b).exit_code == 3


def test_labels_and_comments(project):
    a, b = make(project, "A"), make(project, "B")
    assert project("label", "add", a, b, "urgent").exit_code == 0
    assert project("label", "list", a, "--json").json() == ["urgent"]
    assert project("label", "list-all", "--json").json() == [{"label": "urgent", "count": 2}]
    assert project("label", "remove", a, "urgent").exit_code == 0
    assert project("label", "list", a, "--json").json() == []
    text = 'She said "stop"; $(touch /tmp/pwned) `id` <&>\nsecond line'
    comment = project("comment", "add", a, text, "--json").json()
    assert set(comment) == {"id", "issue_id", "author", "text", "created_at"} and comment["author"] == "tester"
    project("comment", "add", a, "-f", "-", stdin="from stdin\n")
    listed = project("comment", "list", a, "--json").json()
    assert [c["text"] for c in listed] == [text, "from stdin\n"]
    assert project("comment", "add", a, "   ").exit_code == 2


def test_delete_leaves_a_tombstone_hidden_from_lists(project, tmp_path):
    a = make(project, "A")
    assert project("delete", a, "--reason", "dup").exit_code == 0
    assert project("list", "--json").json() == []
    assert [i["status"] for i in project("list", "--all", "--json").json()] == ["tombstone"]
    assert a in (tmp_path / ".beads" / "issues.jsonl").read_text()
    assert project("close", a).exit_code == 5


def test_malformed_line_reports_file_and_line_and_changes_nothing(project, tmp_path):
    make(project, "A")
    path = tmp_path / ".beads" / "issues.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("{not json}\n")
    before = path.read_bytes()
    for argv in (("list",), ("create", "B"), ("ready", "--json")):
        result = project(*argv)
        assert result.exit_code == 1
        assert f"{path}:2: malformed JSON" in result.stderr
    assert path.read_bytes() == before


def test_no_ledger_is_a_clear_not_found(cli):
    result = cli("list")
    assert result.exit_code == 3
    assert "no .beads directory" in result.stderr and "vermas init" in result.stderr


def test_actor_resolution_order(project, monkeypatch):
    assert project("create", "a", "--json").json()["created_by"] == "tester"
    assert project("create", "b", "--actor", "flag-actor", "--json").json()["created_by"] == "flag-actor"
    assert project("--actor", "global", "create", "c", "--json").json()["created_by"] == "global"
    env = {"BD_ACTOR": ""}
    assert project("create", "d", "--json", env=env).json()["created_by"] == "VerMAS Test"  # git user.name


@pytest.mark.parametrize("command", ["init", "create", "show", "list", "update", "close", "reopen", "delete", "ready",
                                     "blocked", "dep", "label", "comment", "stats", "export", "import", "doctor",
                                     "sync", "events", "demo"])
def test_every_command_has_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "usage: vermas" in result.stdout and len(result.stdout) > 200
