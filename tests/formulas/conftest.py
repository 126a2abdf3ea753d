"""Fixtures for the formula tests: the fixture formulas laid out per source, ledgers, lookups."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import FIXTURES

FORMULA_FIXTURES = os.path.join(FIXTURES, "formulas")


def fixture_files() -> list[str]:
    """Every fixture formula file name (``SOURCE__name.formula.toml|json``)."""
    return sorted(f for f in os.listdir(FORMULA_FIXTURES) if "__" in f)


@pytest.fixture(scope="session")
def formula_sets(tmp_path_factory) -> dict[str, str]:
    """The fixtures copied to one directory per source under their original names.

    ``extends = ["shiny"]`` in ``gastown__shiny-enterprise`` must find ``gastown__shiny``: laid
    out as ``gastown/shiny.formula.toml``, a formula's siblings are found by name.
    """
    base = tmp_path_factory.mktemp("formula-sets")
    sets: dict[str, str] = {}
    for name in fixture_files():
        source, original = name.split("__", 1)
        target = sets.setdefault(source, str(base / source))
        os.makedirs(target, exist_ok=True)
        shutil.copyfile(os.path.join(FORMULA_FIXTURES, name), os.path.join(target, original))
    return sets


def fixture_path(formula_sets: dict[str, str], name: str) -> str:
    source, original = name.split("__", 1)
    return os.path.join(formula_sets[source], original)


@pytest.fixture
def lookup_for(formula_sets):
    """``lookup_for("gastown")``: a Lookup that searches that source's directory first."""
    from vermas.formulas.lookup import Lookup, search_path

    def make(source: str) -> Lookup:
        return Lookup(search_path(first=(formula_sets[source],)))

    return make


@pytest.fixture
def ledger(tmp_path):
    from vermas.ledger.store import Ledger

    led = Ledger.init(str(tmp_path / ".beads"), "gt")
    yield led
    led.close()


def cook_fixture(lookup, name: str, variables: dict | None = None, **kwargs):
    from vermas.formulas.cook import cook

    return cook(lookup.load(name), lookup, variables=variables, **kwargs)
