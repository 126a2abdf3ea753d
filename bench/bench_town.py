"""Town: slinging 20 beads to 20 polecats, and the agents' hot-path commands.

Figures (each measured side by side with its baseline, alternately, in the same run):

* ``sling_20``: ``vermas sling <20 beads> <rig>`` until every session is ready (hook written,
  formula poured, worktree on a new branch, tmux session started, readiness confirmed), against
  a shell script doing only the bare ``git worktree add -b`` + ``tmux new-session`` for 20.
  Both start the same agent (``sleep``; runtime ``bench`` with no startup delay), each round in
  a fresh town / fresh clone and a fresh private tmux server. Target ratio ≤ 1.5.
* ``prime_hook``: ``vermas prime --hook`` (hook JSON on stdin) as a polecat with hooked work,
  a 7-step molecule and unread mail, against ``python -c pass``. Target ≤ 3.
* ``hook_json``: ``vermas hook --json`` (what the simulated agent runs on start). Target ≤ 3.
* ``mail_check_inject``: ``vermas mail check --inject`` (the ``UserPromptSubmit`` hook). Target ≤ 3.

The hot-path commands run with the environment of a real agent session (``BD_ACTOR``,
``VERMAS_SESSION``, ``VERMAS_RUNTIME_DIR``…), so the per-call heartbeat is included. Bytecode
is compiled first (``PYTHONDONTWRITEBYTECODE`` would otherwise make every run recompile).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import tempfile
import time

from bench.common import FLOOR_CMD, PYTHON, VERMAS, alternate, ratio, time_once, vermas_env

BENCH_RUNTIME = {"description": "benchmark agent: sleeps, ready at once", "command": "bash",
                 "args": ["-c", "sleep 3600", "bench-agent"], "prompt_mode": "arg", "ready_delay_ms": 0}
SLING_COUNT = 20


def _git(args: list[str], cwd: str, env: dict) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _vermas(args: list[str], env: dict, cwd: str, stdin: str | None = None) -> str:
    proc = subprocess.run([VERMAS, *args], cwd=cwd, env=env, capture_output=True, text=True, input=stdin)
    if proc.returncode != 0:
        raise RuntimeError(f"vermas {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def _source_repo(path: str, env: dict) -> str:
    os.makedirs(path)
    _git(["init", "--quiet", "-b", "main"], path, env)
    for n in range(40):  # a small project: 40 files
        with open(os.path.join(path, f"mod{n}.py"), "w", encoding="utf-8") as fh:
            fh.write(f"def f{n}():\n    return {n}\n" * 20)
    _git(["add", "-A"], path, env)
    _git(["commit", "--quiet", "-m", "initial"], path, env)
    return path


def _town(work: str, source: str, env: dict, *, beads: int, max_polecats: int) -> tuple[str, list[str]]:
    from vermas.ledger.store import Ledger
    from vermas.town.config import write_setting
    from vermas.town.install import install
    from vermas.town.rigs import add_rig

    town, _made = install(os.path.join(work, "town"))
    write_setting(town.settings_path, "town-settings", "runtimes.bench", BENCH_RUNTIME)
    write_setting(town.settings_path, "town-settings", "runtime.default", "bench")
    write_setting(town.settings_path, "town-settings", "polecats.max", max_polecats)
    # Orchestration only: these beads carry no test specs (the Inspector is measured in bench_verify).
    write_setting(town.settings_path, "town-settings", "verify.spec_gate", False)
    write_setting(town.settings_path, "town-settings", "verify.enabled", False)
    add_rig(town, "app", source, prefix="ap")
    with Ledger.open(town.rig("app").beads_dir) as ledger, ledger.transaction("bench") as tx:
        ids = [tx.create(f"Task {n}", description=f"Do task {n}.")["id"] for n in range(beads)]
    return town.root, ids


def _kill_server(socket: str) -> None:
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


BASELINE_SCRIPT = """set -e
repo="$1"; dest="$2"; sock="$3"
for i in $(seq 1 {count}); do
  git -C "$repo" worktree add --quiet -b "bench/$i" "$dest/p$i" main
  tmux -L "$sock" new-session -d -s "p$i" -c "$dest/p$i" "sleep 3600"
