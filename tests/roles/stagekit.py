"""Stages for tests: an Inspector-like stage whose verdict a test (the "human") decides.

Plug it into a refinery process with ``VERMAS_REFINERY_STAGES=tests.roles.stagekit:provider``
and ``STAGEKIT_DIR=<dir>``; a file ``<dir>/<source-issue>`` holding PASS or FAIL decides, no
file means NEEDS_HUMAN.
"""

from __future__ import annotations

import json
import os

from vermas.roles.refinery.stages import FAIL, NEEDS_HUMAN, PASS, StageContext, StageResult


class DecidedStage:
    name = "inspector"
    retry_on_fail = False
    check_target_on_fail = False

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def run(self, ctx: StageContext) -> StageResult:
        verdicts = []
        for source in ctx.source_issues:
            path = os.path.join(self.directory, source)
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    verdicts.append(fh.read().strip())
            else:
                verdicts.append(NEEDS_HUMAN)
        evidence = os.path.join(ctx.evidence_dir, "inspector.json")
        with open(evidence, "w", encoding="utf-8") as fh:
            json.dump({"verdicts": verdicts, "commit": ctx.commit}, fh)
        if FAIL in verdicts:
            return StageResult(FAIL, "AC-2 failed: line 15 is not FizzBuzz", evidence,
                               {"failed_criteria": ["AC-2"], "required_fixes": ["check 15 first"]})
        if NEEDS_HUMAN in verdicts:
            return StageResult(NEEDS_HUMAN, "judge confidence 0.4 is below 0.7", evidence)
        return StageResult(PASS, "all criteria pass", evidence)


class ExplodingStage:
    name = "explodes"

    def run(self, ctx: StageContext) -> StageResult:
        raise RuntimeError("the LLM CLI crashed")


def provider(host) -> DecidedStage:
    return DecidedStage(host.environ["STAGEKIT_DIR"])
