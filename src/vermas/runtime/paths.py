"""Where runtime state lives: the runtime dir, and the town it belongs to.

The runtime dir holds everything about running agents that is not in the ledger:
nudge queues, activity files written by hooks, delivery locks, session records and the
simulated agent's transcripts. It is resolved in this order:

1. an explicit argument;
2. ``$VERMAS_RUNTIME_DIR`` (every agent session carries it, so hooks find it);
3. ``<town>/.runtime`` when a town is found: ``--town``, ``$VERMAS_TOWN``, or the first
   directory above the working directory that contains ``mayor/town.json``;
4. otherwise :class:`~vermas.runtime.errors.RuntimeDirError`.

Layout (all paths relative to the runtime dir; ``<session>`` is the tmux session name)::

    nudge_queue/<session>/<unix-nanos>-<8hex>.json   queued nudges (Gas Town's format)
    nudge_queue/<session>/.lock                      the queue's flock
    activity/<session>.json                          written by hooks: busy/idle, prompt counter
    locks/delivery-<session>.lock                    one delivery at a time per session
    sessions/<session>.json                          what was started: runtime, workdir, argv, ids
    sim/<session>.jsonl                              the simulated agent's transcript

Hot path: standard library only, no module-level imports beyond ``os``.
"""

from __future__ import annotations

import os

TOWN_MARKER = os.path.join("mayor", "town.json")


def find_town(cwd: str | None = None, environ: dict | None = None, explicit: str | None = None) -> str | None:
    """The town root: ``explicit`` > ``$VERMAS_TOWN`` > walk up from ``cwd`` to ``mayor/town.json``."""
    env = os.environ if environ is None else environ
    for candidate in (explicit, env.get("VERMAS_TOWN")):
        if candidate:
            return os.path.abspath(candidate)
    here = os.path.abspath(cwd or os.getcwd())
    while True:
        if os.path.isfile(os.path.join(here, TOWN_MARKER)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def resolve_runtime_dir(explicit: str | None = None, *, environ: dict | None = None, cwd: str | None = None,
                        town: str | None = None, create: bool = False) -> str:
    """The runtime dir by the documented precedence; ``create`` makes it if missing."""
    env = os.environ if environ is None else environ
    path = explicit or env.get("VERMAS_RUNTIME_DIR") or None
    if not path:
        root = find_town(cwd, env, town)
        if root:
            path = os.path.join(root, ".runtime")
    if not path:
        from vermas.runtime.errors import RuntimeDirError

        raise RuntimeDirError(
            "no runtime dir: not inside a town and $VERMAS_RUNTIME_DIR is not set",
            hint="run inside a town (a directory with mayor/town.json), pass --town, "
                 "or set VERMAS_RUNTIME_DIR=<dir>",
        )
    path = os.path.abspath(path)
    if create:
        os.makedirs(path, exist_ok=True)
    return path


def queue_dir(runtime_dir: str, session: str) -> str:
    return os.path.join(runtime_dir, "nudge_queue", session)


def activity_path(runtime_dir: str, session: str) -> str:
    return os.path.join(runtime_dir, "activity", session + ".json")


def delivery_lock_path(runtime_dir: str, session: str) -> str:
    return os.path.join(runtime_dir, "locks", "delivery-" + session + ".lock")


def session_record_path(runtime_dir: str, session: str) -> str:
    return os.path.join(runtime_dir, "sessions", session + ".json")


def sim_transcript_path(runtime_dir: str, session: str) -> str:
    return os.path.join(runtime_dir, "sim", session + ".jsonl")
