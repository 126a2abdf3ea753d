"""Agent addresses <-> session names, and the identity environment."""

from __future__ import annotations

import pytest

from vermas.errors import UsageError
from vermas.runtime import naming

CASES = [
    ("mayor", "vm-mayor", "mayor"),
    ("mayor/", "vm-mayor", "mayor"),
    ("deacon", "vm-deacon", "deacon"),
    ("deacon/boot", "vm-boot", "deacon/boot"),
    ("deacon/dogs/rex", "vm-dog-rex", "deacon/dogs/rex"),
    ("app/witness", "vm-app-witness", "app/witness"),
    ("app/refinery", "vm-app-refinery", "app/refinery"),
    ("app/polecats/nux", "vm-app-nux", "app/polecats/nux"),
    ("app/nux", "vm-app-nux", "app/polecats/nux"),
    ("app/crew/ana", "vm-app-crew-ana", "app/crew/ana"),
    ("app/inspector/judge", "vm-app-inspector-judge", "app/inspector/judge"),
    ("my_app/polecats/max-2", "vm-my_app-max-2", "my_app/polecats/max-2"),
]


@pytest.mark.parametrize(("address", "session", "canonical"), CASES)
def test_address_to_session_and_back(address, session, canonical):
    assert naming.session_for_address(address) == session
    assert naming.address_for_session(session) == canonical
    assert naming.resolve_target(address) == session
    assert naming.resolve_target(session) == session


def test_rig_names_are_slugged_so_the_first_dash_ends_the_rig():
    assert naming.session_for_address("my-app/witness") == "vm-my_app-witness"
    assert naming.session_for_address("app.v2/polecats/a:b") == "vm-app_v2-a_b"


@pytest.mark.parametrize("bad", ["", "nobody", "app/polecats/witness", "app/crew", "app/crew-x", "mayor/polecats/x",
                                 "deacon/dogs", "app/witness/extra/deep", "dog/witness"])
def test_bad_addresses_are_usage_errors(bad):
    with pytest.raises(UsageError):
        naming.session_for_address(bad)


def test_unknown_session_names_have_no_address():
    assert naming.address_for_session("other") is None
    assert naming.address_for_session("vm-") is None
    assert naming.address_for_session("vm-lonely") is None


def test_identity_env_is_gas_town_compatible():
    env = naming.identity_env("app/polecats/nux", town="/t", bead="app-x1")
    assert env == {"BD_ACTOR": "app/polecats/nux", "GT_ROLE": "app/polecats/nux", "VERMAS_ROLE": "polecat",
                   "GT_RIG": "app", "GT_POLECAT": "nux", "BEAD_ID": "app-x1", "VERMAS_TOWN": "/t", "GT_ROOT": "/t"}
    assert naming.identity_env("mayor") == {"BD_ACTOR": "mayor", "GT_ROLE": "mayor", "VERMAS_ROLE": "mayor"}
    assert naming.identity_env("app/crew/ana")["GT_CREW"] == "ana"
    dog = naming.identity_env("deacon/dogs/rex")
    assert dog["GT_ROLE"] == "dog" and dog["GT_DOG_NAME"] == "rex"


def test_session_from_environment():
    assert naming.session_from_environment({"VERMAS_SESSION": "vm-x"}) == "vm-x"
    assert naming.session_from_environment({"BD_ACTOR": "app/witness"}) == "vm-app-witness"
    assert naming.session_from_environment({"BD_ACTOR": "Jane Doe"}) is None
    assert naming.session_from_environment({}) is None
