from __future__ import annotations

import os

import pytest

from vermas.errors import UsageError
from vermas.town import identity
from vermas.town.identity import Agent


@pytest.mark.parametrize(("text", "address", "mail_identity", "hook", "session"), [
    ("mayor", "mayor", "mayor/", ".hook-mayor", "vm-mayor"),
    ("mayor/", "mayor", "mayor/", ".hook-mayor", "vm-mayor"),
    ("deacon", "deacon", "deacon/", ".hook-deacon", "vm-deacon"),
    ("app/witness", "app/witness", "app/witness", ".hook-app-witness", "vm-app-witness"),
    ("app/refinery", "app/refinery", "app/refinery", ".hook-app-refinery", "vm-app-refinery"),
    ("app/polecats/nux", "app/polecats/nux", "app/nux", ".hook-app-polecats-nux", "vm-app-nux"),
    ("app/crew/ann", "app/crew/ann", "app/ann", ".hook-app-crew-ann", "vm-app-crew-ann"),
])
def test_address_forms(text, address, mail_identity, hook, session):
    agent = identity.parse_address(text)
    assert agent.address == address
    assert agent.mail_identity == mail_identity
    assert agent.hook_file == hook
    assert agent.session == session


@pytest.mark.parametrize("bad", ["", "app", "app/polecats", "app/polecats/", "app/bogus/x", "a/b/c/d",
                                 "app/polecats/.x"])
def test_bad_addresses_are_usage_errors(bad):
    with pytest.raises(UsageError):
        identity.parse_address(bad)


def test_from_environ_prefers_bd_actor_then_gt_vars():
    assert identity.from_environ({"BD_ACTOR": "app/polecats/nux"}) == Agent("polecat", "app", "nux")
    assert identity.from_environ({"GT_ROLE": "polecat", "GT_RIG": "app", "GT_POLECAT": "slit"}) == \
        Agent("polecat", "app", "slit")
    assert identity.from_environ({"GT_ROLE": "app/witness"}) == Agent("witness", "app")
    assert identity.from_environ({"GT_ROLE": "mayor"}) == Agent("mayor")
    assert identity.from_environ({"BD_ACTOR": "alice"}) is None
    assert identity.from_environ({}) is None


def test_from_cwd_detects_role_by_directory(tmp_path):
    town = str(tmp_path)
    assert identity.from_cwd(town, os.path.join(town, "mayor")) == Agent("mayor")
    assert identity.from_cwd(town, os.path.join(town, "app", "polecats", "nux", "app", "src")) == \
        Agent("polecat", "app", "nux")
    assert identity.from_cwd(town, os.path.join(town, "app", "crew", "ann")) == Agent("crew", "app", "ann")
    assert identity.from_cwd(town, os.path.join(town, "app", "witness")) == Agent("witness", "app")
    assert identity.from_cwd(town, town) is None
    assert identity.from_cwd(town, str(tmp_path.parent)) is None


def test_session_env_carries_identity(tmp_path):
    env = identity.session_env(str(tmp_path), Agent("polecat", "app", "nux"), bead="ap-1", runtime="sim")
    assert env["BD_ACTOR"] == "app/polecats/nux"
    assert env["GT_ROLE"] == "app/polecats/nux" and env["VERMAS_ROLE"] == "polecat"
    assert env["GT_RIG"] == "app"
    assert env["GT_POLECAT"] == "nux"
    assert env["BEAD_ID"] == "ap-1"
    assert env["VERMAS_TOWN"] == str(tmp_path)
    assert env["BEADS_DIR"] == os.path.join(str(tmp_path), "app", ".beads")
