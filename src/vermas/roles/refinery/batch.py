"""Batch-then-bisect: test a stack of requests once, and on red find the culprits.

The requests are stacked in queue order (``target ← r1 ← r2 ← … ← rn``) and the gates run
once on the tip. Green: all merge with one ref move. Red: binary search for the shortest
failing prefix of the stack on top of what is known good; its last request is a culprit. The
culprit is set aside, the good prefix is kept, and the search continues on the rest, so each
culprit costs O(log n) gate runs and several culprits are all found. The final good stack
is always tested as a whole before it may merge (its result is usually cached).

Flaky gates are handled inside ``test`` (each failing stage is retried once, and a stage
that also fails on the target is a pre-existing failure, not a verdict), so a batch of one
is just the degenerate case of the same algorithm. Requests that stop applying once a
culprit is removed (they built on its changes) are deferred to the next round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vermas.roles.refinery.merge import MergeConflict, Stack
from vermas.roles.refinery.mr import MergeRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.roles.refinery.engine import Verdict


@dataclass
class BatchOutcome:
    """What a batch round decided."""

    stack: Stack | None = None  # the final good stack (None when nothing merges)
    verdict: Verdict | None = None  # its passing verdict
    merged: list[MergeRequest] = field(default_factory=list)  # changes land with stack.tip
    already: list[MergeRequest] = field(default_factory=list)  # nothing to apply: already in the target
    culprits: list[tuple[MergeRequest, Verdict]] = field(default_factory=list)  # FAIL or NEEDS_HUMAN
    deferred: list[MergeConflict] = field(default_factory=list)  # conflict with other requests of the batch
    tests: int = 0  # candidate test runs (cached results not counted)


def run_batch(mrs: list[MergeRequest], build: Callable[[list[MergeRequest]], Stack],
              test: Callable[[Stack], Verdict]) -> BatchOutcome:
    """Decide a batch: ``build(seq)`` stacks requests on the base, ``test(stack)`` runs the stages."""
    outcome = BatchOutcome()
    verdicts: dict[str, Verdict] = {}

    def verdict_of(stack: Stack) -> Verdict:
        if stack.tip not in verdicts:
            verdicts[stack.tip] = test(stack)
            outcome.tests += 1
        return verdicts[stack.tip]

    good: list[MergeRequest] = []
    remaining = list(mrs)
    final: tuple[Stack, Verdict] | None = None
    while remaining:
        stack = build(good + remaining)
        if stack.dropped:
            dropped_ids = {c.mr.id for c in stack.dropped}
            outcome.deferred.extend(c for c in stack.dropped if c.mr.id not in {d.mr.id for d in outcome.deferred})
            remaining = [m for m in remaining if m.id not in dropped_ids]
            continue
        verdict = verdict_of(stack)
        if verdict.passed:
            good += remaining
            final = (stack, verdict)
            break
        # Smallest k such that good + remaining[:k] fails; remaining[k-1] is a culprit.
        lo, hi, failing = 1, len(remaining), verdict
        while lo < hi:
            mid = (lo + hi) // 2
            probe = verdict_of(build(good + remaining[:mid]))
            if probe.passed:
                lo = mid + 1
            else:
                hi, failing = mid, probe
        outcome.culprits.append((remaining[lo - 1], failing))
        good += remaining[: lo - 1]
        remaining = remaining[lo:]
    if final is None and good:
        stack = build(good)
        if stack.dropped:  # cannot happen for a prefix of a built stack; be safe and retry next round
            outcome.deferred.extend(stack.dropped)
            return outcome
        verdict = verdict_of(stack)
        if not verdict.passed:  # non-monotonic gates: merge nothing, retry the good ones next round
            outcome.deferred.extend(MergeConflict(m, [], "good subset failed re-verification", against="")
                                    for m in good)
            return outcome
        final = (stack, verdict)
    if final is not None:
        stack, verdict = final
        outcome.stack, outcome.verdict = stack, verdict
        empty_ids = {m.id for m in stack.empty}
        outcome.merged = [m for m in stack.members if m.id not in empty_ids]
        outcome.already = [m for m in stack.members if m.id in empty_ids]
    return outcome
