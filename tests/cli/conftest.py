"""CLI test fixtures: a fixed actor, a project with a ledger, a town with two routed rigs."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import FIXTURES


@pytest.fixture(autouse=True)
def fixed_actor(monkeypatch):
    monkeypatch.setenv("BD_ACTOR", "tester")


@pytest.fixture
def project(cli, tmp_path):
    """``tmp_path`` with a ledger (prefix ``app``); returns the cli runner."""
    assert cli("init", "--prefix", "app", "--quiet").exit_code == 0
    return cli


def make(cli, *args: str, **kw) -> str:
    """``vermas create … --silent``: the new id."""
    result = cli("create", *args, "--silent", **kw)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def town(cli, tmp_path):
    """A town (mayor/town.json) with ledgers hq (town), gt (gastown rig) and bd (beads rig), routed by the
    real gastown routes.jsonl fixture. Returns the town root."""
    root = tmp_path / "town"
    (root / "mayor").mkdir(parents=True)
    (root / "mayor" / "town.json").write_text('{"type":"town"}\n')
    for where, prefix in ((root, "hq"), (root / "gastown" / "mayor" / "rig", "gt"),
                          (root / "beads" / "mayor" / "rig", "bd")):
        where.mkdir(parents=True, exist_ok=True)
        assert cli("init", "--prefix", prefix, "--quiet", cwd=str(where)).exit_code == 0
    shutil.copyfile(f"{FIXTURES}/routes/steveyegge__gastown__town__routes.jsonl", root / ".beads" / "routes.jsonl")
    return root
