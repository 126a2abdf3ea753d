"""The witness's pure parts: rules (snapshot → actions), the stale-message rule, restart tracking."""

from __future__ import annotations

import pytest

from vermas.ledger import timefmt
from vermas.roles.deacon import tracker
from vermas.roles.witness.mailbox import judge_done
from vermas.roles.witness.memory import Memory
from vermas.roles.witness.observe import Pane, PolecatView, Snapshot
from vermas.roles.witness.rules import decide
from vermas.roles.witness.settings import MAX_NUDGES, WitnessSettings
from vermas.town import protocol
from vermas.town.identity import Agent

NOW = 1_800_000_000.0
SETTINGS = WitnessSettings(patrol_interval=1, idle_after=10, stuck_after=60, max_respawns=2)


def _iso(epoch: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


def view(name="nux", *, state="working", bead="ap-1", spawn="s1", incarnation=1, alive=True, dead=False,
         quiet=0.0, hooked=True, labels=(), started_ago=1000.0, last=None, last_mr=None) -> PolecatView:
    agent = Agent("polecat", "app", name)
    st = {"name": name, "state": state, "bead": bead if state != "idle" else None, "spawn_id": spawn,
          "incarnation": incarnation, "started_at": _iso(NOW - started_ago), "last": last}
    pane = None
    if alive or dead:
        pane = Pane(agent.session, dead, 4242, NOW - quiet, 3 if dead else None)
    v = PolecatView(name=name, agent=agent, state=st, pane=pane,
                    activity={"ts": NOW - quiet, "state": "idle"} if alive else None)
    if hooked:
        v.hooked = {"id": bead, "status": "hooked", "labels": list(labels), "title": "t"}
    v.last_mr = last_mr
    return v


def snap(*views: PolecatView, tmux_error: str | None = None) -> Snapshot:
    return Snapshot(rig="app", now=NOW, polecats=list(views), tmux_error=tmux_error)


@pytest.fixture
def memory(tmp_path) -> Memory:
    return Memory(str(tmp_path / "state.json"), "app")


def kinds(actions) -> list[tuple[str, str]]:
    return [(a.kind, a.polecat) for a in actions]


def test_a_working_polecat_with_recent_activity_is_left_alone(memory):
    assert decide(snap(view(quiet=3)), memory, SETTINGS) == []


def test_idle_with_hooked_work_is_nudged_once_per_quiet_period(memory):
    [action] = decide(snap(view(quiet=15)), memory, SETTINGS)
    assert action.kind == "nudge" and action.bead == "ap-1" and action.spawn_id == "s1"
    entry = memory.polecat("nux", "s1")
    entry.update(nudges=1, nudged_at=NOW - 1)   # nudged, no sign of life since
    assert decide(snap(view(quiet=15)), memory, SETTINGS) == []
    entry["nudged_at"] = NOW - 20                # it reacted (activity after the nudge), then went quiet again
    assert kinds(decide(snap(view(quiet=15)), memory, SETTINGS)) == [("nudge", "nux")]


def test_stuck_beyond_the_threshold_is_restarted(memory):
    [action] = decide(snap(view(quiet=61)), memory, SETTINGS)
    assert action.kind == "restart" and action.reason.startswith("stuck: no activity for 61s")


def test_nudges_without_progress_count_as_stuck(memory):
    memory.polecat("nux", "s1").update(nudges=MAX_NUDGES, nudged_at=NOW - 30)
    [action] = decide(snap(view(quiet=15)), memory, SETTINGS)
    assert action.kind == "restart" and "nudges" in action.reason


def test_dead_or_missing_session_with_hooked_work_is_respawned(memory):
    dead = view("nux", alive=False, dead=True)
    gone = view("slit", bead="ap-2", alive=False)
    actions = decide(snap(dead, gone), memory, SETTINGS)
    assert kinds(actions) == [("respawn", "nux"), ("respawn", "slit")]
    assert "died (exit 3)" in actions[0].reason and "gone" in actions[1].reason


def test_no_tmux_answer_is_never_taken_for_death(memory):
    assert decide(snap(view(alive=False, dead=True), tmux_error="timeout"), memory, SETTINGS) == []


def test_a_launch_under_way_gets_its_grace(memory):
    launching = view(state="spawning", alive=False, started_ago=5)
    assert decide(snap(launching), memory, SETTINGS) == []
    overdue = view(state="spawning", alive=False, started_ago=SETTINGS.spawn_grace + 1)
    assert kinds(decide(snap(overdue), memory, SETTINGS)) == [("respawn", "nux")]


def test_a_bead_back_for_rework_respawns_its_idle_polecat(memory):
    back = view(state="idle", labels=("rework",), last={"bead": "ap-1", "mr": "ap-m1"})
    [action] = decide(snap(back), memory, SETTINGS)
    assert action.kind == "rework" and action.bead == "ap-1"


def test_respawn_limit_then_spawn_blocked_once(memory):
    memory.record_spawn("ap-1", "respawn", "died", "s1")
    memory.record_spawn("ap-1", "respawn", "died", "s1")
    [action] = decide(snap(view(alive=False, dead=True)), memory, SETTINGS)
    assert action.kind == "spawn_blocked" and action.details["respawns"] == 2
    assert "respawn limit reached" in action.reason
    memory.bead("ap-1")["blocked"] = True
    assert decide(snap(view(alive=False, dead=True)), memory, SETTINGS) == []


def test_respawn_count_resets_when_someone_else_started_the_polecat(memory):
    memory.record_spawn("ap-1", "respawn", "died", "s1")
    memory.record_spawn("ap-1", "respawn", "died", "s1")
    memory.bead("ap-1")["blocked"] = True
    # a human restarted it (new spawn id, not the witness's): the count starts over
    [action] = decide(snap(view(spawn="s9", alive=False, dead=True)), memory, SETTINGS)
    assert action.kind == "respawn" and action.details["respawns"] == 0


def test_finished_polecat_is_cleaned_up_when_its_merge_request_merged(memory):
    merged = {"id": "ap-m1", "status": "closed", "close_reason": "merged"}
    done = view(state="idle", hooked=False, last={"bead": "ap-1", "mr": "ap-m1", "commit": "abc"}, last_mr=merged)
    [action] = decide(snap(done), memory, SETTINGS)
    assert action.kind == "cleanup" and action.details["mr"] == "ap-m1"
    # rejected (or still open): the worktree stays; an idle session is reaped only after idle_after
    rejected = {"id": "ap-m1", "status": "closed", "close_reason": "rejected"}
    waiting = view(state="idle", hooked=False, quiet=2, last={"bead": "ap-1", "mr": "ap-m1"}, last_mr=rejected)
    assert decide(snap(waiting), memory, SETTINGS) == []
    waiting = view(state="idle", hooked=False, quiet=11, last={"bead": "ap-1", "mr": "ap-m1"}, last_mr=rejected)
    assert kinds(decide(snap(waiting), memory, SETTINGS)) == [("reap", "nux")]
    # a cleanup found unsafe for this job is not retried every patrol
    memory.polecat("nux", "s1")["cleanup_skipped"] = {"mr": "ap-m1", "spawn_id": "s1", "reason": "dirty"}
    assert decide(snap(done), memory, SETTINGS) == []


def test_a_current_polecat_done_reaps_the_session_at_once(memory):
    idle = view(state="idle", hooked=False, quiet=1, last={"bead": "ap-1", "mr": "ap-m1"},
                last_mr={"id": "ap-m1", "status": "open"})
    assert decide(snap(idle), memory, SETTINGS) == []
    memory.polecat("nux", "s1")["done_message"] = "hq-1"
    assert kinds(decide(snap(idle), memory, SETTINGS)) == [("reap", "nux")]
    # ... but not a later incarnation's session
    assert decide(snap(view(state="idle", spawn="s2", hooked=False, quiet=1)), memory, SETTINGS) == []


def test_a_dead_leftover_session_of_an_idle_polecat_is_reaped(memory):
    assert kinds(decide(snap(view(state="idle", hooked=False, alive=False, dead=True)), memory, SETTINGS)) == \
        [("reap", "nux")]


# ---------------------------------------------------------------- the stale-message rule
def done_message(**extra) -> protocol.PolecatDone:
    record = protocol.PolecatDone(polecat="nux", exit="COMPLETED", issue="ap-1", mr="ap-m1", rig="app")
    record.extra = extra
    return protocol.parse(record.subject(), record.body())  # through the wire format


def test_polecat_done_of_the_current_incarnation_counts():
    current, why = judge_done(done_message(**{"Spawn-Id": "s2", "Incarnation": "2", "Session": "vm-app-nux"}),
                              view(state="idle", spawn="s2", incarnation=2, hooked=False), "app")
    assert current, why


def test_polecat_done_of_an_earlier_incarnation_is_stale():
    record = done_message(**{"Spawn-Id": "s1", "Incarnation": "1", "Session": "vm-app-nux"})
    current, why = judge_done(record, view(state="working", spawn="s2", incarnation=2, bead="ap-7"), "app")
    assert not current and "incarnation 1 (spawn s1)" in why and "now incarnation 2 (spawn s2)" in why
    current, _ = judge_done(done_message(Incarnation="1"), view(spawn="s2", incarnation=2), "app")
    assert not current


def test_polecat_done_without_incarnation_is_judged_by_its_job():
    legacy = done_message()
    assert not judge_done(legacy, view(state="working", bead="ap-7"), "app")[0]
    assert not judge_done(legacy, view(state="idle", hooked=False, last={"bead": "ap-5"}), "app")[0]
    assert judge_done(legacy, view(state="idle", hooked=False, last={"bead": "ap-1"}), "app")[0]
    assert not judge_done(legacy, None, "app")[0]
    other = done_message(Session="vm-app-other")
    assert not judge_done(other, view(state="idle", hooked=False), "app")[0]


# ---------------------------------------------------------------- restart tracking (deacon, boot)
def test_backoff_first_restart_at_once_then_doubling_capped():
    assert [tracker.delay_after(n, 30) for n in range(6)] == [0, 30, 60, 120, 240, 480]
    assert tracker.delay_after(9, 30) == tracker.MAX_DELAY


def test_crash_loop_after_five_restarts_in_the_window():
    entry = tracker.new_entry()
    t = 1000.0
    for n in range(tracker.CRASH_LOOP):
        verdict, wait = tracker.decide(entry, t, base=1.0)
        assert verdict == "restart", n
        tracker.record(entry, t)
        verdict, wait = tracker.decide(entry, t, base=1.0)
        assert verdict == ("crash_loop" if n == tracker.CRASH_LOOP - 1 else "wait")
        t += wait + 0.01 if verdict == "wait" else 0
    assert tracker.decide(entry, t, base=1.0)[0] == "crash_loop"
    # restarts older than the window fall out of it
    later = t + tracker.WINDOW + 1
    assert tracker.decide(entry, later, base=1.0)[0] == "restart"
    entry["crash_loop"] = True
    tracker.clear(entry)
    assert entry == tracker.new_entry()


def test_settings_are_validated(tmp_path):
    from vermas.errors import DataError
    from vermas.town.config import write_setting
    from vermas.town.install import install
    from vermas.town.layout import Town

    root = str(tmp_path / "town")
    install(root)
    town = Town(root)
    write_setting(town.settings_path, "town-settings", "witness.stuck_after", -1.0)
    with pytest.raises(DataError, match=r"witness\.stuck_after"):
        WitnessSettings.load(town, "app", {})


def test_timestamps_round_trip_for_started_at():
    assert timefmt.parse_epoch(_iso(NOW)) == pytest.approx(NOW)


def test_memory_survives_a_restart_and_ages_out_old_beads(tmp_path):
    from vermas.roles.witness import memory as memory_mod

    path = str(tmp_path / "state.json")
    mem = Memory(path, "app")
    for n in range(memory_mod.BEADS_KEEP + 5):
        mem.record_spawn(f"ap-{n:04d}", "respawn", "died", "s1")
        mem.bead(f"ap-{n:04d}")["history"][-1]["at"] = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z"
    mem.count("respawned", 3)
    mem.save()
    again = Memory(path, "app")
    assert len(again.doc["beads"]) == memory_mod.BEADS_KEEP
    assert "ap-0000" not in again.doc["beads"] and f"ap-{memory_mod.BEADS_KEEP + 4:04d}" in again.doc["beads"]
    assert again.doc["totals"]["respawned"] == 3 and again.peek_bead("ap-0504")["respawns"] == 1
