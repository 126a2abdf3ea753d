"""Ledger benchmarks: ``vermas ready --json``, ``show``, ``update`` and ``import`` as whole processes.

Every figure is a median ratio measured in alternation with its baseline in the same run:

* ``ready --json``, ``show <id>``, ``update <id> --status in_progress`` against the interpreter
  floor (``python -c pass``) on generated ledgers of 1k, 10k and 100k issues (2 dependencies per
  issue), with the issue's targets at 10k (≤ 4×, ≤ 4×, ≤ 6×) and the 100k/1k growth of each;
  every ``update`` run changes a different open issue, so each one really writes;
* ``import`` of the largest fixture ledger into an empty ledger against a bare
  ``json.loads`` pass over the same file, both as whole processes (target ≤ 3×).

Generated ledgers are cached under ``bench/results/`` (git-ignored); each run works on a copy.
Bytecode caching is left on for the measured processes (``PYTHONDONTWRITEBYTECODE`` is
removed from their environment), as on any installed system.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tempfile

from bench.common import FLOOR_CMD, VERMAS, alternate, ratio, summary, time_once, vermas_env

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
GEN_VERSION = 1
TARGETS = {"ready_json": 4.0, "show": 4.0, "update": 6.0}
IMPORT_TARGET = 3.0
JSON_PASS = "import json, sys\nwith open(sys.argv[1], encoding='utf-8') as fh:\n    [json.loads(line) for line in fh]\n"


def _say(message: str) -> None:
    print(f"bench ledger: {message}", file=sys.stderr, flush=True)


def _env() -> dict:
    env = vermas_env({"BD_ACTOR": "bench"})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cached_ledger(n_issues: int) -> str:
    """The ``.beads`` of a generated ledger with ``n_issues`` issues and 2 deps each (cached)."""
    from bench import ledger_gen

    root = os.path.join(RESULTS, f"ledger-{n_issues}-v{GEN_VERSION}")
    beads = os.path.join(root, ".beads")
    if os.path.exists(os.path.join(beads, "issues.jsonl")):
        return beads
    _say(f"generating a {n_issues}-issue ledger (cached in {root})…")
    tmp = root + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, ".beads"))
    ledger_gen.write_jsonl(os.path.join(tmp, ".beads", "issues.jsonl"), ledger_gen.generate(n_issues, 2 * n_issues))
    with open(os.path.join(tmp, ".beads", "config.yaml"), "w", encoding="utf-8") as fh:
        fh.write("issue-prefix: bench\n")
    os.replace(tmp, root)
    return beads


def _pick_ids(beads: str, count: int) -> tuple[str, list[str]]:
    """An issue with dependencies (for show) and ``count`` open issues (for updates)."""
    show_id = None
    open_ids: list[str] = []
    with open(os.path.join(beads, "issues.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            if show_id is None and '"dependencies"' in line and '"blocks"' in line:
                show_id = json.loads(line)["id"]
            if '"status":"open"' in line and len(open_ids) < count:
                open_ids.append(json.loads(line)["id"])
            if show_id and len(open_ids) >= count:
                break
    assert show_id is not None and len(open_ids) == count, "generated ledger lacks open issues or deps"
    return show_id, open_ids


def _measure_size(n_issues: int, rounds: int, workdir: str, env: dict) -> dict:
    source = cached_ledger(n_issues)
    project = os.path.join(workdir, f"size-{n_issues}")
    shutil.copytree(os.path.dirname(source), project)
    show_id, pool = _pick_ids(os.path.join(project, ".beads"), rounds + 2)
    _say(f"{n_issues} issues: building the index and warming up…")
    time_once([VERMAS, "list", "--limit", "1"], cwd=project, env=env)  # first open builds the index
    updates = iter(pool)

    def update() -> float:
        return time_once([VERMAS, "update", next(updates), "--status", "in_progress"], cwd=project, env=env)

    samples = alternate({
        "floor": lambda: time_once(FLOOR_CMD, env=env),
        "ready_json": lambda: time_once([VERMAS, "ready", "--json"], cwd=project, env=env),
        "show": lambda: time_once([VERMAS, "show", show_id], cwd=project, env=env),
        "update": update,
    }, rounds)
    size_bytes = os.path.getsize(os.path.join(project, ".beads", "issues.jsonl"))
    out: dict = {"issues": n_issues, "dependencies": 2 * n_issues, "jsonl_mb": round(size_bytes / 1e6, 1),
                 "floor": summary(samples["floor"])}
    for name in ("ready_json", "show", "update"):
        out[name] = ratio(samples[name], samples["floor"], target=TARGETS[name] if n_issues == 10_000 else None)
    shutil.rmtree(project, ignore_errors=True)
    return out


def _fixtures() -> str:
    """The shared fixtures (as tests/conftest.py finds them), without importing pytest."""
    beside = os.path.abspath(os.path.join(HERE, "..", "..", "shared", "fixtures"))
    return beside if os.path.isdir(beside) else os.environ.get("VERMAS_FIXTURES", beside)


def _measure_import(rounds: int, workdir: str, env: dict) -> dict:
    fixture = max(glob.glob(os.path.join(_fixtures(), "jsonl", "*.jsonl")), key=os.path.getsize)
    counter = iter(range(10_000))

    def import_once() -> float:
        project = os.path.join(workdir, f"import-{next(counter)}")
        os.makedirs(project)
        from vermas.ledger.store import Ledger

        Ledger.init(os.path.join(project, ".beads"), "gt").close()  # setup, not measured
        elapsed = time_once([VERMAS, "import", fixture], cwd=project, env=env)
        shutil.rmtree(project, ignore_errors=True)
        return elapsed

    samples = alternate({
        "json_loads_pass": lambda: time_once([sys.executable, "-c", JSON_PASS, fixture], env=env),
        "import": import_once,
    }, rounds)
    out = ratio(samples["import"], samples["json_loads_pass"], target=IMPORT_TARGET)
    with open(fixture, encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    out.update(file=os.path.basename(fixture), lines=lines, mb=round(os.path.getsize(fixture) / 1e6, 1),
               baseline="python -c 'json.loads each line' (whole process)",
               note="both measured as whole processes, alternately, into a fresh empty ledger each time")
    return out


def run(quick: bool) -> dict:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    rounds = 5 if quick else 15
    env = _env()
    os.makedirs(RESULTS, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="vermas-bench-ledger-")
    try:
        results: dict = {
            "floor_cmd": " ".join(FLOOR_CMD),
            "rounds": rounds,
            "note": ("ratios are median(command) / median(python -c pass), measured alternately in this run; "
                     "bytecode caching on, as on an installed system"),
            "sizes": {},
        }
        for n in sizes:
            results["sizes"][str(n)] = _measure_size(n, rounds, workdir, env)
        at_10k = results["sizes"].get("10000", {})
        results["targets_at_10k"] = {name: at_10k.get(name) for name in TARGETS}
        largest = str(max(sizes))
        results[f"growth_{largest}_over_1000"] = {
            name: round(results["sizes"][largest][name]["median_ms"] / results["sizes"]["1000"][name]["median_ms"], 2)
            for name in TARGETS
        }
        _say("import of the largest fixture…")
        results["import_largest_fixture"] = _measure_import(rounds, workdir, env)
        results["all_targets_met"] = all(
            (fig or {}).get("meets_target", False) for fig in results["targets_at_10k"].values()
        ) and results["import_largest_fixture"]["meets_target"]
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
