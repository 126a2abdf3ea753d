"""routes.jsonl parsing, id → ledger resolution, redirects and rig lookup (with the real route fixtures)."""

from __future__ import annotations

import glob
import os
import shutil

import pytest

from tests.ledger.conftest import ROUTE_FIXTURES
from vermas.ledger import routes
from vermas.ledger.store import Ledger

ROUTE_FILES = sorted(glob.glob(os.path.join(ROUTE_FIXTURES, "*.jsonl")))


def _ledger(path, prefix: str) -> str:
    return Ledger.init(str(path), prefix).dir


@pytest.fixture
def town(tmp_path):
    """A Gas Town layout: town ledger (hq) routing gt- and bd- to their rigs (the real gastown routes file)."""
    root = tmp_path / "town"
    (root / "mayor").mkdir(parents=True)
    (root / "mayor" / "town.json").write_text('{"type":"town","name":"t"}\n')
    _ledger(root / ".beads", "hq")
    shutil.copyfile(os.path.join(ROUTE_FIXTURES, "steveyegge__gastown__town__routes.jsonl"),
                    root / ".beads" / "routes.jsonl")
    _ledger(root / "gastown" / "mayor" / "rig" / ".beads", "gt")
    _ledger(root / "beads" / "mayor" / "rig" / ".beads", "bd")
    return root


