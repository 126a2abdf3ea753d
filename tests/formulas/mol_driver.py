"""A stand-in agent that drives a molecule to completion (used by the crash-resume tests).

``python mol_driver.py BEADS_DIR MOLECULE [--pause-at KEY]``: loop on the molecule's first
unfinished step — start it, complete it — printing ``started <id>`` / ``done <id>`` after each
committed transition. With ``--pause-at KEY`` it stops (sleeps) right after starting that step,
so a test can kill it while the step is in progress. Prints ``complete`` at the end.
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    from vermas.formulas import molecule, steps
    from vermas.ledger.store import Ledger

    beads_dir, root = argv[0], argv[1]
    pause_at = argv[argv.index("--pause-at") + 1] if "--pause-at" in argv else None
    ledger = Ledger.open(beads_dir)
    while True:
        step = molecule.load(ledger, root).next_step()
        if step is None:
            print("complete", flush=True)
            return 0
        if step.state == "ready":
            steps.start(ledger, step.id, actor="driver")
            print(f"started {step.id}", flush=True)
        if step.key == pause_at:
            print("paused", flush=True)
            while True:
                time.sleep(60)
        steps.done(ledger, step.id, actor="driver", result=f"{step.key} ok")
        print(f"done {step.id}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
