"""SIGKILL the refinery in the middle of a merge; on restart the queue resumes, nothing is lost or doubled.

Kill points are reached for real, with git hooks in the rig's bare repository (shared by the
refinery worktree) and a gate that announces itself: after the rebase (``post-rewrite``),
during the gates, right before the target ref moves (``reference-transaction`` prepared),
after the ref moved but before the refinery recorded it, and in the middle of the outcomes
(the merged branch's deletion). Each hook waits until the test kills the refinery.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from tests.roles.conftest import git, wait_for

pytestmark = pytest.mark.slow

HOOK = """#!/bin/sh
# test hook: when armed, announce that this point is reached and wait (until killed or released)
MARK={mark}
[ -e "$MARK/armed" ] || exit 0
{condition} || exit 0
rm -f "$MARK/armed"
touch "$MARK/reached"
i=0
while [ ! -e "$MARK/release" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
exit 0
"""

REF_CONDITION = """grep -q "{ref}$" && [ "$1" = prepared ] && {extra}"""


def _install_hook(kit, name: str, mark: str, condition: str) -> None:
    path = os.path.join(kit.repo, "hooks", name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HOOK.format(mark=mark, condition=condition))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def _start(kit) -> subprocess.Popen:
    argv = [sys.executable, "-m", "vermas.cli", "--town", kit.town.root, "refinery", "run", "--rig", "app", "--once",
            "--quiet"]
    return subprocess.Popen(argv, cwd=kit.town.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _state(kit) -> dict:
    with open(os.path.join(kit.paths.refinery_dir, "state.json"), encoding="utf-8") as fh:
        return json.load(fh)


def _ids(kit) -> set[str]:
    with kit.ledger() as rig, kit.town_ledger() as town:
        from vermas.ledger import queries

        everything = ("open", "in_progress", "hooked", "closed", "blocked")
        return {i["id"] for ledger in (rig, town) for i in queries.list_issues(ledger.conn, status=everything,
                                                                                include_ephemeral=True)}


def _assert_merged_once(kit, jobs, before, bead_ids_before):
    subjects = kit.subjects()
    for cat, source, mr in jobs:
        message = f"change by {cat.name}"
        assert subjects.count(message) == 1, subjects
        assert kit.bead(mr)["status"] == "closed" and kit.bead(mr)["close_reason"] == "merged"
        assert kit.bead(source)["status"] == "closed"
        assert not kit.branch_exists(cat.branch)
        assert kit.recipients(f"MERGED {cat.name}") == sorted([f"app/{cat.name}", "app/witness", "mayor/"])
    assert git("merge-base", "--is-ancestor", before, "main", cwd=kit.repo) == ""
    assert len(git("rev-list", f"{before}..main", cwd=kit.repo).splitlines()) == len(jobs)
    assert bead_ids_before <= _ids(kit)  # no bead (work, MR or mail) lost
    state = _state(kit)
    assert state["attempt"] is None
    assert git("status", "--porcelain", cwd=kit.paths.refinery_worktree) == ""


def _crash_and_recover(kit, tmp_path, *, kill_group: bool = True, release_after_kill: bool = False):
    mark = str(tmp_path / "mark")
    os.makedirs(mark, exist_ok=True)
    jobs = [kit.work(f"cat{i}", {f"mod{i}.py": f"V = {i}\n"}, f"change by cat{i}") for i in range(2)]
    before = kit.main()
    ids_before = _ids(kit)
    open(os.path.join(mark, "armed"), "w").close()
    proc = _start(kit)
    try:
        wait_for(lambda: os.path.exists(os.path.join(mark, "reached")) or proc.poll() is not None, timeout=120,
                 message="the kill point")
        assert proc.poll() is None, proc.communicate()
        if kill_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(timeout=30)
    finally:
        open(os.path.join(mark, "release"), "w").close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    attempt = _state(kit)["attempt"]
    assert attempt is not None
    if not release_after_kill:
        # the target is either untouched or exactly at the tested tip: never half-merged
        assert kit.main() in (before, attempt.get("tip"))
    wait_for(lambda: not _lock_held(kit), timeout=30, message="the kernel to release the refinery lock")
    restarted = subprocess.run([sys.executable, "-m", "vermas.cli", "--town", kit.town.root, "refinery", "run",
                                "--rig", "app", "--once", "--json", "--quiet"], capture_output=True, text=True,
                               timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    _assert_merged_once(kit, jobs, before, ids_before)
    return attempt


def _lock_held(kit) -> bool:
    from vermas.roles.refinery.daemon import lock_held

    return lock_held(os.path.join(kit.paths.refinery_dir, "refinery.lock"))


@pytest.fixture
def crashkit(kit):
    kit.set("gates.test", "./check.sh")
    kit.set("merge.batch_size", 2)
    return kit


def test_killed_after_rebase(crashkit, tmp_path):
    _install_hook(crashkit, "post-rewrite", str(tmp_path / "mark"), "true")
    attempt = _crash_and_recover(crashkit, tmp_path)
    assert attempt["phase"] in ("building", "gating")


def test_killed_during_gates_and_the_orphaned_gate_is_killed(crashkit, tmp_path):
    mark = tmp_path / "mark"
    pidfile = tmp_path / "gate.pid"
    crashkit.set("gates.test", f"if [ -e {mark}/armed ]; then rm {mark}/armed; echo $$ > {pidfile}; "
                               f"touch {mark}/reached; sleep 120; fi; ./check.sh")
    attempt = _crash_and_recover(crashkit, tmp_path)
    assert attempt["phase"] == "gating" and attempt["stage"] == "test"
    from vermas.roles.refinery.daemon import pid_alive

    # the gate survived the refinery (its own session); recovery killed it (a zombie at most, awaiting its reaper)
    assert not pid_alive(int(pidfile.read_text()))


def test_killed_right_before_the_target_moves(crashkit, tmp_path):
    condition = REF_CONDITION.format(ref="refs/heads/main", extra="true")
    _install_hook(crashkit, "reference-transaction", str(tmp_path / "mark"), condition)
    attempt = _crash_and_recover(crashkit, tmp_path)
    assert attempt["phase"] == "moving" and len(attempt["plan"]["merged"]) == 2


def test_killed_after_the_target_moved_but_before_it_was_recorded(crashkit, tmp_path):
    # only the refinery dies; its git child completes the move once released
    condition = REF_CONDITION.format(ref="refs/heads/main", extra="true")
    _install_hook(crashkit, "reference-transaction", str(tmp_path / "mark"), condition)
    attempt = _crash_and_recover(crashkit, tmp_path, kill_group=False, release_after_kill=True)
    assert attempt["phase"] == "moving"
    assert crashkit.main() == attempt["tip"]


def test_killed_in_the_middle_of_the_outcomes(crashkit, tmp_path):
    # the first merged branch's deletion: its MR and source are closed, no MERGED mail sent yet
    condition = REF_CONDITION.format(ref="refs/heads/polecat/cat0-1", extra="true")
    _install_hook(crashkit, "reference-transaction", str(tmp_path / "mark"), condition)
    attempt = _crash_and_recover(crashkit, tmp_path)
    assert attempt["phase"] in ("moving", "outcomes")  # the plan written before the move is what is replayed
