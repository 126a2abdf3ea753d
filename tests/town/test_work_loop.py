"""sling → hook → work → done, with the test playing the agent (runtime ``idle`` runs ``sleep``)."""

from __future__ import annotations

import json
import os

from tests.conftest import run_vermas
from tests.town.conftest import agent_env, create_bead, git, read_bead, wait_for
from vermas.ledger import events
from vermas.town import mail, mergereq, polecats
from vermas.town.identity import Agent
from vermas.town.layout import Town


def _state(town_root: str, name: str) -> dict:
    return polecats.load(Town(town_root).rig("app"), name)


def test_sling_hooks_branches_pours_and_starts(tcli, town_root, idle_rig, tmux_socket):
    bead = create_bead(town_root, "app", "Add subtract", "Implement sub(a, b).")
    r = tcli("sling", bead, "app", "--json")
    assert r.exit_code == 0, r.stderr
    [row] = r.json()["results"]
    assert row["status"] == "started" and row["polecat"] == "app/polecats/furiosa"
    assert row["branch"].startswith(f"polecat/furiosa/{bead}@")
    # both halves of the hook
    with open(os.path.join(town_root, "app", ".beads", ".hook-app-polecats-furiosa")) as fh:
        assert fh.read() == f"bead:{bead}"
    issue = read_bead(town_root, "app", bead)
    assert (issue["status"], issue["assignee"]) == ("hooked", "app/polecats/furiosa")
    assert "attached_molecule: " + row["molecule"] in issue["description"]
    assert "attached_formula: mol-polecat-work" in issue["description"]
    # the worktree is on the new branch, started from main in the rig's bare repo
    worktree = row["worktree"]
    assert worktree == os.path.join(town_root, "app", "polecats", "furiosa", "app")
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=worktree) == row["branch"]
    assert git("rev-parse", "HEAD", cwd=worktree) == git("rev-parse", "main", cwd=os.path.join(town_root, "app",
                                                                                                 ".repo.git"))
    state = _state(town_root, "furiosa")
    assert state["state"] == "working" and state["incarnation"] == 1 and state["spawn_id"]
    live = tcli("agents", "--running", "--json").json()
    assert [a["address"] for a in live] == ["app/polecats/furiosa"]
    # the agent's view of its hook (the simulated agent's contract: a "bead" member)
    hook = tcli("hook", "--json", env=agent_env(town_root, "app/polecats/furiosa")).json()
    assert hook["bead"]["id"] == bead and hook["agent"] == "app/polecats/furiosa"
    assert hook["molecule"]["id"] == row["molecule"] and hook["molecule"]["total"] >= 3
    assert hook["molecule"]["steps"][0]["state"] == "ready"
    assert tcli("hook", env=agent_env(town_root, "app/polecats/furiosa")).stdout.startswith(f"HOOKED: {bead}")
    hooked_events = [e for e in events.read(os.path.join(town_root, "app", ".beads"))
                     if e["event_type"] == "bead.hooked"]
    assert hooked_events[-1]["data"]["agent"] == "app/polecats/furiosa"


