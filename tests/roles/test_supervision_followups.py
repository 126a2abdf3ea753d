"""The town-side follow-ups of supervision: done wakes the refinery, prime shows rework, the sim
redoes reworked beads, the town's .gitignore covers the daemons' files."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.roles.conftest import git, wait_for
from vermas.sim import work as sim_work
from vermas.town import prime
from vermas.town.install import TOWN_GITIGNORE, install


# ------------------------------------------------------------------ done wakes the refinery
@pytest.mark.slow
def test_done_wakes_the_running_refinery_at_once(kit, cli):
    from vermas.town import done as done_mod

    kit.set("merge.poll_interval", 3600)  # without a wake-up it would not look again for an hour
    cli.environ["VERMAS_TOWN"] = kit.town.root
    _cat, _source, first = kit.work("toast", {"first.txt": "x\n"}, "first")
    assert cli("refinery", "start", "--rig", "app").exit_code == 0
    wait_for(lambda: kit.bead(first)["status"] == "closed", timeout=60, message="the refinery's first pass")
    assert not done_mod.wake_refinery(kit.town, "nope")
    cat = kit.polecat("nux")
    source = kit.task("wake up", polecat=cat)
    cat.commit({"wake.txt": "x\n"}, "wake")
    mr = kit.done(cat, source)
    wait_for(lambda: kit.bead(mr)["status"] == "closed", timeout=60, message="the woken refinery to merge")
    assert kit.bead(mr)["close_reason"] == "merged"
    cli("refinery", "stop", "--rig", "app")
    assert not done_mod.wake_refinery(kit.town, "app")  # nobody holds the lock: nothing is signalled


def test_wake_refinery_never_signals_a_stale_pidfile(kit):
    from vermas.town import done as done_mod

    os.makedirs(kit.paths.refinery_dir, exist_ok=True)
    with open(os.path.join(kit.paths.refinery_dir, "refinery.pid"), "w", encoding="utf-8") as fh:
        json.dump({"pid": os.getpid()}, fh)  # this test process: SIGUSR1 would kill it
    assert done_mod.wake_refinery(kit.town, "app") is False


# ------------------------------------------------------------------ prime shows the rework context
def _bead(**fields) -> dict:
    return {"id": "ap-1", "title": "T", "status": "hooked", **fields}


def test_prime_rework_section_shows_the_latest_note_in_full():
    bead = _bead(labels=["rework"], comments=[
        {"text": "[refinery] REWORK ap-m1: conflict\n\nYour branch conflicts with main in: a.py",
         "author": "app/refinery", "created_at": "2026-01-01T00:00:00Z"},
        {"text": "unrelated remark"},
        {"text": "[inspector] REWORK ap-m2: AC-2 failed\n\nRequired fixes:\n- check 15 first", "author": "inspector",
         "created_at": "2026-01-02T00:00:00Z"}])
    lines = prime.rework_section(bead)
    text = "\n".join(lines)
    assert "### Rework requested" in text and "check 15 first" in text and "conflicts" not in text
    assert "rework round 2" in text
    assert prime.rework_section(_bead(comments=bead["comments"])) == []  # no label: nothing
    assert "no rework note" in "\n".join(prime.rework_section(_bead(labels=["rework"])))


# ------------------------------------------------------------------ the sim redoes reworked beads
def test_sim_rework_resets_onto_the_base_before_its_steps():
    body = "```sim\nprintf 'x\\n' > x.txt\n```\n"
    plain = _bead(description=body)
    assert sim_work.blocks(plain) == ["printf 'x\\n' > x.txt"]
    reworked = _bead(description=body, labels=["rework"], **{sim_work.BASE_KEY: "develop"})
    assert sim_work.blocks(reworked) == ["git reset --quiet --hard develop", "printf 'x\\n' > x.txt"]
    assert sim_work.blocks(_bead(description=body, labels=["rework"]))[0] == "git reset --quiet --hard main"
    assert sim_work.blocks(_bead(description="no steps", labels=["rework"])) == []


def test_sim_find_bead_keeps_the_polecat_base(tmp_path):
    hook = tmp_path / "hook.json"
    hook.write_text(json.dumps({"bead": _bead(), "polecat": {"base": "trunk"}}))
    bead, error = sim_work.find_bead(f"cat {hook}", cwd=str(tmp_path), env=dict(os.environ))
    assert error is None and bead[sim_work.BASE_KEY] == "trunk"


def test_sim_rework_end_to_end_in_a_worktree(tmp_path):
    """The reset step really puts the branch back onto the target (a conflict cannot survive it)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=str(repo))
    (repo / "a.txt").write_text("base\n")
    git("add", "-A", cwd=str(repo))
    git("commit", "-q", "-m", "base", cwd=str(repo))
    git("switch", "-q", "-c", "work", cwd=str(repo))
    (repo / "a.txt").write_text("mine\n")
    git("commit", "-qam", "mine", cwd=str(repo))
    git("switch", "-q", "main", cwd=str(repo))
    (repo / "a.txt").write_text("theirs\n")
    git("commit", "-qam", "theirs", cwd=str(repo))
    git("switch", "-q", "work", cwd=str(repo))
    steps = sim_work.blocks(_bead(description="```sim\nprintf 'mine\\n' > a.txt\n```", labels=["rework"]))
    for step in steps:
        subprocess.run(["bash", "-c", step], cwd=str(repo), check=True)
    git("commit", "-qam", "mine again", cwd=str(repo))
    assert git("rev-parse", "HEAD~1", cwd=str(repo)) == git("rev-parse", "main", cwd=str(repo))
    assert (repo / "a.txt").read_text() == "mine\n"