@pytest.mark.parametrize("path", ROUTE_FILES, ids=os.path.basename)
def test_every_fixture_parses_every_line(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    parsed = routes.parse_routes(text)
    assert len(parsed) == len([line for line in text.split("\n") if line.strip()])
    assert all(r.prefix.endswith("-") and r.path for r in parsed)


def test_bad_lines_are_skipped_like_bd():
    text = ('\n# a comment\n{"prefix":"gt-","path":"gastown/mayor/rig"}\nnot json\n{"prefix":"","path":"x"}\n'
            '{"prefix":"bd-"}\n[1,2]\n   {"prefix":"hq-","path":"."}   \n')
    assert [r.as_dict() for r in routes.parse_routes(text)] == [
        {"prefix": "gt-", "path": "gastown/mayor/rig"}, {"prefix": "hq-", "path": "."}]


def test_route_prefix_is_up_to_the_first_dash():
    assert routes.route_prefix("gt-abc") == "gt-"
    assert routes.route_prefix("hq-cv-xyz") == "hq-"
    assert routes.route_prefix("gt-gastown-polecat-nux") == "gt-"
    assert routes.route_prefix("nodash") == ""
    assert routes.route_prefix("-x") == ""


def test_ids_resolve_to_their_rig_ledgers(town):
    town_beads = str(town / ".beads")
    assert routes.find_town_root(str(town / "gastown" / "mayor" / "rig" / "src")) == str(town)
    gastown = str(town / "gastown" / "mayor" / "rig" / ".beads")
    beads = str(town / "beads" / "mayor" / "rig" / ".beads")
    assert routes.beads_dir_for_id("gt-abc", town_beads, str(town)) == gastown
    assert routes.beads_dir_for_id("bd-a3f.2", town_beads, str(town)) == beads
    assert routes.beads_dir_for_id("hq-123", town_beads, str(town)) == town_beads
    # v0.43 compares the prefix up to the FIRST dash: "hq-cv-" can never match; hq- takes it
    assert routes.beads_dir_for_id("hq-cv-abc", town_beads, str(town)) == town_beads
    assert routes.beads_dir_for_id("zz-abc", town_beads, str(town)) is None
    # from a rig without its own routes.jsonl, the town's routes apply
    rig_beads = str(town / "gastown" / "mayor" / "rig" / ".beads")
    assert routes.beads_dir_for_id("bd-x", rig_beads, str(town)) == str(town / "beads" / "mayor" / "rig" / ".beads")


def test_route_to_a_missing_directory_does_not_match(town):
    shutil.rmtree(town / "beads")
    assert routes.beads_dir_for_id("bd-x", str(town / ".beads"), str(town)) is None


def test_rig_level_routes_fixture_resolves_from_a_crew_clone(town):
    crew = town / "gastown" / "crew" / "max"
    (crew / ".beads").mkdir(parents=True)
    shutil.copyfile(os.path.join(ROUTE_FIXTURES, "steveyegge__gastown__rig__routes.jsonl"),
                    crew / ".beads" / "routes.jsonl")
    target = routes.beads_dir_for_id("gt-q1", str(crew / ".beads"), str(town))
    assert target == str(town / "gastown" / "mayor" / "rig" / ".beads")


def test_redirects_are_followed_up_to_three_levels(tmp_path):
    real = _ledger(tmp_path / "real" / ".beads", "r")
    hops = [tmp_path / f"hop{n}" / ".beads" for n in range(4)]
    for hop in hops:
        hop.mkdir(parents=True)
    (hops[0] / "redirect").write_text("# written by gt\n\n../real/.beads\n")  # relative to hop0/, bd's rule
    for n in range(1, 4):
        (hops[n] / "redirect").write_text(f"../hop{n - 1}/.beads")
    assert routes.resolve_redirect(str(hops[0])) == real
    assert routes.resolve_redirect(str(hops[2])) == real  # 3 hops
    assert routes.resolve_redirect(str(hops[3])) == str(hops[0])  # stops after 3 hops
    (tmp_path / "hop2" / "work" / "deep").mkdir(parents=True)
    assert routes.find_beads_dir(str(tmp_path / "hop2" / "work" / "deep")) == real


def test_dangling_or_empty_redirect_is_ignored(tmp_path):
    beads = _ledger(tmp_path / ".beads", "x")
    with open(os.path.join(beads, "redirect"), "w") as fh:
        fh.write("nowhere/.beads")
    assert routes.resolve_redirect(beads) == beads
    with open(os.path.join(beads, "redirect"), "w") as fh:
        fh.write("  \n")
    assert routes.resolve_redirect(beads) == beads


def test_find_beads_dir_skips_empty_dot_beads(tmp_path):
    outer = _ledger(tmp_path / ".beads", "o")
    (tmp_path / "sub" / ".beads" / "formulas").mkdir(parents=True)  # not a ledger
    assert routes.find_beads_dir(str(tmp_path / "sub")) == outer
    assert routes.find_beads_dir("/") is None or routes.find_beads_dir("/") != outer


def test_rig_lookup_by_name_or_prefix(town):
    names = {(r.name, r.prefix) for r in routes.rigs(str(town))}
    assert names == {(".", "hq"), ("gastown", "gt"), ("beads", "bd")}  # hq-cv- shares hq-'s prefix slot
    gastown = str(town / "gastown" / "mayor" / "rig" / ".beads")
    for key in ("gastown", "gt", "gt-"):
        assert routes.find_rig(str(town), key).beads_dir == gastown
    assert routes.find_rig(str(town), "hq").beads_dir == str(town / ".beads")
    assert routes.find_rig(str(town), "nope") is None


def test_rig_lookup_falls_back_to_directories(town):
    _ledger(town / "extra" / "mayor" / "rig" / ".beads", "ex")
    assert routes.find_rig(str(town), "extra").beads_dir == str(town / "extra" / "mayor" / "rig" / ".beads")


def test_cygnus_town_routes_every_rig(tmp_path):
    root = tmp_path / "hq"
    (root / "mayor").mkdir(parents=True)
    (root / "mayor" / "town.json").write_text("{}")
    _ledger(root / ".beads", "hq")
    shutil.copyfile(os.path.join(ROUTE_FIXTURES, "Cygnus-Wealth__gas-town-hq__routes.jsonl"),
                    root / ".beads" / "routes.jsonl")
    parsed = routes.load_routes(str(root / ".beads"))
    for route in parsed:
        if route.path != ".":
            _ledger(root / route.path / ".beads", route.prefix.rstrip("-"))
    for route in parsed:
        expected = str(root / ".beads") if route.path == "." else str(root / route.path / ".beads")
        if route.prefix == "hq-cv-":
            continue
        assert routes.beads_dir_for_id(route.prefix + "abc", str(root / ".beads"), str(root)) == expected
    assert {r.name for r in routes.rigs(str(root))} >= {"AssetValuator", "WalletIntegrationSystem", "."}
