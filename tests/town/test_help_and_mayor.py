from __future__ import annotations

import os

import pytest

TOWN_COMMANDS = ["install", "config", "rig", "crew", "mayor", "status", "agents", "sling", "hook", "prime", "done",
                 "handoff", "polecat", "convoy", "mail", "demo"]


@pytest.mark.parametrize("command", TOWN_COMMANDS)
def test_every_town_command_has_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0, result.stderr
    assert "usage: vermas" in result.stdout and "example" in result.stdout


@pytest.mark.parametrize(("command", "sub"), [("rig", "add"), ("crew", "add"), ("mayor", "start"),
                                               ("polecat", "restart"), ("convoy", "create"), ("config", "set"),
                                               ("mail", "reply"), ("mail", "check")])
def test_subcommands_have_help(cli, command, sub):
    result = cli(command, sub, "--help")
    assert result.exit_code == 0 and f"usage: vermas {command} {sub}" in result.stdout


def test_mayor_start_status_stop(tcli, town_root, idle_rig):
    r = tcli("mayor", "start", "--runtime", "sim", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["session"] == "vm-mayor"
    with open(os.path.join(town_root, "mayor", "CLAUDE.md")) as fh:
        assert "You are the mayor" in fh.read()  # role text for the runtime's instructions file
    assert tcli("mayor", "status", "--json").json()["running"] is True
    assert tcli("mayor", "start").exit_code == 5
    assert "mayor" in [a["address"] for a in tcli("agents", "--running", "--json").json()]
    assert tcli("mayor", "stop", "--json").json() == {"stopped": True}
    assert tcli("mayor", "status", "--json").json()["running"] is False
    assert tcli("mayor", "attach").stdout.startswith("not a terminal")  # started, but no tty to attach here
