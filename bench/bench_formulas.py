"""Formulas and molecules: pouring towers-of-hanoi-10 (1,025 steps) and the cost of one step transition.

Figures (each measured side by side with its baseline, alternately, in the same run):

* ``pour_api``: cook + pour of towers-of-hanoi-10 in-process, against the floor of writing the
  same number of beads (1,026 plain ``tx.create`` in one transaction, no formula, no deps).
* ``pour_cli``: ``vermas mol pour towers-of-hanoi-10`` against ``python -c pass``.
* ``step_done_cli``: ``vermas mol step done <next step>`` on the poured molecule, against the floor
  of one ledger update, ``vermas update <id> --status …`` on the same ledger.
* ``step_done_api``: the same transition in-process (``steps.done``) against one in-process
  ``tx.update`` of a status.
* ``current_cli``: ``vermas mol current <molecule>`` (what an agent runs after a restart) on the
  1,025-step molecule, against ``python -c pass``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from bench.common import FLOOR_CMD, VERMAS, alternate, ratio, time_once, vermas_env

HANOI = "towers-of-hanoi-10"


def _fixture_formula(directory: str) -> str:
    """towers-of-hanoi-10 from the shared fixtures, or an equivalent generated 1,025-step chain."""
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.environ.get("VERMAS_FIXTURES") or os.path.join(here, "..", "..", "shared", "fixtures")
    source = os.path.join(fixtures, "formulas", f"gastown__{HANOI}.formula.toml")
    target = os.path.join(directory, f"{HANOI}.formula.toml")
    if os.path.exists(source):
        shutil.copyfile(source, target)
        return target
    lines = [f'formula = "{HANOI}"', "version = 1", "", '[[steps]]', 'id = "setup"', 'title = "Verify initial state"']
    previous = "setup"
    for n in range(1, 1024):
        lines += ["", "[[steps]]", f'id = "move-{n}"', f'title = "Move {n}"', f'needs = ["{previous}"]']
        previous = f"move-{n}"
    lines += ["", "[[steps]]", 'id = "verify"', 'title = "Verify final state"', f'needs = ["{previous}"]', ""]
    with open(target, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return target


def run(quick: bool) -> dict:
    from vermas.formulas import molecule, steps
    from vermas.formulas.cook import cook
    from vermas.formulas.lookup import Lookup, search_path
    from vermas.formulas.pour import pour
    from vermas.ledger.store import Ledger

    work = tempfile.mkdtemp(prefix="vermas-bench-formulas-")
    env = vermas_env({"BD_ACTOR": "bench"})
    try:
        formula_dir = os.path.join(work, "formulas")
        os.makedirs(formula_dir)
        path = _fixture_formula(formula_dir)
        lookup = Lookup(search_path(first=(formula_dir,)))
        counter = iter(range(1_000_000))

        def fresh_ledger() -> Ledger:
            return Ledger.init(os.path.join(work, f"l{next(counter)}", ".beads"), "gt")

        # ------------------------------------------------------------ pour, in-process
        def pour_api() -> float:
            ledger = fresh_ledger()
            start = time.perf_counter()
            proto = cook(lookup.load(HANOI), lookup, runtime=True)
            pour(ledger, proto, actor="bench")
            elapsed = (time.perf_counter() - start) * 1000
            ledger.close()
            return elapsed

        def raw_creates() -> float:
            ledger = fresh_ledger()
            start = time.perf_counter()
            with ledger.transaction("bench") as tx:
                root = tx.create(HANOI, issue_type="molecule", id_prefix="gt-mol")["id"]
                for n in range(1, 1026):
                    tx.create(f"Step {n}", issue_id=f"{root}.{n}", parent=root)
            elapsed = (time.perf_counter() - start) * 1000
            ledger.close()
            return elapsed

        pour_rounds = 2 if quick else 5
        samples = alternate({"pour": pour_api, "raw": raw_creates}, pour_rounds)
        results: dict = {"steps": 1025}
        results["pour_api"] = ratio(samples["pour"], samples["raw"], target=2.0) | {
            "baseline": "1,026 plain tx.create in one transaction (same bead count, no formula, no deps)"}

        # ------------------------------------------------------------ pour, CLI
        def cli_dir() -> str:
            directory = os.path.join(work, f"c{next(counter)}")
            Ledger.init(os.path.join(directory, ".beads"), "gt").close()
            return directory

        def pour_cli() -> float:
            return time_once([VERMAS, "mol", "pour", path], cwd=cli_dir(), env=env)

        samples = alternate({"pour": pour_cli, "floor": lambda: time_once(FLOOR_CMD)}, pour_rounds)
        results["pour_cli"] = ratio(samples["pour"], samples["floor"]) | {"baseline": "python -c pass"}

        # ------------------------------------------------------------ step transitions, CLI
        directory = cli_dir()
        ledger = Ledger.open(os.path.join(directory, ".beads"))
        root = pour(ledger, cook(lookup.load(HANOI), lookup, runtime=True), actor="bench").root_id
        with ledger.transaction("bench") as tx:
            scratch = tx.create("bench scratch bead")["id"]
        ledger.close()
        next_step = [1]
        status = ["open"]

        def step_done_cli() -> float:
            step_id = f"{root}.{next_step[0]}"
            next_step[0] += 1
            return time_once([VERMAS, "mol", "step", "done", step_id], cwd=directory, env=env)

        def update_cli() -> float:
            status[0] = "in_progress" if status[0] == "open" else "open"
            return time_once([VERMAS, "update", scratch, "--status", status[0]], cwd=directory, env=env)

        rounds = 8 if quick else 30
        samples = alternate({"done": step_done_cli, "update": update_cli}, rounds)
        results["step_done_cli"] = ratio(samples["done"], samples["update"], target=1.5) | {
            "baseline": "vermas update <id> --status in_progress|open on the same 1,027-bead ledger"}

        samples = alternate({"current": lambda: time_once([VERMAS, "mol", "current", root], cwd=directory, env=env),
                             "floor": lambda: time_once(FLOOR_CMD)}, rounds)
        results["current_cli"] = ratio(samples["current"], samples["floor"], target=8.0) | {
            "baseline": "python -c pass", "molecule_steps": 1025}

        # ------------------------------------------------------------ step transitions, in-process
        ledger = Ledger.open(os.path.join(directory, ".beads"))

        def step_done_api() -> float:
            step_id = f"{root}.{next_step[0]}"
            next_step[0] += 1
            start = time.perf_counter()
            steps.done(ledger, step_id, actor="bench")
            return (time.perf_counter() - start) * 1000

        def update_api() -> float:
            status[0] = "in_progress" if status[0] == "open" else "open"
            start = time.perf_counter()
            with ledger.transaction("bench") as tx:
                tx.update(scratch, status=status[0])
            return (time.perf_counter() - start) * 1000

        samples = alternate({"done": step_done_api, "update": update_api}, 20 if quick else 100)
        results["step_done_api"] = ratio(samples["done"], samples["update"], target=1.5) | {
            "baseline": "one in-process ledger transaction updating a status"}
        results["molecule_progress_after_bench"] = molecule.load(ledger, root).progress()["completed"]
        ledger.close()
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)
