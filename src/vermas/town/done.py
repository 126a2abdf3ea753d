"""``vermas done``: a polecat submits its work and frees its slot.

Steps, each recorded in the polecat's state (``finishing``) so a re-run after a crash
picks up where it stopped and never duplicates anything:

1. refuse uncommitted work (exit 5) and, for ``completed``, a branch with no commits;
2. make sure the branch is in the rig's bare repository at the worktree's ``HEAD``;
3. ``completed``: find or create the merge-request bead (dedup key: branch + commit);
4. mail ``POLECAT_DONE <name>`` to ``<rig>/witness`` (once);
5. the source bead leaves the hook: ``completed`` → ``in_progress`` (assignee kept, waiting
   for the refinery, which alone closes it); ``escalated`` → ``blocked``; ``deferred`` →
   ``open`` and unassigned; the hook file is removed;
6. the polecat becomes ``idle`` (the job is kept under ``last``); a running refinery is woken
   (SIGUSR1) so the submission merges at once, and if beads wait in the rig's sling queue a
   detached ``vermas polecat dispatch <rig>`` starts them.

``POLECAT_DONE`` carries the sending session's ``Incarnation``, ``Spawn-Id`` and ``Session``,
so the witness can tell a message from an earlier incarnation of the polecat and ignore it.
"""

from __future__ import annotations

from vermas import gitops
from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.ledger import timefmt
from vermas.ledger.store import Ledger
from vermas.town import hookfile, hookread, mail, mergereq, polecats, protocol, slingqueue, work
from vermas.town.identity import Agent
from vermas.town.layout import Town

EXIT_TYPES = {"completed": "COMPLETED", "escalated": "ESCALATED", "deferred": "DEFERRED"}
BEAD_STATUS_AFTER = {"COMPLETED": "in_progress", "ESCALATED": "blocked", "DEFERRED": "open"}


def _current_branch(worktree: str) -> str | None:
    proc = gitops.run(["symbolic-ref", "--short", "-q", "HEAD"], cwd=worktree, check=False)
    return proc.stdout.strip() or None


def done(town: Town, agent: Agent, *, status: str = "completed", note: str = "", environ: dict | None = None,
         dispatch: bool = True) -> dict:
    """Submit ``agent``'s hooked work (see the module docstring); returns what happened."""
    if agent.role != "polecat":
        raise UsageError(f"'vermas done' is for polecats; you are {agent.address}",
                         hint="crew push branches with git; other roles have nothing to submit")
    exit_type = EXIT_TYPES.get(status.lower())
    if exit_type is None:
        raise UsageError(f"unknown --status {status!r}", hint="use completed, escalated or deferred")
    rig = town.rig(str(agent.rig))
    name = str(agent.name)
    with polecats.lock(rig, name):
        state = polecats.load(rig, name)
        info = hookread.read(town.root, agent, with_molecule=False)
        bead = info.get("bead")
        finishing = state.get("finishing") or None
        if bead is None:
            if finishing and finishing.get("bead") and state.get("bead") == finishing["bead"]:
                return _finish(town, agent, state, finishing, dispatch=dispatch, environ=environ, resumed=True)
            last = state.get("last") or {}
            if last.get("bead"):
                return {"already_done": True, **last}
            raise NotFoundError(f"nothing on the hook of {agent.address}: no work to submit",
                                hint="'vermas hook' shows your hook; 'vermas sling <bead> <rig>' gives work")
        worktree = state.get("worktree") or rig.polecat_worktree(name)
        if not gitops.is_repo(worktree):
            raise NotFoundError(f"worktree {worktree} of {agent.address} is missing",
                                hint="the witness can recover it; do not re-run done from elsewhere")
        dirty = gitops.dirty_paths(worktree)
        if dirty:
            shown = ", ".join(dirty[:8]) + (f" (+{len(dirty) - 8} more)" if len(dirty) > 8 else "")
            raise ConflictError(
                f"uncommitted changes in {worktree}: {shown}",
                hint="commit them (git add -A && git commit -m '…') or discard them, then run 'vermas done' again")
        head = gitops.rev_parse("HEAD", cwd=worktree)
        if head is None:
            raise ConflictError(f"{worktree} has no commit checked out")
        branch = _current_branch(worktree) or state.get("branch")
        if not branch:
            raise ConflictError(f"{worktree} is on a detached HEAD and the polecat has no branch recorded")
        target = state.get("base") or "main"
        ahead = int(gitops.out(["rev-list", "--count", f"refs/heads/{target}..{head}"], cwd=rig.repo) or "0")
        if exit_type == "COMPLETED" and ahead == 0:
            raise ConflictError(f"branch {branch} has no commits beyond {target}: nothing to merge",
                                hint="commit your work first, or finish with --status escalated|deferred")
        if gitops.rev_parse(f"refs/heads/{branch}", cwd=rig.repo) != head:
            gitops.run(["update-ref", f"refs/heads/{branch}", head], cwd=rig.repo)
        if not finishing or finishing.get("bead") != bead["id"] or finishing.get("commit") != head:
            finishing = {"bead": bead["id"], "beads_dir": info["bead_ledger"], "exit": exit_type, "branch": branch,
                         "target": target, "commit": head, "ahead": ahead, "mr": None, "mail": None,
                         "started_at": timefmt.now_str(), "note": note}
            state["finishing"] = finishing
            polecats.save(rig, state)
        return _finish(town, agent, state, finishing, dispatch=dispatch, environ=environ, resumed=False)


