from __future__ import annotations

import json
import os

from tests.town.conftest import git, make_repo


def test_install_is_idempotent_and_refuses_foreign_dirs(cli, tmp_path):
    r = cli("install", "town", "--json")
    assert r.exit_code == 0, r.stderr
    first = r.json()
    root = first["town"]
    assert "mayor/town.json" in first["created"]
    assert os.path.isfile(os.path.join(root, ".beads", "issues.jsonl"))
    with open(os.path.join(root, ".beads", "routes.jsonl")) as fh:
        assert json.loads(fh.read().splitlines()[0]) == {"prefix": "hq-", "path": "."}
    with open(os.path.join(root, ".beads", "config.yaml")) as fh:
        assert "issue-prefix: hq" in fh.read()
    again = cli("install", "town", "--json")
    assert again.exit_code == 0 and again.json()["created"] == []
    os.remove(os.path.join(root, "settings", "config.json"))
    repaired = cli("install", "town", "--json").json()
    assert repaired["created"] == ["settings/config.json"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    r = cli("install", str(foreign))
    assert r.exit_code == 5 and "not empty" in r.stderr
    assert sorted(os.listdir(foreign)) == ["notes.txt"]


def test_commands_find_the_town_by_flag_env_or_cwd(cli, town_root, rig):
    assert cli("--town", town_root, "rig", "list", "--json").json()[0]["name"] == "app"
    assert cli("rig", "list", "--json", env={"VERMAS_TOWN": town_root}).json()[0]["name"] == "app"
    assert cli("rig", "list", "--json", cwd=os.path.join(town_root, "app", "polecats")).json()[0]["name"] == "app"
    r = cli("rig", "list")
    assert r.exit_code == 3 and "no town found" in r.stderr


def test_config_layers_report_their_source(tcli, town_root, rig, monkeypatch):
    assert tcli("config", "get", "polecats.max", "--json").json() == {
        "key": "polecats.max", "value": 5, "source": "default"}
    assert tcli("config", "set", "polecats.max", "4").exit_code == 0
    assert tcli("config", "get", "polecats.max", "--json").json()["source"] == "town"
    assert tcli("config", "set", "polecats.max", "3", "--rig", "app").exit_code == 0
    got = tcli("config", "get", "polecats.max", "--rig", "app", "--json").json()
    assert (got["value"], got["source"]) == (3, "rig")
    assert tcli("config", "get", "polecats.max", "--json").json()["value"] == 4
    env_got = tcli("config", "get", "polecats.max", "--rig", "app", "--json", env={"VERMAS_POLECATS_MAX": "9"})
    assert env_got.json() == {"key": "polecats.max", "value": 9, "source": "env"}
    user_dir = os.path.join(os.environ["XDG_CONFIG_HOME"], "vermas")
    os.makedirs(user_dir)
    with open(os.path.join(user_dir, "config.toml"), "w") as fh:
        fh.write('[gates]\ntest = "pytest -q"\n')
    shown = {r["key"]: r for r in tcli("config", "show", "--json").json()}
    assert shown["gates.test"]["value"] == "pytest -q" and shown["gates.test"]["source"] == "user"
    assert tcli("config", "set", "polecats.max", "many").exit_code == 2
    assert tcli("config", "get", "no.such.key").exit_code == 2
    assert tcli("config", "get", "polecats.max", "--rig", "ghost").exit_code == 3
    assert tcli("config", "unset", "polecats.max", "--rig", "app").exit_code == 0
    assert tcli("config", "get", "polecats.max", "--rig", "app", "--json").json()["source"] == "town"


def test_rig_add_list_status_remove(tcli, town_root, tmp_path):
    repo = make_repo(str(tmp_path / "web-src"))
    added = tcli("rig", "add", "web", repo, "--json")
    assert added.exit_code == 0, added.stderr
    info = added.json()
    assert info["beads"]["prefix"] == "we" and info["default_branch"] == "main"
    assert os.path.isdir(os.path.join(town_root, "web", ".repo.git"))
    assert git("rev-parse", "--is-bare-repository", cwd=os.path.join(town_root, "web", ".repo.git")) == "true"
    assert tcli("rig", "add", "web", repo).exit_code == 5
    assert tcli("rig", "add", "other", str(tmp_path / "missing")).exit_code == 3
    url = tcli("rig", "add", "byurl", "file://" + repo, "--prefix", "bu", "--json")
    assert url.exit_code == 0, url.stderr
    rows = {r["name"]: r for r in tcli("rig", "list", "--json").json()}
    assert set(rows) == {"web", "byurl"} and rows["web"]["busy"] == 0 and rows["web"]["max_polecats"] == 5
    status = tcli("rig", "status", "web", "--json").json()
    assert {a["address"] for a in status["agents"]} == {"web/witness", "web/refinery"}
    assert tcli("rig", "status", "ghost").exit_code == 3
    assert tcli("rig", "remove", "byurl").exit_code == 0
    assert not os.path.exists(os.path.join(town_root, "byurl"))
    assert [r["name"] for r in tcli("rig", "list", "--json").json()] == ["web"]


def test_crew_clone_list_remove(tcli, town_root, rig):
    r = tcli("crew", "add", "ann", "--rig", "app", "--json")
    assert r.exit_code == 0, r.stderr
    path = r.json()["path"]
    assert os.path.isfile(os.path.join(path, "calc.py"))
    assert tcli("crew", "add", "ann", "--rig", "app").exit_code == 5
    assert [m["address"] for m in tcli("crew", "list", "--json").json()] == ["app/crew/ann"]
    with open(os.path.join(path, "calc.py"), "a") as fh:
        fh.write("# wip\n")
    refused = tcli("crew", "remove", "ann", "--rig", "app")
    assert refused.exit_code == 5 and "uncommitted" in refused.stderr
    assert tcli("crew", "remove", "ann", "--rig", "app", "--force").exit_code == 0
    assert tcli("crew", "list", "--rig", "app", "--json").json() == []
    assert tcli("crew", "remove", "bob", "--rig", "app").exit_code == 3


def test_status_and_agents_json(tcli, town_root, rig):
    data = tcli("status", "--json").json()
    assert data["town"]["root"] == town_root
    assert [r["name"] for r in data["rigs"]] == ["app"]
    assert {a["address"] for a in data["agents"]} >= {"mayor", "deacon", "app/witness", "app/refinery"}
    assert all(a["running"] is False for a in data["agents"])
    assert tcli("agents", "--rig", "app", "--json").exit_code == 0
    assert tcli("agents", "--running", "--json").json() == []
    text = tcli("status")
    assert text.exit_code == 0 and "rig app (ap-)" in text.stdout
