"""Inspector overhead: a whole verification run minus the criteria commands' own time.

Subject: ``vermas.verify.pipeline.run`` on the FizzBuzz dry run's change (8 criteria, all
passing) with the sim panel (advocate ∥ critic, then judge, each a ``vermas-sim -p`` process):
spec load, throw-away checkout, verifier, panel, rules, evidence files, ``verification-result``
bead and events. Its *overhead* is its wall time minus the criteria's own run time (the sum of
the durations the verifier measured).

Baseline, measured alternately in the same run: the same 8 commands run bare, one after the
other (``bash -c``), in a plain checkout of the same commit — what running the criteria by hand
costs.

Figures: medians over 20 runs (5 with ``--quick``): overhead / bare criteria time (target ≤ 2),
the stage breakdown, and the same run in objective-only mode (no panel) for comparison.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import git as _git
from bench.common import summary

TARGET = 2.0
HERE = os.path.dirname(os.path.abspath(__file__))




class _Setup:
    """A town with rig ``app``, a FizzBuzz bead with its approved spec, and the change on a branch."""

    def __init__(self, root: str) -> None:
        sys.path.insert(0, os.path.dirname(HERE))
        from tests.verify import fizzbuzz

        from vermas.ledger.store import Ledger
        from vermas.town.config import write_setting
        from vermas.town.install import install
        from vermas.town.layout import Town
        from vermas.town.rigs import add_rig
        from vermas.verify import spec as spec_mod
        from vermas.verify import targets

        for key, value in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@vermas.invalid"),
                           ("GIT_COMMITTER_NAME", "bench"), ("GIT_COMMITTER_EMAIL", "bench@vermas.invalid")):
            os.environ.setdefault(key, value)
        source = os.path.join(root, "upstream")
        os.makedirs(source)
        _git("init", "--quiet", "-b", "main", cwd=source)
        for i in range(50):  # a small but not trivial tree
            with open(os.path.join(source, f"module{i}.py"), "w", encoding="utf-8") as fh:
                fh.write(f"VALUE_{i} = {i}\n" * 20)
        _git("add", "-A", cwd=source)
        _git("commit", "--quiet", "-m", "initial", cwd=source)
        self.town = Town(os.path.join(root, "town"))
        install(self.town.root)
        add_rig(self.town, "app", source, prefix="ap")
        write_setting(self.town.settings_path, "town-settings", "runtime.default", "sim")
        rig = self.town.rig("app")
        work = os.path.join(root, "work")
        _git("worktree", "add", "--quiet", "-b", "feature", work, "main", cwd=rig.repo)
        with open(os.path.join(work, "fizzbuzz.py"), "w", encoding="utf-8") as fh:
            fh.write(fizzbuzz.CORRECT)
        _git("add", "-A", cwd=work)
        _git("commit", "--quiet", "-m", "fizzbuzz", cwd=work)
        with Ledger.open(rig.beads_dir) as ledger:
            with ledger.transaction("bench") as tx:
                self.bead = tx.create("Create FizzBuzz", issue_type="feature")["id"]
            spec = spec_mod.create(ledger, "bench", self.bead)
            for cid, description, command, hint in fizzbuzz.CRITERIA:
                spec_mod.add_criterion(ledger, "bench", spec.id, description=description, command=command, hint=hint,
                                       cid=cid)
            spec_mod.approve(ledger, "bench", spec.id)
        self.commands = [c[2] for c in fizzbuzz.CRITERIA]
        self.target = targets.resolve(self.town, self.bead, commit="feature")
        self.plain = os.path.join(root, "plain")  # the bare baseline's checkout of the same commit
        shutil.copytree(work, self.plain, ignore=shutil.ignore_patterns(".git"))

    def verify(self, *, objective_only: bool) -> dict:
        from vermas.verify import pipeline
        from vermas.verify import settings as settings_mod

        settings = settings_mod.load(self.town, "app", objective_only=objective_only)
        started = time.perf_counter()
        result = pipeline.run(self.town, self.target, settings=settings, actor="bench")
        wall = (time.perf_counter() - started) * 1000
        if result.status != "PASS":
            raise RuntimeError(f"bench verification did not pass: {result.verdict.reasoning}")
        t = result.timings
        return {"wall": wall, "criteria": t.get("criteria_ms", 0.0), "snapshot": t.get("snapshot_ms", 0.0),
                "verifier_extra": t.get("verifier_ms", 0.0) - t.get("criteria_ms", 0.0),
                "panel": t.get("panel_ms", 0.0), "record": t.get("record_ms", 0.0)}

    def bare(self) -> float:
        from vermas.verify.verifier import criteria_env, shell

        env = criteria_env(self.plain, os.environ.get("HOME", "/tmp"))
        started = time.perf_counter()
        for command in self.commands:
            proc = subprocess.run([*shell(), command], cwd=self.plain, env=env, capture_output=True,
                                  stdin=subprocess.DEVNULL)
            if proc.returncode != 0:
                raise RuntimeError(f"bare criterion failed: {command}: {proc.stderr[-500:]!r}")
        return (time.perf_counter() - started) * 1000


def run(quick: bool) -> dict:
    rounds = 5 if quick else 20
    root = tempfile.mkdtemp(prefix="vermas-bench-verify-")
    try:
        setup = _Setup(root)
        setup.verify(objective_only=False)  # warm-up (bytecode, page cache)
        setup.bare()
        panel_runs: list[dict] = []
        objective_runs: list[dict] = []
        bare: list[float] = []
        for _ in range(rounds):  # alternately: full run, bare criteria, objective-only run
            panel_runs.append(setup.verify(objective_only=False))
            bare.append(setup.bare())
            objective_runs.append(setup.verify(objective_only=True))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def med(rows: list[dict], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 1)

    overhead = [r["wall"] - r["criteria"] for r in panel_runs]
    objective_overhead = [r["wall"] - r["criteria"] for r in objective_runs]
    bare_ms = statistics.median(bare)
    ratio = statistics.median(overhead) / bare_ms
    return {
        "verification_overhead": {
            "median_ms": round(statistics.median(overhead), 1), "baseline_ms": round(bare_ms, 1),
            "ratio": round(ratio, 2), "target": TARGET, "meets_target": ratio <= TARGET,
            "what": "verification wall time minus the criteria's own time, against the 8 criteria run bare",
            "p95_ms": summary(overhead)["p95_ms"], "n": rounds},
        "run_wall": summary([r["wall"] for r in panel_runs]),
        "criteria_in_run_ms": med(panel_runs, "criteria"),
        "breakdown_ms": {"snapshot": med(panel_runs, "snapshot"), "verifier_bookkeeping": med(panel_runs,
                                                                                             "verifier_extra"),
                         "panel (advocate ∥ critic, judge)": med(panel_runs, "panel"),
                         "rules + evidence + result bead": med(panel_runs, "record")},
        "objective_only_overhead": {
            "median_ms": round(statistics.median(objective_overhead), 1),
            "ratio_to_bare_criteria": round(statistics.median(objective_overhead) / bare_ms, 2)},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))