def _finish(town: Town, agent: Agent, state: dict, finishing: dict, *, dispatch: bool, environ: dict | None,
            resumed: bool) -> dict:
    rig = town.rig(str(agent.rig))
    actor = agent.address
    exit_type = finishing["exit"]
    created_mr = False
    if exit_type == "COMPLETED" and not finishing.get("mr"):
        with Ledger.open(rig.beads_dir) as ledger, ledger.transaction(actor) as tx:
            existing = mergereq.find(ledger, finishing["branch"], finishing["commit"])
            if existing is None:
                source = ledger.find(finishing["bead"]) or {}
                existing = mergereq.create_in_tx(
                    tx, branch=finishing["branch"], target=finishing["target"], source_issue=finishing["bead"],
                    worker=agent.address, rig=str(agent.rig), commit_sha=finishing["commit"],
                    priority=int(source.get("priority", 2)) if isinstance(source.get("priority"), int) else 2)
                created_mr = True
                for older in mergereq.for_source(ledger, finishing["bead"]):
                    if older["id"] != existing["id"] and \
                                mergereq.fields_of(older).get("branch") == finishing["branch"]:
                        tx.close(older["id"], f"superseded by {existing['id']}")
        finishing["mr"] = existing["id"]
        polecats.save(rig, state)
    if not finishing.get("mail"):
        record = protocol.PolecatDone(polecat=str(agent.name), exit=exit_type, issue=finishing["bead"],
                                      mr=finishing.get("mr") or "", branch=finishing["branch"], rig=str(agent.rig),
                                      commit=finishing["commit"], worker=agent.address,
                                      notes=finishing.get("note") or "")
        record.extra = sender_incarnation(agent, state, environ)
        [message] = mail.send_protocol(town.root, actor, f"{agent.rig}/witness", record)
        finishing["mail"] = message["id"]
        polecats.save(rig, state)
    new_status = BEAD_STATUS_AFTER[exit_type]
    with Ledger.open(finishing["beads_dir"]) as ledger, ledger.transaction(actor) as tx:
        bead = ledger.find(finishing["bead"])
        if bead is not None and bead.get("status") in ("hooked", "in_progress") \
                and bead.get("assignee") in (agent.address, ""):
            fields: dict = {"status": new_status}
            if new_status == "open":
                fields["assignee"] = None
            tx.update(bead["id"], **fields)
        hookfile.clear(agent.hook_path(town.root))
        tx.emit("hook.cleared", {"agent": agent.address, "previous_ref": finishing["bead"], "bead_status": new_status})
        tx.emit("polecat.done", {"agent": agent.address, "bead_id": finishing["bead"], "exit": exit_type,
                                 "mr_id": finishing.get("mr"), "branch": finishing["branch"],
                                 "commit_sha": finishing["commit"], "spawn_id": state.get("spawn_id")})
    last = {"bead": finishing["bead"], "exit": exit_type, "mr": finishing.get("mr"), "branch": finishing["branch"],
            "commit": finishing["commit"], "target": finishing["target"], "mail": finishing.get("mail"),
            "finished_at": timefmt.now_str()}
    state.update({"state": "idle", "bead": None, "finishing": None, "last": last, "molecule": None,
                  "finished": last["finished_at"]})
    polecats.save(rig, state)
    woken = wake_refinery(town, str(agent.rig)) if exit_type == "COMPLETED" and finishing.get("mr") else False
    dispatched = None
    if dispatch and slingqueue.items(rig):
        from vermas.town.dispatch import spawn_drainer

        dispatched = spawn_drainer(town, str(agent.rig), actor=actor, environ=environ)
    return {"already_done": False, "resumed": resumed, "created_mr": created_mr, "dispatcher_pid": dispatched,
            "bead_status": new_status, "refinery_woken": woken, **last}


