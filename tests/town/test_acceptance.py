"""Acceptance: the work loop end to end over real tmux and git, with simulated agents."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.town.conftest import create_bead, git, read_bead, wait_for
from vermas.ledger import events
from vermas.ledger.store import Ledger
from vermas.town import convoys, mail, mergereq, polecats
from vermas.town.identity import Agent
from vermas.town.layout import Town

pytestmark = pytest.mark.slow


def sim_task(name: str, extra: str = "") -> str:
    return (f"Write {name}.txt.\n\n```sim\n{extra}printf '{name}\\n' > {name}.txt\n"
            f"test -s {name}.txt\n```\n")


@pytest.fixture
def sim_rig(town_root, rig, tcli):
    assert tcli("config", "set", "runtime.default", "sim").exit_code == 0
    return rig


def _merge_requests(town_root: str) -> list[dict]:
    with Ledger.open(os.path.join(town_root, "app", ".beads")) as ledger:
        return mergereq.open_requests(ledger)


def test_five_beads_three_slots_all_submitted(tcli, town_root, sim_rig):
    assert tcli("config", "set", "polecats.max", "3", "--rig", "app").exit_code == 0
    beads = [create_bead(town_root, "app", f"Task {n}", sim_task(f"task{n}")) for n in range(5)]
    r = tcli("sling", *beads, "app", "--json")
    assert r.exit_code == 0, r.stderr
    out = r.json()
    started = [x for x in out["results"] if x["status"] == "started"]
    queued = [x for x in out["results"] if x["status"] == "queued"]
    assert [x["bead"] for x in started] == beads[:3] and [x["bead"] for x in queued] == beads[3:]
    assert len({x["polecat"] for x in started}) == 3
    wait_for(lambda: len(_merge_requests(town_root)) == 5, timeout=150, interval=0.5,
             what="five merge requests")
    mrs = {mergereq.fields_of(m)["source_issue"]: mergereq.fields_of(m) for m in _merge_requests(town_root)}
    assert set(mrs) == set(beads)
    repo = os.path.join(town_root, "app", ".repo.git")
    for bead in beads:
        fields = mrs[bead]
        # the branch is in the rig's bare repository at the submitted commit, one commit past main
        assert git("rev-parse", f"refs/heads/{fields['branch']}", cwd=repo) == fields["commit_sha"]
        assert git("rev-list", "--count", f"main..{fields['branch']}", cwd=repo) == "1"
        n = beads.index(bead)
        assert git("show", f"{fields['branch']}:task{n}.txt", cwd=repo) == f"task{n}"
        issue = read_bead(town_root, "app", bead)
        assert issue["status"] == "in_progress" and issue["assignee"] == fields["worker"]
    # the mail tells the story: one POLECAT_DONE per bead to the witness
    done_mail = mail.protocol_messages(town_root, "POLECAT_DONE", to=Agent("witness", "app"))
    assert sorted(record.issue for _m, record in done_mail) == sorted(beads)
    # the events tell the story: hooked, started, queued, done
    rig_events = events.read(os.path.join(town_root, "app", ".beads"))
    kinds = [e["event_type"] for e in rig_events]
    assert kinds.count("bead.hooked") == 5 and kinds.count("polecat.done") == 5
    assert kinds.count("sling.queued") == 2 and kinds.count("mr.submitted") == 5
    town_events = [e for e in events.read(os.path.join(town_root, ".beads")) if e["event_type"] == "agent.started"]
    assert sorted(e["data"]["hooked_bead"] for e in town_events) == sorted(beads)
    # queued beads were hooked only after a polecat finished (slots freed)
    first_done = min(i for i, e in enumerate(rig_events) if e["event_type"] == "polecat.done")
    for bead in beads[3:]:
        hooked = next(i for i, e in enumerate(rig_events)
                      if e["event_type"] == "bead.hooked" and e["data"]["bead_id"] == bead)
        assert hooked > first_done
    # the convoy tracks all five, and every polecat is idle again
    convoy = convoys.status(town_root, out["convoy"])
    assert convoy["total"] == 5 and convoy["status"] == "open"
    wait_for(lambda: all(s["state"] == "idle" for s in polecats.all_states(Town(town_root).rig("app"))),
             what="all polecats idle")
    status = tcli("status", "--json").json()
    assert status["rigs"][0]["merge_queue_depth"] == 5 and status["rigs"][0]["busy"] == 0


def test_killed_session_resumes_from_hook_without_duplicate_mr(tcli, town_root, sim_rig, tmux_socket, tmp_path):
    gate = tmp_path / "go"
    body = (f"Two steps.\n\n```sim\nprintf 'one\\n' > one.txt\n"
            f"while [ ! -e {gate} ] && [ \"$VERMAS_INCARNATION\" = 1 ]; do sleep 0.1; done\n"
            f"printf 'two\\n' > two.txt\n```\n")
    bead = create_bead(town_root, "app", "Resumable", body)
    row = tcli("sling", bead, "app", "--json").json()["results"][0]
    worktree = row["worktree"]
    wait_for(lambda: os.path.exists(os.path.join(worktree, "one.txt")), what="the first step")
    # the agent dies mid-work (its session is killed from outside)
    subprocess.run(["tmux", "-L", tmux_socket, "kill-session", "-t", row["session"]], check=True)
    assert _merge_requests(town_root) == []
    assert read_bead(town_root, "app", bead)["status"] == "hooked"
    r = tcli("polecat", "restart", row["polecat"], "--json")
    assert r.exit_code == 0, r.stderr
    again = r.json()
    assert again["incarnation"] == 2 and again["worktree"] == worktree and again["bead"] == bead
    wait_for(lambda: len(_merge_requests(town_root)) == 1, timeout=60, what="the merge request")
    [mr] = _merge_requests(town_root)
    fields = mergereq.fields_of(mr)
    assert fields["branch"] == row["branch"] and fields["source_issue"] == bead
    repo = os.path.join(town_root, "app", ".repo.git")
    assert git("show", f"{row['branch']}:two.txt", cwd=repo) == "two"
    # done again (a crash-retry) changes nothing
    again_done = tcli("done", "--json", "--agent", row["polecat"])
    assert again_done.exit_code == 0 and again_done.json()["already_done"] is True
    assert len(_merge_requests(town_root)) == 1
    started = [e for e in events.read(os.path.join(town_root, ".beads")) if e["event_type"] == "agent.started"]
    assert [e["data"]["incarnation"] for e in started] == [1, 2]
    assert started[0]["data"]["spawn_id"] != started[1]["data"]["spawn_id"]
