"""The deacon (town supervisor) and the pieces around it.

* ``settings`` — ``deacon.*`` settings; the deacon's and boot's homes and files.
* ``tracker``  — restart bookkeeping: exponential backoff, crash-loop detection.
* ``targets``  — what the deacon supervises: every rig's witness and refinery, and boot.
* ``patrol``   — one patrol: heartbeat, restart wanted-but-dead daemons, escalate crash
  loops, land complete convoys, forward escalations to the mayor.
* ``daemon``   — the process (lock, pidfile, loop) in tmux session ``vm-deacon``.
* ``updown``   — ``vermas up`` / ``vermas down``: everything in order, idempotent.

Boot (:mod:`vermas.roles.boot`) watches the deacon's heartbeat and restarts it; the deacon
restarts boot. See docs/SUPERVISION.md.
"""
