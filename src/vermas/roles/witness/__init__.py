"""The witness: a per-rig daemon that keeps every polecat alive and every piece of work owned.

Deterministic rules, not a prompt (Gas Town's witness is an LLM following a patrol formula,
and its users pay for it: stale lifecycle mail killing new polecats, nuked work, slots that
never free). Each patrol:

* ``observe``  — one snapshot: polecat state files, ONE ``tmux list-panes`` for every pane,
  activity files written by hooks, hooked beads from the ledgers, merge requests;
* ``mailbox``  — ``POLECAT_DONE`` (stale ones ignored) → ``MERGE_READY`` to the refinery and a
  wake-up; ``MERGED`` / ``REWORK_REQUEST`` read (the ledger is the truth);
* ``rules``    — pure decisions: nudge, restart, respawn, rework respawn, reap, clean up,
  ``SPAWN_BLOCKED``;
* ``actions``  — carry them out (re-checked under locks), each an event and, where the
  protocol says, mail;
* then the backstops: drain the sling queue onto free slots, flush the nudge queues of
  hook-less runtimes.

``memory`` keeps what must survive the witness's own death (respawn counts per bead, nudge
times); ``daemon`` is the process (lock, pidfile, loop, tmux session). See docs/SUPERVISION.md.
"""
