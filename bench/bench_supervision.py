"""Supervision: orchestration overhead per bead from sling to merged, and the witness patrol cost.

Figures (each measured side by side with its baseline, alternately, in the same run):

* ``sling_to_merged``: a town under full supervision (``vermas up``: boot, deacon, witness,
  refinery, default intervals) and the simulated agent (runtime ``sim``, one instant step).
  Subject: wall time from ``vermas sling <bead> <rig>`` (the real command, a subprocess) to
  the bead closed by the merge, **minus the agent's own work** (its step and its commit,
  replayed bare with ``bash -c`` in a twin worktree right after) and the gates' own time (no
  gates: 0). What remains is
  the orchestration: sling (claim, hook, formula, worktree, session, readiness), the agent's
  boot and its hooks (``prime``, ``hook --json``), ``vermas done`` (MR bead, mail, wake-up),
  the refinery's round (queue scan, merge-tree, rebase, compare-and-swap, outcomes, mail).
  Baseline, alternately: the bare git operations the merge needs on a twin repository,
  ``merge-tree --write-tree`` + ``rebase --onto`` + ``update-ref`` (as bench_refinery).
  Median over 20 beads (5 with ``--quick``), one at a time. Target ≤ 40×. Reported with a
  breakdown (sling command, agent boot and hooks, ``done``, merge) and, for context, against
  a second baseline: the 8 bare interpreter starts of the critical path plus the git
  operations.
* ``witness_patrol_30``: one witness patrol (in process, as the daemon runs it) over 30
  polecats with hooked work in live tmux sessions (an idle agent: nothing to act on), against
  one ``tmux list-panes -a`` of all sessions (a subprocess). Target ≤ 10×.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from bench.common import FLOOR_CMD, VERMAS, ratio, summary, vermas_env
from bench.common import git as _git

PATROL_TARGET = 10.0
GIT_TARGET = 40.0       # ~1 s of orchestration per bead against ~25 ms of git on the 2-core machine
# Python processes on the critical path of one bead: vermas sling, the sim, its SessionStart hook
# (prime --hook), its hook lookup (hook --json), the PreToolUse guard of each of its 3 tool calls
# (step, commit, done), and vermas done.
CRITICAL_PATH_PROCESSES = 8
IDLE_RUNTIME = {"description": "benchmark agent: sleeps, ready at once", "command": "bash",
                "args": ["-c", "sleep 3600", "bench-agent"], "prompt_mode": "arg", "ready_delay_ms": 0}




def _vermas(args: list[str], env: dict, cwd: str) -> str:
    proc = subprocess.run([VERMAS, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"vermas {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def _source(path: str, env: dict) -> str:
    os.makedirs(path)
    _git("init", "--quiet", "-b", "main", cwd=path, env=env)
    for n in range(50):  # the same small tree as bench_refinery
        with open(os.path.join(path, f"module{n}.py"), "w", encoding="utf-8") as fh:
            fh.write(f"VALUE_{n} = {n}\n" * 20)
    _git("add", "-A", cwd=path, env=env)
    _git("commit", "--quiet", "-m", "initial", cwd=path, env=env)
    return path


def _town(root: str, source: str, env: dict, settings: dict, rig_settings: dict):
    from vermas.town.config import write_setting
    from vermas.town.install import install
    from vermas.town.rigs import add_rig

    town, _made = install(os.path.join(root, "town"))
    for key, value in settings.items():
        write_setting(town.settings_path, "town-settings", key, value)
    add_rig(town, "app", source, prefix="ap")
    for key, value in rig_settings.items():
        write_setting(town.rig("app").settings_path, "rig-settings", key, value)
    return town


def _closed(beads_dir: str, bead_id: str) -> bool:
    from vermas.town import fastread

    issue = fastread.find_issue(beads_dir, bead_id)
    return bool(issue) and issue.get("status") == "closed"


def _agent_timeline(transcript: str, bead_id: str) -> dict:
    """Epoch times from the sim's transcript: ``start`` (process up), ``work`` (starts the bead),
    ``committed`` (end of its commit step: the agent's own work is ``committed - work``), ``done``
    (end of the ``vermas done`` step)."""
    from vermas.sim.transcript import read

    events = read(transcript)
    work = next((e["t"] for e in events if e["event"] == "work" and e.get("bead") == bead_id
                 and e.get("phase") == "start"), None)
    if work is None:
        raise RuntimeError(f"no work on {bead_id} in {transcript}")
    start = max((e["t"] for e in events if e["event"] == "start" and e["t"] <= work), default=work)
    after = [e for e in events if e["t"] >= work]
    committed = next((e["t"] for e in after if e["event"] == "tool" and "git commit" in str(e.get("command"))), None)
    done = next((e["t"] for e in after if e["event"] == "done"), None)
    if committed is None or done is None:
        raise RuntimeError(f"no commit or done for {bead_id} in {transcript}")
    return {"start": start, "work": work, "committed": committed, "done": done}


# ------------------------------------------------------------------ sling → merged
def bench_sling_to_merged(samples: int) -> dict:
    from vermas.ledger.store import Ledger

    root = tempfile.mkdtemp(prefix="vmbench-supervision-")
    socket = f"vmbench-sup-{os.getpid()}"
    env = vermas_env({"VERMAS_TMUX_SOCKET": socket, "BD_ACTOR": "mayor"})
    try:
        source = _source(os.path.join(root, "upstream"), env)
        town = _town(root, source, env, {"runtime.default": "sim"},
                     {"verify.spec_gate": False, "verify.enabled": False, "polecats.max": 3})
        env["VERMAS_TOWN"] = town.root
        rig = town.rig("app")
        twin = os.path.join(root, "twin.git")
        _git("clone", "--quiet", "--bare", source, twin, cwd=root, env=env)
        twin_wt = os.path.join(root, "twin-wt")
        _git("worktree", "add", "--quiet", "--detach", twin_wt, "main", cwd=twin, env=env)
        _vermas(["up"], env, town.root)
        n = 0

        def new_bead() -> str:
            nonlocal n
            n += 1
            body = f"Add feature {n}.\n\n```sim\nprintf 'FEATURE = {n}\\n' > feature_{n}.py\n```\n"
            with Ledger.open(rig.beads_dir) as ledger, ledger.transaction("mayor") as tx:
                return tx.create(f"Feature {n}", description=body, issue_type="task")["id"]

        details: list[dict] = []

        def agent_work(bead: str) -> float:
            """The agent's own work, replayed bare: its step and its commit as 'bash -c' in a twin worktree
            (what the sim runs, without our PreToolUse hooks around each call)."""
            worktree = os.path.join(root, "agent-replay", bead)
            _git("worktree", "add", "--quiet", "-b", f"replay/{bead}", worktree, "main", cwd=twin, env=env)
            steps = [f"printf 'FEATURE = {n}\\n' > feature_{n}.py",
                     f"git add -A && git commit -q -m '{bead}: Feature {n}'"]
            started = time.perf_counter()
            for step in steps:
                subprocess.run(["bash", "-c", step], cwd=worktree, env=env, check=True, capture_output=True)
            return time.perf_counter() - started

        def one_bead() -> float:
            bead = new_bead()
            began = time.time()
            started = time.perf_counter()
            out = json.loads(_vermas(["sling", bead, "app", "--json"], env, town.root))
            slung = time.time()
            deadline = time.monotonic() + 120
            while not _closed(rig.beads_dir, bead):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{bead} did not merge within 120 s")
                time.sleep(0.005)
            wall = time.perf_counter() - started
            merged = time.time()
            session = out["results"][0]["session"]
            t = _agent_timeline(os.path.join(town.runtime_dir, "sim", session + ".jsonl"), bead)
            agent = agent_work(bead)
            details.append({"wall_ms": wall * 1000, "agent_ms": agent * 1000,
                            "agent_turn_hooks_ms": (t["committed"] - t["work"] - agent) * 1000,
                            "sling_cmd_ms": (slung - began) * 1000,            # claim … session ready
                            "agent_boot_ms": (t["work"] - t["start"]) * 1000,   # sim up → SessionStart hook → hook
                            "done_ms": (t["done"] - t["committed"]) * 1000,     # the 'vermas done' step
                            "merge_ms": (merged - t["done"]) * 1000})           # wake-up → refinery round → closed
            return (wall - agent) * 1000

        def bare_git() -> float:
            nonlocal n
            n += 1
            branch = f"twin/{n}"
            worktree = os.path.join(root, "twin-polecats", str(n))
            _git("worktree", "add", "--quiet", "-b", branch, worktree, "main", cwd=twin, env=env)
            with open(os.path.join(worktree, f"feature_{n}.py"), "w", encoding="utf-8") as fh:
                fh.write(f"FEATURE = {n}\n")
            _git("add", "-A", cwd=worktree, env=env)
            _git("commit", "--quiet", "-m", f"feature {n}", cwd=worktree, env=env)
            commit = _git("rev-parse", "HEAD", cwd=worktree, env=env)
            started = time.perf_counter()
            old = _git("rev-parse", "refs/heads/main", cwd=twin, env=env)
            _git("merge-tree", "--write-tree", "--name-only", old, commit, cwd=twin, env=env)
            _git("rebase", "--quiet", "--onto", old, f"{commit}~1", commit, cwd=twin_wt, env=env)
            new = _git("rev-parse", "HEAD", cwd=twin_wt, env=env)
            _git("update-ref", "refs/heads/main", new, old, cwd=twin, env=env)
            return (time.perf_counter() - started) * 1000

        def floor() -> float:
            started = time.perf_counter()
            for _ in range(CRITICAL_PATH_PROCESSES):
                subprocess.run(FLOOR_CMD, capture_output=True, check=True)
            return (time.perf_counter() - started) * 1000

        one_bead()  # warm-up: first session, refinery worktree, bytecode
        bare_git()
        floor()
        details.clear()
        subject: list[float] = []
        baseline: list[float] = []
        floors: list[float] = []
        for _ in range(samples):
            subject.append(one_bead())
            git_ms = bare_git()
            baseline.append(git_ms)
            floors.append(floor() + git_ms)
        figure = ratio(subject, baseline, target=GIT_TARGET)
        return {
            **figure,
            "what": "sling → merged per bead under full supervision (vermas up; sim agent, no gates), minus the "
                    "agent's own work, vs bare merge-tree + rebase + update-ref",
            "subject": summary(subject),
            "baseline": summary(baseline),
            "wall_median_ms": round(statistics.median(d["wall_ms"] for d in details), 1),
            "agent_median_ms": round(statistics.median(d["agent_ms"] for d in details), 1),
            "overhead_minus_git_ms": round(statistics.median(subject) - statistics.median(baseline), 1),
            "breakdown_median_ms": {key: round(statistics.median(d[key] for d in details), 1)
                                    for key in ("sling_cmd_ms", "agent_boot_ms", "done_ms", "merge_ms")},
            "vs_process_floor": {
                **ratio(subject, floors),
                "what": f"the same overhead vs {CRITICAL_PATH_PROCESSES} bare interpreter starts ('python -c pass': "
                        "the Python processes on the critical path) plus the bare git operations",
            },
        }
    finally:
        subprocess.run([VERMAS, "down", "--polecats", "--timeout", "5"], env=env, capture_output=True,
                       cwd=root if not os.path.isdir(os.path.join(root, "town")) else os.path.join(root, "town"))
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------ witness patrol
def bench_patrol(samples: int, polecats: int = 30) -> dict:
    from vermas.ledger.store import Ledger
    from vermas.roles.witness.patrol import Witness
    from vermas.runtime.tmux import formats
    from vermas.town.layout import Town

    root = tempfile.mkdtemp(prefix="vmbench-patrol-")
    socket = f"vmbench-patrol-{os.getpid()}"
    env = vermas_env({"VERMAS_TMUX_SOCKET": socket, "BD_ACTOR": "mayor"})
    try:
        source = _source(os.path.join(root, "upstream"), env)
        town = _town(root, source, env, {"runtimes.bench": IDLE_RUNTIME, "runtime.default": "bench"},
                     {"verify.spec_gate": False, "polecats.max": polecats, "witness.idle_after": 3600.0,
                      "witness.stuck_after": 7200.0})
        env["VERMAS_TOWN"] = town.root
        rig = town.rig("app")
        with Ledger.open(rig.beads_dir) as ledger, ledger.transaction("mayor") as tx:
            beads = [tx.create(f"Task {k}", issue_type="task")["id"] for k in range(polecats)]
        _vermas(["sling", *beads, "app", "--no-convoy"], env, town.root)
        witness = Witness(Town(town.root), "app", environ=env)
        settings = witness.settings()
        list_panes = ["tmux", "-L", socket, "list-panes", "-a", "-F",
                      formats.format_string(("session_name", "pane_dead", "pane_dead_status", "pane_pid",
                                             "window_activity"))]

        reports: list[dict] = []

        def patrol() -> float:
            started = time.perf_counter()
            report = witness.patrol(settings)
            elapsed = (time.perf_counter() - started) * 1000
            reports.append(report)
            return elapsed

        def tmux_once() -> float:
            started = time.perf_counter()
            subprocess.run(list_panes, capture_output=True, check=True)
            return (time.perf_counter() - started) * 1000

        patrol()
        tmux_once()
        subject: list[float] = []
        baseline: list[float] = []
        for _ in range(samples):
            subject.append(patrol())
            baseline.append(tmux_once())
        acted = sum(1 for r in reports for a in r["actions"] if a.get("status") == "done")
        if acted or any(r["polecats"] != polecats for r in reports):
            raise RuntimeError(f"the patrol was not a quiet one over {polecats} polecats: {reports[-1]}")
        return {**ratio(subject, baseline, target=PATROL_TARGET),
                "what": f"one witness patrol over {polecats} live polecats with hooked work (in process) vs one "
                        "'tmux list-panes -a' subprocess",
                "subject": summary(subject), "baseline": summary(baseline), "polecats": polecats}
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def run(quick: bool) -> dict:
    return {
        "sling_to_merged": bench_sling_to_merged(5 if quick else 20),
        "witness_patrol_30": bench_patrol(10 if quick else 30),
    }