def test_done_refuses_dirty_then_submits_once(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Add mul")
    row = tcli("sling", bead, "app", "--json", "--formula", "none").json()["results"][0]
    me = agent_env(town_root, row["polecat"])
    worktree = row["worktree"]
    with open(os.path.join(worktree, "calc.py"), "a") as fh:
        fh.write("\n\ndef mul(a, b):\n    return a * b\n")
    refused = tcli("done", env=me, cwd=worktree)
    assert refused.exit_code == 5 and "uncommitted changes" in refused.stderr and "calc.py" in refused.stderr
    assert read_bead(town_root, "app", bead)["status"] == "hooked"
    git("commit", "-qam", f"{bead}: add mul", cwd=worktree)
    nothing = create_bead(town_root, "app", "never touched")
    assert nothing
    r = tcli("done", "--json", env=me, cwd=worktree)
    assert r.exit_code == 0, r.stderr
    out = r.json()
    head = git("rev-parse", "HEAD", cwd=worktree)
    assert out["commit"] == head and out["created_mr"] and out["bead_status"] == "in_progress"
    repo = os.path.join(town_root, "app", ".repo.git")
    assert git("rev-parse", f"refs/heads/{row['branch']}", cwd=repo) == head
    mr = read_bead(town_root, "app", out["mr"])
    assert mr["issue_type"] == "merge-request" and "gt:merge-request" in mr["labels"]
    assert mr["title"] == f"Merge: {bead}"
    assert mergereq.fields_of(mr) == {"branch": row["branch"], "target": "main", "source_issue": bead,
                                      "worker": "app/polecats/furiosa", "rig": "app", "commit_sha": head}
    assert mr["description"].startswith(f"branch: {row['branch']}\n")
    issue = read_bead(town_root, "app", bead)
    assert (issue["status"], issue["assignee"]) == ("in_progress", "app/polecats/furiosa")
    assert not os.path.exists(os.path.join(town_root, "app", ".beads", ".hook-app-polecats-furiosa"))
    [(message, record)] = mail.protocol_messages(town_root, "POLECAT_DONE", to=Agent("witness", "app"))
    assert (record.polecat, record.issue, record.mr, record.branch, record.exit) == \
        ("furiosa", bead, out["mr"], row["branch"], "COMPLETED")
    assert message["to"] == "app/witness" and message["from"] == "app/polecats/furiosa"
    state = _state(town_root, "furiosa")
    assert state["state"] == "idle" and state["bead"] is None and state["last"]["mr"] == out["mr"]
    again = tcli("done", "--json", env=me, cwd=worktree).json()
    assert again["already_done"] is True and again["mr"] == out["mr"]
    with open(os.path.join(town_root, "app", ".beads", "issues.jsonl")) as fh:
        assert sum(1 for line in fh if '"issue_type":"merge-request"' in line) == 1
    assert tcli("hook", "--json", env=me).json()["bead"] is None


def test_done_without_commits_is_refused_and_deferred_returns_the_bead(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Nothing yet")
    row = tcli("sling", bead, "app", "--json", "--formula", "none").json()["results"][0]
    me = agent_env(town_root, row["polecat"])
    r = tcli("done", env=me)
    assert r.exit_code == 5 and "no commits" in r.stderr
    deferred = tcli("done", "--status", "deferred", "--json", env=me)
    assert deferred.exit_code == 0, deferred.stderr
    assert deferred.json()["mr"] is None
    issue = read_bead(town_root, "app", bead)
    assert issue["status"] == "open" and "assignee" not in issue


def test_sling_errors_have_exit_codes(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "A task")
    assert tcli("sling", bead, "nowhere").exit_code == 3
    assert tcli("sling", "ap-zzzzzz", "app").exit_code == 3
    assert tcli("sling", "xx-abc", "app").exit_code == 3
    assert tcli("sling", bead, "app", "--runtime", "no-such-runtime").exit_code == 3
    assert tcli("sling", bead, "app", "--formula", "no-such-formula").exit_code == 3
    assert tcli("sling", bead, "app", "--force").exit_code == 2
    assert tcli("sling", bead).exit_code == 2
    with_msg = create_bead(town_root, "app", "a note", issue_type="message")
    assert tcli("sling", with_msg, "app").exit_code == 2
    assert read_bead(town_root, "app", bead)["status"] == "open"  # nothing changed
    assert tcli("sling", bead, "app", "--formula", "none").exit_code == 0
    other = tcli("sling", bead, "app", "--formula", "none")
    assert other.exit_code == 5 and "already hooked" in other.stderr


def test_slots_queue_and_done_dispatches_the_next(tcli, town_root, idle_rig):
    assert tcli("config", "set", "polecats.max", "2", "--rig", "app").exit_code == 0
    beads = [create_bead(town_root, "app", f"Task {n}") for n in range(3)]
    out = tcli("sling", *beads, "app", "--json", "--formula", "none").json()
    statuses = {r["bead"]: r["status"] for r in out["results"]}
    assert statuses == {beads[0]: "started", beads[1]: "started", beads[2]: "queued"}
    assert out["convoy"].startswith("hq-cv-")
    assert read_bead(town_root, "app", beads[2])["status"] == "open"
    rig = tcli("rig", "status", "app", "--json").json()
    assert (rig["busy"], rig["queue"]) == (2, [beads[2]])
    first = next(r for r in out["results"] if r["bead"] == beads[0])
    me = agent_env(town_root, first["polecat"])
    with open(os.path.join(first["worktree"], "one.txt"), "w") as fh:
        fh.write("1\n")
    git("add", "-A", cwd=first["worktree"])
    git("commit", "-qm", "one", cwd=first["worktree"])
    done = tcli("done", "--json", env=me)
    assert done.exit_code == 0, done.stderr
    assert done.json()["dispatcher_pid"]
    third = wait_for(lambda: read_bead(town_root, "app", beads[2]).get("assignee"), timeout=60,
                     what="the queued bead to be dispatched")
    assert third not in (first["polecat"],)  # another identity: the finishing one cannot restart itself
    wait_for(lambda: polecats.holder_of(Town(town_root).rig("app"), beads[2]), what="a polecat holding it")
    assert tcli("rig", "status", "app", "--json").json()["queue"] == []


def test_concurrent_slings_never_share_a_bead(town_root, idle_rig, tmp_path):
    import subprocess
    import sys

    bead = create_bead(town_root, "app", "Contested")
    env = {**os.environ, "VERMAS_TOWN": town_root}
    cmd = [sys.executable, "-m", "vermas.cli", "sling", bead, "app", "--formula", "none", "--json"]
    procs = [subprocess.Popen(cmd, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 5, 5], results
    holders = [s for s in polecats.all_states(Town(town_root).rig("app")) if s.get("bead") == bead]
    assert len(holders) == 1
    assert read_bead(town_root, "app", bead)["assignee"] == holders[0]["address"]


def test_kill_and_restart_keeps_hook_and_worktree(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Long job")
    row = tcli("sling", bead, "app", "--json", "--formula", "none").json()["results"][0]
    with open(os.path.join(row["worktree"], "wip.txt"), "w") as fh:
        fh.write("half done\n")
    killed = tcli("polecat", "kill", "app/furiosa", "--json")
    assert killed.exit_code == 0 and killed.json()["stopped"] is True
    assert tcli("agents", "--running", "--json").json() == []
    status = tcli("status", "--json").json()
    polecat = next(a for a in status["agents"] if a["address"] == "app/polecats/furiosa")
    assert polecat["state"] == "working (session gone)" and polecat["bead"] == bead
    restarted = tcli("polecat", "restart", "app/polecats/furiosa", "--json")
    assert restarted.exit_code == 0, restarted.stderr
    info = restarted.json()
    assert info["incarnation"] == 2 and info["worktree"] == row["worktree"] and info["bead"] == bead
    assert os.path.exists(os.path.join(row["worktree"], "wip.txt"))
    assert [a["address"] for a in tcli("agents", "--running", "--json").json()] == ["app/polecats/furiosa"]
    released = tcli("polecat", "kill", "app/furiosa", "--release", "--json").json()
    assert released["released"] == bead
    assert read_bead(town_root, "app", bead)["status"] == "open"


def test_prime_shows_role_work_checklist_and_mail(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Add pow", "Implement pow(a, b).")
    row = tcli("sling", bead, "app", "--json").json()["results"][0]
    mail.send(town_root, "mayor", row["polecat"], "Hint", "use **")
    me = agent_env(town_root, row["polecat"])
    text = tcli("prime", env=me).stdout
    role_at = text.index("You are app/polecats/furiosa, a polecat of rig app")
    work_at = text.index("Work is on your hook — run it (GUPP)")
    assert role_at < work_at
    assert f"**{bead}** Add pow" in text and "Implement pow(a, b)." in text
    assert "- [ ] Load context for " + bead in text and "← next" in text
    assert "from mayor: Hint" in text
    assert text.rstrip().splitlines()[-1].startswith("[VERMAS] app/polecats/furiosa")
    hooked = run_vermas("prime", "--hook", cwd=row["worktree"], env={**me},
                        input=json.dumps({"session_id": "abc-1", "source": "compact"}))
    assert hooked.returncode == 0, hooked.stderr
    assert "Context compacted" in hooked.stdout and bead in hooked.stdout
    empty = tcli("prime", "--agent", "app/witness").stdout
    assert "the witness of rig app" in empty and "Your hook is empty" in empty


def test_race_for_the_last_slot_one_wins_the_other_waits(tcli, town_root, idle_rig, tmp_path):
    import subprocess
    import sys

    assert tcli("config", "set", "polecats.max", "1", "--rig", "app").exit_code == 0
    beads = [create_bead(town_root, "app", f"Racer {n}") for n in range(2)]
    env = {**os.environ, "VERMAS_TOWN": town_root}
    procs = [subprocess.Popen([sys.executable, "-m", "vermas.cli", "sling", bead, "app", "--formula", "none",
                               "--json"], env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for bead in beads]
    outs = [(p.wait(timeout=120), p.stdout.read()) for p in procs]
    assert [code for code, _out in outs] == [0, 0]
    statuses = sorted(json.loads(out)["results"][0]["status"] for _code, out in outs)
    assert statuses == ["queued", "started"]
    rig = tcli("rig", "status", "app", "--json").json()
    assert rig["busy"] == 1 and len(rig["queue"]) == 1


def test_handoff_rides_along_with_hooked_work_or_goes_on_an_empty_hook(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Big job")
    row = tcli("sling", bead, "app", "--json", "--formula", "none").json()["results"][0]
    me = agent_env(town_root, row["polecat"])
    r = tcli("handoff", "-m", "Done: parser.\nNext: the CLI, then vermas done.", "-s", "context full", "--json",
             env=me)
    assert r.exit_code == 0, r.stderr
    out = r.json()
    assert out["attached"] is False and out["hooked"] == bead
    hook = tcli("hook", "--json", env=me).json()
    assert hook["bead"]["id"] == bead  # the work stays on the hook
    text = tcli("prime", env=me).stdout
    notes_at = text.index("Handoff notes from your previous session")
    assert "🤝 HANDOFF: context full" in text and "Next: the CLI, then vermas done." in text[notes_at:]
    assert text.index("Work is on your hook") < notes_at
    # an agent with an empty hook gets the handoff on its hook
    witness = agent_env(town_root, "app/witness")
    w = tcli("handoff", "-m", "Patrol state: all quiet", "--json", env=witness).json()
    assert w["attached"] is True
    with open(os.path.join(town_root, "app", ".beads", ".hook-app-witness")) as fh:
        assert fh.read() == f"mail:{w['mail']}"
    shown = tcli("hook", env=witness).stdout
    assert shown.startswith(f"HOOKED: mail {w['mail']}")
    assert "Mail is on your hook" in tcli("prime", env=witness).stdout
    assert tcli("handoff", "-m", "x", "--cycle", env=witness).exit_code == 2  # only polecats cycle
    assert len(tcli("mail", "inbox", "--all", "--json", env=witness).json()) == 1  # and nothing was sent


def test_handoff_cycle_replaces_the_polecat_session(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Cycling job")
    row = tcli("sling", bead, "app", "--json", "--formula", "none").json()["results"][0]
    r = tcli("handoff", "-m", "halfway", "--cycle", "--json", env=agent_env(town_root, row["polecat"]))
    assert r.exit_code == 0 and r.json()["cycle_pid"]
    state = wait_for(lambda: (s := _state(town_root, "furiosa"))["incarnation"] == 2 and s["state"] == "working"
                     and s, timeout=60, what="the fresh session")
    assert state["bead"] == bead and state["worktree"] == row["worktree"]
    assert [a["address"] for a in tcli("agents", "--running", "--json").json()] == ["app/polecats/furiosa"]


def test_rig_remove_refuses_hooked_work_then_stops_sessions(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "Blocking removal")
    assert tcli("sling", bead, "app", "--formula", "none").exit_code == 0
    refused = tcli("rig", "remove", "app")
    assert refused.exit_code == 5 and "hooked work" in refused.stderr
    assert tcli("rig", "remove", "app", "--force").exit_code == 0
    assert tcli("agents", "--running", "--json").json() == []
    assert not os.path.exists(os.path.join(town_root, "app"))


def test_sling_to_a_named_polecat(tcli, town_root, idle_rig):
    bead = create_bead(town_root, "app", "For nux")
    r = tcli("sling", bead, "app/polecats/nux", "--formula", "none", "--json")
    assert r.exit_code == 0 and r.json()["results"][0]["polecat"] == "app/polecats/nux"
    other = create_bead(town_root, "app", "Also for nux")
    busy = tcli("sling", other, "app/nux", "--formula", "none", "--json")
    assert busy.exit_code == 5 and "busy" in busy.json()["results"][0]["error"]
    assert tcli("sling", other, "app/polecats/witness").exit_code == 2
    assert tcli("sling", other, "app/polecats/-bad").exit_code == 2


def test_a_polecat_rehooked_outside_sling_keeps_its_slot(tcli, town_root, idle_rig):
    """The refinery re-hooks a rework bead to its idle polecat: that polecat is not given other work."""
    from vermas.town import work

    assert tcli("config", "set", "polecats.max", "1", "--rig", "app").exit_code == 0
    first = create_bead(town_root, "app", "First")
    row = tcli("sling", first, "app", "--formula", "none", "--json").json()["results"][0]
    assert tcli("polecat", "kill", "app/furiosa", "--release").exit_code == 0  # idle, session gone
    work.set_hook(town_root, Agent("polecat", "app", "furiosa"), first, actor="app/refinery")
    second = create_bead(town_root, "app", "Second")
    out = tcli("sling", second, "app", "--formula", "none", "--json").json()["results"][0]
    assert out["status"] == "queued"  # the only slot is taken by the re-hooked polecat
    assert read_bead(town_root, "app", first)["assignee"] == row["polecat"]


def test_worktrees_are_real_git_worktrees_even_after_a_deleted_directory(town_root, rig):
    import shutil

    from vermas.town import worktrees

    paths = Town(town_root).rig("app")
    repo = paths.repo
    base = git("rev-parse", "main", cwd=repo)
    # an old registration (git worktree add) whose directory was deleted by hand
    old = paths.polecat_worktree("nux")
    git("worktree", "add", "--quiet", "-b", "old-branch", old, "main", cwd=repo)
    shutil.rmtree(old)
    path = worktrees.ensure(paths, "nux", "polecat/nux/ap-1@x", base)
    assert path == old and git("rev-parse", "--abbrev-ref", "HEAD", cwd=path) == "polecat/nux/ap-1@x"
    listed = git("worktree", "list", "--porcelain", cwd=repo)
    assert listed.count(f"worktree {path}\n") == 1
    with open(os.path.join(path, "feature.txt"), "w") as fh:
        fh.write("x\n")
    git("add", "-A", cwd=path)
    git("commit", "-qm", "feature", cwd=path)
    assert git("rev-parse", "refs/heads/polecat/nux/ap-1@x", cwd=repo) == git("rev-parse", "HEAD", cwd=path)
    # reuse: a clean worktree switches to the next job's branch
    assert worktrees.ensure(paths, "nux", "polecat/nux/ap-2@y", base) == path
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=path) == "polecat/nux/ap-2@y"
    assert not os.path.exists(os.path.join(path, "feature.txt"))
    git("worktree", "remove", path, cwd=repo)
    assert "polecats/nux" not in git("worktree", "list", cwd=repo)