# ------------------------------------------------------------------ .gitignore
def test_town_gitignore_covers_the_daemons_files(tmp_path):
    root = tmp_path / "town"
    install(str(root), git=True)
    local = ["app/refinery/rig/x", "app/refinery/target/x", "app/refinery/state.json", "app/refinery/refinery.pid",
             "app/refinery/refinery.lock", "app/refinery/refinery.log", "app/refinery/refinery.want",
             "app/witness/witness.pid", "app/witness/state.json", "app/witness/witness.log.1",
             "deacon/deacon.pid", "deacon/deacon.lock", "deacon/heartbeat.json", "deacon/state.json",
             "deacon/boot/boot.pid", "deacon/boot/state.json", "app/.runtime/sling-queue.json"]
    kept = ["app/config.json", "app/settings/config.json", "deacon/CLAUDE.md"]
    for path in local + kept:
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text("x\n")
    ignored = subprocess.run(["git", "check-ignore", *local, *kept], cwd=str(root), capture_output=True,
                             text=True).stdout.split()
    assert sorted(ignored) == sorted(local)


def test_install_repairs_an_older_gitignore(tmp_path):
    root = tmp_path / "town"
    install(str(root))
    (root / ".gitignore").write_text(".runtime/\nmy-own-entry\n")
    _town, made = install(str(root))
    assert ".gitignore (new entries)" in made
    text = (root / ".gitignore").read_text()
    assert text.startswith(".runtime/\nmy-own-entry\n") and "*/refinery/target/" in text
    assert text.splitlines().count(".runtime/") == 1
    _town, made = install(str(root))
    assert ".gitignore (new entries)" not in made
    assert all(line in text for line in TOWN_GITIGNORE.splitlines() if line and not line.startswith("#"))


def test_daemon_sessions_never_inherit_the_callers_identity():
    from vermas.roles import daemonkit

    caller = {"PATH": "/bin", "HOME": "/h", "GIT_CONFIG_GLOBAL": "/g", "VERMAS_TMUX_SOCKET": "s",
              "BD_ACTOR": "app/polecats/nux", "GT_RIG": "app", "GT_POLECAT": "nux", "BEAD_ID": "ap-1",
              "VERMAS_SESSION": "vm-app-nux", "VERMAS_SPAWN_ID": "9c1e", "SECRET_TOKEN": "x"}
    env = daemonkit.session_env(caller, {"BD_ACTOR": "deacon", "VERMAS_SESSION": "vm-deacon"})
    assert env == {"PATH": "/bin", "HOME": "/h", "GIT_CONFIG_GLOBAL": "/g", "VERMAS_TMUX_SOCKET": "s",
                   "BD_ACTOR": "deacon", "VERMAS_SESSION": "vm-deacon"}
