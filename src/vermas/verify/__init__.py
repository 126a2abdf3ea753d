"""The Inspector pipeline: test specs before sling, deterministic verification, an LLM panel, verdicts.

Modules (data flows top to bottom):

* :mod:`criteria` — an acceptance criterion and the success threshold (validation, pass fraction);
* :mod:`spec` — test-spec beads (``<prefix>-spec-<suffix>``, type ``test-spec``): create, edit, approve;
* :mod:`settings` — the ``verify.*`` configuration of a rig (per-role runtimes, thresholds);
* :mod:`targets` — what a run verifies: bead, merge request, commit, base;
* :mod:`snapshot` — a throw-away checkout of one commit (no remotes, outside the town);
* :mod:`changes` — the diff under test and the integrity check (a change editing its own checks);
* :mod:`verifier` — run every criterion with its timeout (no LLM);
* :mod:`prompts`, :mod:`panel` — auditor, advocate ∥ critic, judge as headless prompts;
* :mod:`rules` — the verdict rules that hold whatever the panel says;
* :mod:`evidence`, :mod:`records` — files under ``.beads/evidence/<bead>/`` and ``verification-result`` beads;
* :mod:`pipeline` — one verification run, stage by stage, with ``verify.*`` events;
* :mod:`routing` — escalation, human resolution, rework re-sling;
* :mod:`refinery_stage` — the pipeline as the refinery's last stage;
* :mod:`drafting` — designer and strategist propose requirements and criteria;
* :mod:`accuracy` — agreement of verdicts with human labels.

See docs/INSPECTOR.md.
"""
