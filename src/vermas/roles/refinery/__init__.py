"""The refinery: a per-rig merge queue that turns submitted branches into merged code.

Modules, in the order data flows through them:

* ``mr``        — the merge-request bead: Gas Town ``key: value`` description fields.
* ``settings``  — merge/gate settings of a rig (``merge.*``, ``gates.*``) and the refinery's files.
* ``queue``     — scan the rig ledger: order, dedupe, close stale requests, park/unpark, claim.
* ``workspace`` — the refinery's own worktree (``<rig>/refinery/rig``).
* ``merge``     — build candidate commits: merge-tree check, rebase, ff/merge/squash.
* ``stages``    — the gate stage interface (PASS / FAIL / NEEDS_HUMAN) and the rig's command gates.
* ``batch``     — batch-then-bisect over a stack of requests.
* ``notify``    — mail (MERGED, REWORK_REQUEST, ...), hooks, bug beads, convoys.
* ``outcomes``  — the idempotent effects of a decision (merged, rework, park, release).
* ``journal``   — the crash-recovery journal and status file (``state.json``).
* ``engine``    — one round of the queue, crash recovery.
* ``pr``        — pull-request mode.
* ``daemon``    — the long-running loop, pidfile and lock, tmux start/stop/status.

See docs/REFINERY.md for the algorithm and the crash-safety argument.
"""
