"""``vermas eval verify-accuracy``: how often the Inspector's verdicts agree with human labels.

A human labels a verdict with ``vermas inspect label <bead> correct|incorrect`` (the
``human:correct``/``human:incorrect`` label on its ``verification-result`` bead, and a
``verify.labeled`` event). Over the labelled machine verdicts (human rulings are not
counted):

* **accuracy** = correct / labelled;
* **false positive rate** = FAIL verdicts labelled incorrect / labelled FAIL verdicts
  (good work sent back; design target < 10 %);
* **false negative rate** = PASS verdicts labelled incorrect / labelled PASS verdicts
  (bad work let through; target < 20 %);
* per verdict: labelled, correct, agreement; and how many verdicts carry reasoning
  (target 100 %).
"""

from __future__ import annotations

import os

from vermas.ledger import queries, timefmt
from vermas.ledger.store import Ledger
from vermas.verify import records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town


def ledgers(town: Town, rig: str | None = None) -> list[str]:
    from vermas.town.rigs import rig_names

    if rig:
        return [town.rig(rig).beads_dir]
    return [town.beads_dir] + [town.rig(n).beads_dir for n in rig_names(town)]


def verdict_rows(town: Town, rig: str | None = None) -> list[dict]:
    rows: list[dict] = []
    for beads_dir in ledgers(town, rig):
        if not os.path.isdir(beads_dir):
            continue
        with Ledger.open(beads_dir) as ledger:
            for issue in queries.list_issues(ledger.conn, issue_type=(records.RESULT_TYPE,), order="created"):
                rows.append(records.describe(issue))
    rows.sort(key=lambda r: (timefmt.parse_ns(r["created_at"]) or 0, r["id"]))  # oldest first
    return rows


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute(rows: list[dict]) -> dict:
    machine = [r for r in rows if not r["human"]]
    labelled = [r for r in machine if r["label"]]
    correct = [r for r in labelled if r["label"] == "correct"]
    by_verdict = {}
    for verdict in ("PASS", "FAIL", "NEEDS_HUMAN"):
        mine = [r for r in labelled if r["verdict"] == verdict]
        good = [r for r in mine if r["label"] == "correct"]
        by_verdict[verdict] = {"verdicts": sum(1 for r in machine if r["verdict"] == verdict), "labelled": len(mine),
                               "correct": len(good), "agreement": _rate(len(good), len(mine))}
    fail, passed = by_verdict["FAIL"], by_verdict["PASS"]
    return {"verdicts": len(machine), "labelled": len(labelled), "unlabelled": len(machine) - len(labelled),
            "correct": len(correct), "accuracy": _rate(len(correct), len(labelled)),
            "false_positive_rate": _rate(fail["labelled"] - fail["correct"], fail["labelled"]),
            "false_negative_rate": _rate(passed["labelled"] - passed["correct"], passed["labelled"]),
            "with_reasoning": _rate(sum(1 for r in machine if r["reasoning"] not in ("", "-")), len(machine)),
            "human_rulings": len(rows) - len(machine), "by_verdict": by_verdict,
            "targets": {"false_positive_rate": 0.10, "false_negative_rate": 0.20, "with_reasoning": 1.0}}