done
"""


def bench_sling(quick: bool, base: str) -> dict:
    rounds = 2 if quick else 4
    counter = iter(range(10_000))
    env_base = vermas_env({"BD_ACTOR": "bench"})
    source = _source_repo(os.path.join(base, "source"), env_base)
    script = os.path.join(base, "baseline.sh")
    with open(script, "w", encoding="utf-8") as fh:
        fh.write(BASELINE_SCRIPT.format(count=SLING_COUNT))

    def ours() -> float:
        n = next(counter)
        work = os.path.join(base, f"town{n}")
        socket = f"vmbench-sling-{os.getpid()}-{n}"
        env = {**env_base, "VERMAS_TMUX_SOCKET": socket}
        root, ids = _town(work, source, env, beads=SLING_COUNT, max_polecats=SLING_COUNT)
        env["VERMAS_TOWN"] = root
        try:
            elapsed = time_once([VERMAS, "sling", *ids, "app", "--json"], cwd=root, env=env)
            started = json.loads(_vermas(["agents", "--running", "--json"], env, root))
            if len(started) != SLING_COUNT:
                raise RuntimeError(f"sling started {len(started)} sessions, expected {SLING_COUNT}")
            return elapsed
        finally:
            _kill_server(socket)
            shutil.rmtree(work, ignore_errors=True)

    def bare() -> float:
        n = next(counter)
        work = os.path.join(base, f"bare{n}")
        socket = f"vmbench-bare-{os.getpid()}-{n}"
        repo = os.path.join(work, "repo.git")
        os.makedirs(work)
        _git(["clone", "--bare", "--quiet", source, repo], work, env_base)
        try:
            return time_once(["bash", script, repo, work, socket], cwd=work, env=env_base)
        finally:
            _kill_server(socket)
            shutil.rmtree(work, ignore_errors=True)

    samples = alternate({"sling": ours, "bare": bare}, rounds)
    out = ratio(samples["sling"], samples["bare"], target=1.5)
    out["count"] = SLING_COUNT
    out["rounds"] = rounds
    out["baseline"] = "shell: git worktree add -b + tmux new-session, 20 times"
    return out


def hot_path_setup(base: str) -> tuple[dict, str, str]:
    """A town where polecat furiosa has hooked work (formula poured), mail, and a session record."""
    from vermas.town import mail

    env = vermas_env({"BD_ACTOR": "bench"})
    source = _source_repo(os.path.join(base, "hot-source"), env)
    socket = f"vmbench-hot-{os.getpid()}"
    env["VERMAS_TMUX_SOCKET"] = socket
    root, ids = _town(os.path.join(base, "hot"), source, env, beads=300, max_polecats=5)
    env["VERMAS_TOWN"] = root
    _vermas(["sling", ids[0], "app", "--json"], env, root)
    _kill_server(socket)  # the hot path does not depend on a live session
    worker = "app/polecats/furiosa"
    for n in range(200):  # a town with history: 200 read messages, 5 unread for the worker
        [message] = mail.send(root, "mayor", "app/witness", f"note {n}", "body")
        mail.mark_read(root, [message["id"]], "app/witness")
    for n in range(5):
        mail.send(root, "app/witness", worker, f"hint {n}", "try harder")
    agent_env = {**env, "BD_ACTOR": worker, "VERMAS_SESSION": "vm-app-furiosa",
                 "VERMAS_RUNTIME_DIR": os.path.join(root, ".runtime"), "VERMAS_RUNTIME": "bench"}
    worktree = os.path.join(root, "app", "polecats", "furiosa", "app")
    return agent_env, worktree, socket


def bench_hot_path(quick: bool, base: str) -> dict:
    rounds = 15 if quick else 41
    env, worktree, socket = hot_path_setup(base)
    hook_input = json.dumps({"session_id": "bench-session", "source": "startup", "hook_event_name": "SessionStart",
                             "cwd": worktree})
    prompt_input = json.dumps({"session_id": "bench-session", "hook_event_name": "UserPromptSubmit",
                               "prompt": "go on"})
    commands = {
        "floor": lambda: time_once(FLOOR_CMD, cwd=worktree, env=env),
        "prime_hook": lambda: time_once([VERMAS, "prime", "--hook"], cwd=worktree, env=env, stdin=hook_input),
        "hook_json": lambda: time_once([VERMAS, "hook", "--json"], cwd=worktree, env=env),
        "mail_check_inject": lambda: time_once([VERMAS, "mail", "check", "--inject"], cwd=worktree, env=env,
                                               stdin=prompt_input),
    }
    # correctness first: the figures are only worth something if the commands do their job
    hook = json.loads(_vermas(["hook", "--json"], env, worktree))
    if not hook.get("bead") or not hook.get("molecule"):
        raise RuntimeError("benchmark setup: nothing hooked for the worker")
    samples = alternate(commands, rounds, warmup=2)
    _kill_server(socket)
    floor = samples.pop("floor")
    return {name: ratio(values, floor, target=3.0) for name, values in samples.items()}


def run(quick: bool) -> dict:
    import vermas

    compileall.compile_dir(os.path.dirname(vermas.__file__), quiet=1)
    base = tempfile.mkdtemp(prefix="vermas-bench-town-")
    started = time.perf_counter()
    try:
        results = {"python": PYTHON, "floor_cmd": " ".join(FLOOR_CMD)}
        results["sling_20"] = bench_sling(quick, base)
        results.update(bench_hot_path(quick, base))
        results["seconds"] = round(time.perf_counter() - started, 1)
        return results
    finally:
        shutil.rmtree(base, ignore_errors=True)