def sender_incarnation(agent: Agent, state: dict, environ: dict | None) -> dict[str, str]:
    """``Incarnation``/``Spawn-Id``/``Session`` of the session running ``done`` (the witness's stale rule).

    The session's own environment wins over the state file: an older session of this polecat
    that is somehow still alive must be recognisable as older.
    """
    import os

    env = os.environ if environ is None else environ
    mine = env.get("BD_ACTOR") == agent.address or env.get("VERMAS_SESSION") == agent.session
    spawn = (env.get("VERMAS_SPAWN_ID") if mine else "") or str(state.get("spawn_id") or "")
    incarnation = (env.get("VERMAS_INCARNATION") if mine else "") or str(state.get("incarnation") or "")
    return {key: value for key, value in (("Incarnation", incarnation), ("Spawn-Id", spawn),
                                          ("Session", agent.session)) if value}


def wake_refinery(town: Town, rig: str) -> bool:
    """Wake the rig's refinery now (SIGUSR1, which its daemon handles), so a submission merges at once.

    The town does not import the refinery: the pid comes from ``<rig>/refinery/refinery.pid``,
    and is signalled only while ``refinery.lock`` is held and the process's command line names
    the refinery, so a stale pidfile never hits a recycled pid. False when no refinery runs.
    """
    import errno
    import fcntl
    import json
    import os
    import signal

    home = town.rig(rig).refinery_dir
    try:
        fd = os.open(os.path.join(home, "refinery.lock"), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False  # nobody holds it: no refinery runs
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            return False
    finally:
        os.close(fd)
    try:
        with open(os.path.join(home, "refinery.pid"), encoding="utf-8") as fh:
            pid = int(json.load(fh).get("pid") or 0)
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"refinery" not in fh.read():
                return False
        os.kill(pid, signal.SIGUSR1)
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    return True


def clear_if_stale(town: Town, agent: Agent, *, actor: str) -> bool:
    """Remove a hook file whose bead is no longer this agent's (used by ``vermas hook clear``)."""
    info = hookread.read(town.root, agent, with_molecule=False)
    if info.get("stale"):
        hookfile.clear(agent.hook_path(town.root))
        work.emit(agent.beads_dir(town.root), "hook.cleared", actor,
                  {"agent": agent.address, "previous_ref": info["stale"]["id"], "stale": True})
        return True
    return False
