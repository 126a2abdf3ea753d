from __future__ import annotations

import json
import os

import pytest

from tests.conftest import run_vermas


@pytest.fixture
def crew_town(tcli, town_root, rig):
    for name in ("nux", "slit"):
        os.makedirs(os.path.join(town_root, rig, "polecats", name))
    return town_root


def test_send_inbox_read_reply_thread_archive(tcli, crew_town):
    nux = {"BD_ACTOR": "app/polecats/nux"}
    sent = tcli("mail", "send", "app/polecats/nux", "-s", "Question", "-m", "why $(rm -rf /); \"quoted\"\nline2",
                "--json")
    assert sent.exit_code == 0, sent.stderr
    [msg] = sent.json()
    assert msg["from"] == "overseer" and msg["body"] == "why $(rm -rf /); \"quoted\"\nline2"
    inbox = tcli("mail", "inbox", "--json", env=nux).json()
    assert [m["id"] for m in inbox] == [msg["id"]] and inbox[0]["read"] is False
    text = tcli("mail", "inbox", env=nux).stdout
    assert "1 unread" in text and "Question" in text
    read = tcli("mail", "read", msg["id"], env=nux)
    assert read.exit_code == 0 and "why $(rm -rf /);" in read.stdout
    assert tcli("mail", "inbox", "--unread", "--json", env=nux).json() == []
    reply = tcli("mail", "reply", msg["id"], "-m", "because", "--json", env=nux).json()[0]
    assert reply["to"] == "overseer" and reply["subject"] == "Re: Question"
    thread = tcli("mail", "thread", msg["id"], "--json").json()
    assert [m["id"] for m in thread] == [msg["id"], reply["id"]]
    assert [m["id"] for m in tcli("mail", "inbox", "--json").json()] == [reply["id"]]
    assert tcli("mail", "archive", msg["id"], env=nux).exit_code == 0
    assert tcli("mail", "inbox", "--json", env=nux).json() == []
    assert len(tcli("mail", "inbox", "--all", "--json", env=nux).json()) == 1


def test_patterns_and_unknown_recipients(tcli, crew_town):
    r = tcli("mail", "send", "app/polecats/*", "-s", "Freeze", "--priority", "urgent", "--json")
    assert r.exit_code == 0 and sorted(m["to"] for m in r.json()) == ["app/polecats/nux", "app/polecats/slit"]
    assert tcli("mail", "send", "app/polecats/ghost", "-s", "x").exit_code == 3
    assert tcli("mail", "send", "nowhere/witness", "-s", "x").exit_code == 3
    assert tcli("mail", "send", "no such thing", "-s", "x").exit_code == 2
    assert tcli("mail", "send", "mayor", "-s", "x", "--priority", "sometime").exit_code == 2
    assert tcli("mail", "read", "hq-nosuch").exit_code == 3
    assert tcli("mail", "send", "--help").exit_code == 0
    assert "ADDRESS" in tcli("mail", "send", "--help").stdout


def test_check_inject_announces_new_mail_once(tcli, crew_town, tmp_path):
    session_env = {"BD_ACTOR": "app/polecats/nux", "VERMAS_SESSION": "vm-app-nux",
                   "VERMAS_RUNTIME_DIR": str(tmp_path / "rt"), "VERMAS_TOWN": crew_town}
    tcli("mail", "send", "app/polecats/nux", "-s", "Rework ap-1", "-m", "check 15 first")
    hook_input = json.dumps({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "go"})
    first = run_vermas("mail", "check", "--inject", cwd=crew_town, env=session_env, input=hook_input)
    assert first.returncode == 0, first.stderr
    assert "<system-reminder>" in first.stdout and "Rework ap-1" in first.stdout
    again = run_vermas("mail", "check", "--inject", cwd=crew_town, env=session_env, input=hook_input)
    assert again.returncode == 0 and "Rework ap-1" not in again.stdout
    status = tcli("mail", "check", "--json", env=session_env).json()
    assert status["unread_mail"] == 1 and status["agent"] == "app/polecats/nux"
    activity = json.loads((tmp_path / "rt" / "activity" / "vm-app-nux.json").read_text())
    assert activity["state"] == "busy" and activity["prompts"] == 2


def test_convoy_cli(tcli, town_root, rig):
    from tests.town.conftest import create_bead

    a, b = create_bead(town_root, rig, "A"), create_bead(town_root, rig, "B")
    made = tcli("convoy", "create", "Pair", a, b, "--owner", "mayor", "--json")
    assert made.exit_code == 0, made.stderr
    convoy = made.json()["id"]
    assert tcli("convoy", "status", convoy, "--json").json()["total"] == 2
    assert tcli("convoy", "land", convoy).exit_code == 5
    assert tcli("convoy", "land", convoy, "--force").exit_code == 2
    assert tcli("close", a, b, "--rig", rig).exit_code == 0
    listed = tcli("convoy", "list", "--json").json()  # lands the complete convoy
    assert listed == []
    assert tcli("convoy", "status", convoy, "--json").json()["status"] == "closed"
    assert tcli("convoy", "status", "hq-cv-zzzzz").exit_code == 3
    assert tcli("convoy", "create", "X", "ap-zzzzzz").exit_code == 3
