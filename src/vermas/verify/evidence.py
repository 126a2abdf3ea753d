"""Evidence files of a verification run, under the work bead's ledger.

::

    <ledger>/.beads/evidence/<bead>/
      spec.json          the spec as verified (criteria, threshold, approval, state)
      results.json       one result per criterion: status, exit code, stdout/stderr (bounded), duration
      changes.json       base, commit, files changed, commits, diff stat
      diff.patch         the diff under test (bounded)
      briefs/auditor.json, advocate.json, critic.json, judge.json
                         each role's answer (or error), runtime and timing
      verdict.json       the verdict with its reasoning, fixes, rule, summary, timings
      runs/<run-id>/     the same files for every run (the files above are the latest run's)

(The refinery's gate logs live beside them, under ``gates/``.)
"""

from __future__ import annotations

import json
import os
import shutil

from vermas.fileops import atomic_write_text

FILES = ("spec.json", "results.json", "changes.json", "diff.patch", "verdict.json")


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def bead_dir(beads_dir: str, bead_id: str) -> str:
    return os.path.join(beads_dir, "evidence", safe(bead_id))


class RunEvidence:
    """Writes one run's files into ``runs/<run-id>/`` and, at :meth:`publish`, as the latest."""

    def __init__(self, beads_dir: str, bead_id: str, run_id: str) -> None:
        self.root = bead_dir(beads_dir, bead_id)
        self.run_dir = os.path.join(self.root, "runs", safe(run_id))
        os.makedirs(os.path.join(self.run_dir, "briefs"), exist_ok=True)
        self.written: list[str] = []

    def json(self, name: str, data: object) -> str:
        path = os.path.join(self.run_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        self.written.append(name)
        return path

    def text(self, name: str, text: str) -> str:
        path = os.path.join(self.run_dir, name)
        atomic_write_text(path, text)
        self.written.append(name)
        return path

    def publish(self) -> None:
        """Copy this run's files to the bead's evidence directory (the latest run), atomically each."""
        briefs = os.path.join(self.root, "briefs")
        if os.path.isdir(briefs):
            shutil.rmtree(briefs, ignore_errors=True)
        for name in sorted(set(self.written)):
            with open(os.path.join(self.run_dir, name), encoding="utf-8") as fh:
                text = fh.read()
            dest = os.path.join(self.root, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            atomic_write_text(dest, text)
        for name in FILES:  # a file the previous run had but this one did not must not linger
            if name not in self.written:
                try:
                    os.unlink(os.path.join(self.root, name))
                except FileNotFoundError:
                    pass


def read_json(path: str) -> dict | list | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (FileNotFoundError, ValueError):
        return None


def runs(beads_dir: str, bead_id: str) -> list[str]:
    """Run ids with evidence, oldest first."""
    path = os.path.join(bead_dir(beads_dir, bead_id), "runs")
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []
