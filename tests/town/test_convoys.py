from __future__ import annotations

import os

import pytest

from vermas.errors import ConflictError, NotFoundError
from vermas.ledger.store import Ledger
from vermas.town import convoys, mail
from vermas.town.identity import Agent


def _beads(town_root: str, rig: str, *titles: str) -> list[str]:
    with Ledger.open(os.path.join(town_root, rig, ".beads")) as ledger, ledger.transaction("tester") as tx:
        return [tx.create(t)["id"] for t in titles]


def _close(town_root: str, where: str, bead: str) -> None:
    with Ledger.open(os.path.join(town_root, where, ".beads")) as ledger, ledger.transaction("tester") as tx:
        tx.close(bead, "merged")


def test_convoy_tracks_cross_ledger_beads_and_lands_once(town_root, rig):
    a, b = _beads(town_root, rig, "Feature A", "Feature B")
    with Ledger.open(os.path.join(town_root, ".beads")) as town_ledger, town_ledger.transaction("t") as tx:
        hq = tx.create("Town chore")["id"]
    view = convoys.create(town_root, "Release 1", [a, b, hq], owner="mayor", actor="mayor")
    assert view["id"].startswith("hq-cv-") and len(view["id"]) == len("hq-cv-") + 5
    assert [t["id"] for t in view["tracked"]] == [a, b, hq]
    assert (view["total"], view["closed"], view["complete"]) == (3, 0, False)
    with Ledger.open(os.path.join(town_root, ".beads")) as ledger:
        issue = ledger.get(view["id"])
        assert issue["issue_type"] == "convoy"
        assert {d["depends_on_id"] for d in issue["dependencies"] if d["type"] == "tracks"} == {a, b, hq}
        assert convoys.convoys_tracking(ledger, a) == [view["id"]]

    _close(town_root, rig, a)
    assert convoys.on_bead_closed(town_root, a, actor="app/refinery") == []
    _close(town_root, ".", hq)
    _close(town_root, rig, b)
    assert convoys.on_bead_closed(town_root, b, actor="app/refinery") == [view["id"]]
    assert convoys.on_bead_closed(town_root, b, actor="app/refinery") == []  # idempotent
    landed = convoys.status(town_root, view["id"])
    assert landed["status"] == "closed" and landed["complete"]
    notes = [m for m in mail.inbox(town_root, Agent("mayor")) if m["subject"].startswith("✅ Convoy landed")]
    assert len(notes) == 1 and view["id"] in notes[0]["body"]


def test_land_refuses_unfinished_unless_forced_and_add_reopens(town_root, rig):
    a, b = _beads(town_root, rig, "A", "B")
    view = convoys.create(town_root, "Pair", [a], owner="alice", actor="alice")
    with pytest.raises(ConflictError):
        convoys.land(town_root, view["id"], actor="alice")
    _close(town_root, rig, a)
    assert convoys.check_all(town_root, actor="deacon") == [view["id"]]
    # a human owner is notified through the overseer mailbox
    assert any(m["subject"].startswith("✅ Convoy landed") for m in mail.inbox(town_root, Agent("overseer")))
    reopened = convoys.add(town_root, view["id"], [b], actor="alice")
    assert reopened["status"] == "open" and reopened["total"] == 2
    forced = convoys.land(town_root, view["id"], actor="alice", force=True, reason="scope cut")
    assert forced["status"] == "closed" and forced["close_reason"] == "scope cut"
    assert [c["id"] for c in convoys.list_convoys(town_root)] == []
    assert [c["id"] for c in convoys.list_convoys(town_root, include_closed=True)] == [view["id"]]


def test_unknown_ids_exit_3(town_root, rig):
    with pytest.raises(NotFoundError):
        convoys.create(town_root, "x", ["ap-zzzzz"], owner="mayor", actor="mayor")
    with pytest.raises(NotFoundError):
        convoys.create(town_root, "x", ["zz-abc"], owner="mayor", actor="mayor")
    with pytest.raises(NotFoundError):
        convoys.status(town_root, "hq-cv-nope1")
