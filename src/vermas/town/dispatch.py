"""Dispatch: give beads to polecats (claim under the rig lock, then launch in parallel).

**Claim** (``claim``), all under the rig's sling lock, so the lock decides every race for
a slot: free slots = ``polecats.max`` − polecats holding a bead. Queued beads are served
first (FIFO), then the new ones; what does not fit is appended to the durable sling queue.
For each bead that gets a slot: pick a polecat identity (an idle polecat whose session is
not running and whose worktree is clean, else a new name from the theme), write its state
(``spawning``: the slot is taken), then in one transaction per ledger re-check and hook the
bead (``status=hooked``, ``assignee=<address>``) and pour the work formula on it, and
write the seed's hook file. A bead another dispatcher hooked first fails with exit 5.

**Launch** (``launch``), outside the lock and in parallel: create the worktree on a new
branch ``polecat/<name>/<bead>@<base36 ms>`` from the rig's default branch in the bare
repository (or switch a clean reused worktree to it), start the session with the beacon,
wait until the agent is ready, and mark the polecat ``working``. A failure rolls that
bead back (bead open again, hook cleared, polecat idle with the error recorded).
"""

from __future__ import annotations

import os
import time

from vermas import gitops
from vermas.errors import ConflictError, NotFoundError, UsageError, VermasError
from vermas.ledger import timefmt
from vermas.ledger.store import Ledger
from vermas.town import beacon, hookfile, names, polecats, slingqueue, work, worktrees
from vermas.town.identity import Agent, session_env
from vermas.town.layout import RigPaths, Town
from vermas.town.rigs import rig_info
from vermas.town.sessions import live_sessions, town_config

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Launch threads: each mostly waits on git/tmux subprocesses, which need the CPUs themselves;
# more threads than cores only adds contention (measured: 2 threads beat 8 on 2 cores).
_WORKERS = max(2, min(8, os.cpu_count() or 2))


def _base36(value: int) -> str:
    out = ""
    while value:
        value, rem = divmod(value, 36)
        out = _B36[rem] + out
    return out or "0"


def branch_name(polecat: str, bead_id: str) -> str:
    return f"polecat/{polecat}/{bead_id}@{_base36(int(time.time() * 1000))}"


class Claim:
    """A bead that got a slot: which polecat, which branch, where its bead lives."""

    __slots__ = ("agent", "bead", "beads_dir", "branch", "entry", "error", "formula", "molecule", "result",
                 "rig", "state", "title")

    def __init__(self, rig: RigPaths, entry: dict, name: str, state: dict) -> None:
        self.rig = rig
        self.entry = entry
        self.bead = entry["bead"]
        self.beads_dir = entry["beads_dir"]
        self.agent = Agent("polecat", rig.name, name)
        self.state = state
        self.branch = state["branch"]
        self.formula = entry.get("formula") or ""
        self.molecule: str | None = None
        self.title = ""
        self.error: str | None = None
        self.result: dict = {}

    def as_dict(self) -> dict:
        return {"bead": self.bead, "title": self.title, "polecat": self.agent.address, "name": self.agent.name,
                "branch": self.branch, "worktree": self.state.get("worktree"), "session": self.agent.session,
                "molecule": self.molecule, "formula": self.formula or None, "runtime": self.state.get("runtime"),
                "spawn_id": self.state.get("spawn_id"), "incarnation": self.state.get("incarnation")}


def new_entry(bead: str, beads_dir: str, *, actor: str, formula: str = "", variables: dict | None = None,
              runtime: str | None = None, force: bool = False, reason: str | None = None,
              target: str | None = None, convoy: str | None = None) -> dict:
    return {"bead": bead, "beads_dir": beads_dir, "formula": formula, "vars": dict(variables or {}),
            "runtime": runtime, "force": force, "reason": reason, "target": target, "convoy": convoy,
            "queued_by": actor, "queued_at": timefmt.now_str()}


# --------------------------------------------------------------------------------- claim
def claim(town: Town, rig_name: str, entries: list[dict], *, actor: str, environ: dict | None = None,
          drain: bool = True) -> tuple[list[Claim], list[dict], list[dict]]:
    """Give free slots to queued then new entries; ``(claims, queued, failed)`` (see module doc)."""
    rig = town.rig(rig_name)
    info = rig_info(town, rig_name)
    config = town_config(town, rig_name, environ=environ)
    limit = config.int("polecats.max")
    theme = config.str("polecats.names")
    default_runtime = config.runtime_for("polecat")
    claims: list[Claim] = []
    failed: list[dict] = []
    with slingqueue.sling_lock(rig):
        states = {s["name"]: s for s in polecats.all_states(rig)}
        busy = [s for s in states.values() if s.get("state") in polecats.BUSY_STATES and s.get("bead")]
        holders = {s["bead"]: s["address"] for s in busy}
        for name, bead in _hooked_elsewhere(town, rig, states).items():  # e.g. re-hooked for rework
            holders.setdefault(bead, Agent("polecat", rig.name, name).address)
            states[name] = {**states[name], "hooked": bead}
        free = max(0, limit - len(holders))
        candidates = _precheck(rig, (slingqueue.pop(rig, free) if drain and free else []) + list(entries), failed)
        live: set[str] | None = None
        to_queue: list[dict] = []
        picked: set[str] = set()
        for entry in candidates:
            if entry["bead"] in holders and not entry.get("force"):
                failed.append({**entry, "error": f"{entry['bead']} is already on the hook of "
                                                 f"{holders[entry['bead']]}", "exit_code": 5})
                continue
            if len(claims) >= free:
                to_queue.append(entry)
                continue
            if live is None:
                live = _live(town, environ)
            try:
                name = _pick(rig, states, live, picked, theme, entry.get("target"))
            except VermasError as exc:
                failed.append({**entry, "error": exc.message, "exit_code": exc.exit_code})
                continue
            picked.add(name)
            state = _claim_state(rig, states.get(name), name, entry, info, default_runtime)
            polecats.save(rig, state)
            states[name] = state
            claims.append(Claim(rig, entry, name, state))
        _hook_claims(town, claims, actor=actor, failed=failed, environ=environ)
        queued = slingqueue.enqueue(rig, to_queue) if to_queue else []
        already = {e["bead"] for e in queued}
        queued += [e for e in to_queue if e["bead"] not in already]  # already waiting: still report them
    for entry in queued:
        work.emit(rig.beads_dir, "sling.queued", actor, {"bead_id": entry["bead"], "rig": rig_name,
                                                           "position": _position(rig, entry["bead"])})
    return [c for c in claims if c.error is None], queued, failed


def _hooked_elsewhere(town: Town, rig: RigPaths, states: dict[str, dict]) -> dict[str, str]:
    """``{name: bead}`` of idle polecats whose hook still holds live work (e.g. the refinery re-hooked a
    rework bead): they occupy a slot and must not be given other work."""
    from vermas.town import hookread

    out: dict[str, str] = {}
    for name, state in states.items():
        if state.get("state") in polecats.BUSY_STATES and state.get("bead"):
            continue
        agent = Agent("polecat", rig.name, name)
        if not os.path.exists(agent.hook_path(town.root)):
            continue
        bead = hookread.read(town.root, agent, with_molecule=False).get("bead")
        if bead is not None:
            out[name] = bead["id"]
    return out


def _precheck(rig: RigPaths, entries: list[dict], failed: list[dict]) -> list[dict]:
    """Drop entries whose bead cannot be hooked now (read-only; the hook transaction re-checks)."""
    opened: dict[str, Ledger] = {}
    anyone = Agent("polecat", rig.name, "-")
    kept: list[dict] = []
    try:
        for entry in entries:
            ledger = opened.get(entry["beads_dir"])
            if ledger is None:
                ledger = opened[entry["beads_dir"]] = Ledger.open(entry["beads_dir"])
            try:
                work.check_hookable(ledger.get(entry["bead"]), anyone, force=bool(entry.get("force")))
            except VermasError as exc:
                failed.append({**entry, "error": exc.message, "exit_code": exc.exit_code})
                continue
            kept.append(entry)
    finally:
        for ledger in opened.values():
            ledger.close()
    return kept


def _position(rig: RigPaths, bead: str) -> int:
    for n, entry in enumerate(slingqueue.items(rig), 1):
        if entry["bead"] == bead:
            return n
    return 0


def _live(town: Town, environ: dict | None) -> set[str]:
    try:
        return live_sessions(town, environ)
    except VermasError:
        return set()


def _pick(rig: RigPaths, states: dict[str, dict], live: set[str], picked: set[str], theme: str,
          target: str | None) -> str:
    if target:
        state = states.get(target)
        if state is not None and ((state.get("state") in polecats.BUSY_STATES and state.get("bead"))
                                  or state.get("hooked")):
            raise ConflictError(f"polecat {rig.name}/polecats/{target} is busy with "
                                f"{state.get('bead') or state.get('hooked')}",
                                hint=f"sling to the rig ('{rig.name}') to use any free polecat")
        if Agent("polecat", rig.name, target).session in live:
            raise ConflictError(f"polecat {rig.name}/polecats/{target} still has a running session",
                                hint=f"stop it first: vermas polecat kill {rig.name}/{target}")
        return target
    for name in sorted(states):
        state = states[name]
        if name in picked or state.get("state") in polecats.BUSY_STATES or state.get("hooked"):
            continue
        if Agent("polecat", rig.name, name).session in live:
            continue
        worktree = rig.polecat_worktree(name)
        if os.path.isdir(worktree) and (not gitops.is_repo(worktree) or gitops.dirty_paths(worktree)):
            continue  # keep uncommitted leftovers for a human to look at
        return name
    taken = set(states) | picked
    if os.path.isdir(rig.polecats_dir):
        taken |= {e for e in os.listdir(rig.polecats_dir) if not e.startswith(".")}
    return names.next_name(theme, taken)


def _claim_state(rig: RigPaths, current: dict | None, name: str, entry: dict, info: dict,
                 default_runtime: str) -> dict:
    state = dict(current) if current else polecats.new_state(rig, name)
    base = info.get("default_branch") or "main"
    state.update({
        "state": "spawning", "bead": entry["bead"], "branch": branch_name(name, entry["bead"]), "base": base,
        "base_commit": None, "runtime": entry.get("runtime") or default_runtime,
        "formula": entry.get("formula") or None, "molecule": None, "spawn_id": polecats.new_spawn_id(),
        "incarnation": int(state.get("incarnation") or 0) + 1, "started_at": timefmt.now_str(), "error": None,
        "finishing": None, "dispatched_by": entry.get("queued_by"), "convoy": entry.get("convoy"),
    })
    return state


def _hook_claims(town: Town, claims: list[Claim], *, actor: str, failed: list[dict], environ: dict | None) -> None:
    """One transaction per ledger: re-check and hook every claimed bead, pour its formula."""
    groups: dict[str, list[Claim]] = {}
    lookups: dict = {}
    for c in claims:
        groups.setdefault(c.beads_dir, []).append(c)
    for beads_dir, group in groups.items():
        with Ledger.open(beads_dir) as ledger:
            with ledger.transaction(actor) as tx:
                for c in group:
                    try:
                        bead = ledger.get(c.bead)
                        work.check_hookable(bead, c.agent, force=bool(c.entry.get("force")))
                    except VermasError as exc:
                        c.error = exc.message
                        failed.append({**c.entry, "error": exc.message, "exit_code": exc.exit_code})
                        continue
                    c.title = bead.get("title", "")
                    work.hook_in_tx(tx, c.bead, c.agent, force=bool(c.entry.get("force")),
                                    reason=c.entry.get("reason"), dispatched_by=c.entry.get("queued_by") or actor,
                                    extra_event={"branch": c.branch, "spawn_id": c.state["spawn_id"],
                                                 "convoy": c.entry.get("convoy")})
                    if c.formula:
                        c.molecule = _pour(town, tx, ledger, c, environ, lookups)
            for c in group:
                if c.error is None:
                    c.state["hook_file"] = work.write_hook_file(town.root, c.agent, c.bead)
                    c.state["molecule"] = c.molecule
                    polecats.save(c.rig, c.state)
                else:
                    _release(c, c.error)


def _pour(town: Town, tx, ledger: Ledger, c: Claim, environ: dict | None, lookups: dict) -> str:
    from vermas.formulas.pour import pour
    from vermas.town.workformula import cook_for, lookup_for

    values = {"issue": c.bead, "bead_id": c.bead, "rig": c.rig.name, "polecat": str(c.agent.name),
              "worker": c.agent.address, "branch": c.branch, "base_branch": c.state.get("base") or "main",
              "title": c.title}
    lookup = lookups.get(c.rig.name)
    if lookup is None:
        lookup = lookups[c.rig.name] = lookup_for(town.root, c.rig.beads_dir, environ)
    proto = cook_for(town.root, c.rig.beads_dir, c.formula, values, dict(c.entry.get("vars") or {}), environ,
                     lookup=lookup)
    result = pour(ledger, proto, actor=tx.actor, attach_to=c.bead, assignee=c.agent.address, replace=True)
    return result.root_id


def _release(c: Claim, error: str) -> None:
    """Give a claimed slot back (the bead was not hooked)."""
    with polecats.lock(c.rig, str(c.agent.name)):
        state = polecats.load(c.rig, str(c.agent.name))
        if state.get("spawn_id") == c.state.get("spawn_id"):
            state.update({"state": "idle", "bead": None, "error": error, "incarnation":
                          max(0, int(state.get("incarnation") or 1) - 1)})
            polecats.save(c.rig, state)


# --------------------------------------------------------------------------------- launch
def ensure_worktree(rig: RigPaths, name: str, branch: str, base: str,
                    base_commit: str | None = None) -> tuple[str, str]:
    """The polecat's worktree on a new ``branch`` from ``base``; returns ``(path, base_commit)``."""
    base_commit = base_commit or gitops.rev_parse(f"refs/heads/{base}", cwd=rig.repo)
    if base_commit is None:
        raise NotFoundError(f"branch {base!r} does not exist in {rig.repo}",
                            hint=f"check the rig's default branch ('vermas rig status {rig.name}')")
    return worktrees.ensure(rig, name, branch, base_commit), base_commit


def launch(town: Town, claims: list[Claim], *, actor: str, environ: dict | None = None, wait_ready: bool = True,
           ready_timeout: float = 60.0) -> None:
    """Worktree + session for every claim, in parallel; each claim gets ``result`` or ``error``."""
    if not claims:
        return
    from vermas.town import sessions

    prov = sessions.provider(town, environ, claims[0].rig.name)
    specs: dict = {}
    bases: dict[tuple[str, str], str | None] = {}
    for c in claims:  # resolve each base branch once, not once per polecat
        key = (c.rig.repo, c.state.get("base") or "main")
        if key not in bases:
            bases[key] = gitops.rev_parse(f"refs/heads/{key[1]}", cwd=key[0])
        c.state["base_commit"] = bases[key]
    registered = _register_worktrees(town, claims, actor=actor)
    if len(registered) == 1:
        _launch_one(town, *registered[0], actor=actor, environ=environ, wait_ready=wait_ready,
                    timeout=ready_timeout, provider=prov, specs=specs)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(registered) or 1)) as pool:
        futures = [pool.submit(_launch_one, town, c, path, fresh, actor=actor, environ=environ,
                               wait_ready=wait_ready, timeout=ready_timeout, provider=prov, specs=specs)
                   for c, path, fresh in registered]
        for f in futures:
            f.result()


def _register_worktrees(town: Town, claims: list[Claim], *, actor: str) -> list[tuple[Claim, str, bool]]:
    """The cheap serial part of making worktrees: checks, all new branches in one git call, admin files."""
    prepared: list[tuple[Claim, bool]] = []
    for c in claims:
        try:
            if not c.state.get("base_commit"):
                raise NotFoundError(f"branch {c.state.get('base')!r} does not exist in {c.rig.repo}",
                                    hint=f"check the rig's default branch ('vermas rig status {c.rig.name}')")
            prepared.append((c, worktrees.prepare(c.rig, str(c.agent.name))))
        except Exception as exc:
            _fail(town, c, exc, actor=actor)
    by_repo: dict[str, list[Claim]] = {}
    for c, fresh in prepared:
        if fresh:
            by_repo.setdefault(c.rig.repo, []).append(c)
    failed: set[int] = set()
    for repo, group in by_repo.items():
        try:
            worktrees.create_branches(repo, [(c.branch, c.state["base_commit"]) for c in group])
        except Exception:  # one bad name spoils the batch: create them one by one to find it
            for c in group:
                try:
                    worktrees.create_branches(repo, [(c.branch, c.state["base_commit"])])
                except Exception as exc:
                    failed.add(id(c))
                    _fail(town, c, exc, actor=actor)
    registered: list[tuple[Claim, str, bool]] = []
    for c, fresh in prepared:
        if id(c) in failed:
            continue
        try:
            path = worktrees.register(c.rig, str(c.agent.name), c.branch) if fresh \
                else c.rig.polecat_worktree(str(c.agent.name))
            registered.append((c, path, fresh))
        except Exception as exc:
            _fail(town, c, exc, actor=actor)
    return registered


def _launch_one(town: Town, c: Claim, path: str, fresh: bool, *, actor: str, environ: dict | None,
                wait_ready: bool, timeout: float, provider: object | None = None, specs: dict | None = None) -> None:
    name = str(c.agent.name)
    try:
        worktrees.checkout(path, c.branch, c.state["base_commit"], fresh=fresh)
        state = {**c.state, "name": name, "worktree": path}  # recorded with state=working below
        record = start_session(town, c.rig, state, sender=actor, environ=environ, wait_ready=wait_ready,
                               timeout=timeout, title=c.title, provider=provider, specs=specs)
        c.result = record
    except Exception as exc:
        _fail(town, c, exc, actor=actor)


def _fail(town: Town, c: Claim, exc: Exception, *, actor: str) -> None:
    message = exc.message if isinstance(exc, VermasError) else f"{type(exc).__name__}: {exc}"
    c.error = message
    rollback(town, c, message, actor=actor)


def start_session(town: Town, rig: RigPaths, state: dict, *, sender: str, environ: dict | None = None,
                  wait_ready: bool = True, timeout: float = 60.0, resumed: bool = False, title: str | None = None,
                  provider: object | None = None, specs: dict | None = None) -> dict:
    """Start (or restart) the session of a polecat with hooked work; marks it ``working``."""
    from vermas.town import sessions

    agent = Agent("polecat", rig.name, state["name"])
    bead = state.get("bead")
    if not bead:
        raise ConflictError(f"polecat {agent.address} has nothing on its hook", hint="sling a bead to it first")
    if title is None:
        info = work_info(town, agent)
        title = info["bead"].get("title", "") if info.get("bead") else ""
    prompt = beacon.work_prompt(agent.address, sender, bead, title, molecule=state.get("molecule"), resumed=resumed)
    env = session_env(town.root, agent, bead=bead, runtime=state.get("runtime"),
                      extra={"VERMAS_SPAWN_ID": str(state.get("spawn_id") or ""),
                             "VERMAS_INCARNATION": str(state.get("incarnation") or 0)})
    record = sessions.start_agent(town, agent, runtime=state.get("runtime") or "claude",
                                  workdir=state.get("worktree") or rig.polecat_worktree(state["name"]),
                                  prompt=prompt, env=env, environ=environ, wait_ready=wait_ready, timeout=timeout,
                                  using=provider, spec=_spec(town, rig.name, state.get("runtime") or "claude",
                                                             environ, specs))
    with polecats.lock(rig, state["name"]):
        current = polecats.load(rig, state["name"])
        # A fast agent may already have run 'vermas done' (state idle): never turn that back into working.
        if current.get("spawn_id") == state.get("spawn_id") and current.get("state") == "spawning":
            current.update(state="working", session=agent.session, error=None, worktree=state.get("worktree"),
                           base_commit=state.get("base_commit"), started_at=timefmt.now_str())
            polecats.save(rig, current)
    work.emit(town.beads_dir, "agent.started", sender, {
        "agent": agent.address, "session_name": agent.session, "worktree": state.get("worktree"),
        "runtime": state.get("runtime"), "hooked_bead": bead, "branch": state.get("branch"),
        "spawn_id": state.get("spawn_id"), "incarnation": state.get("incarnation"), "resumed": resumed})
    return record


def _spec(town: Town, rig: str, name: str, environ: dict | None, cache: dict | None):
    """The runtime spec ``name``, resolved once per launch (config files are read once, not per agent)."""
    from vermas.town.sessions import runtime_spec

    if cache is None:
        return runtime_spec(town, name, rig, environ)
    key = (rig, name)
    if key not in cache:
        cache[key] = runtime_spec(town, name, rig, environ)
    return cache[key]


def work_info(town: Town, agent: Agent) -> dict:
    from vermas.town import hookread

    return hookread.read(town.root, agent, with_molecule=False)


def rollback(town: Town, c: Claim, error: str, *, actor: str) -> None:
    """Undo a claim whose launch failed: bead open again, hook cleared, polecat idle with the error."""
    name = str(c.agent.name)
    try:
        with Ledger.open(c.beads_dir) as ledger, ledger.transaction(actor) as tx:
            bead = ledger.find(c.bead)
            if bead is not None and bead.get("status") == "hooked" and bead.get("assignee") == c.agent.address:
                tx.update(c.bead, status="open", assignee=None)
            tx.emit("sling.failed", {"bead_id": c.bead, "agent": c.agent.address, "error": error})
    finally:
        hookfile.clear(c.agent.hook_path(town.root))
        polecats.update(c.rig, name, state="idle", bead=None, error=error)


# --------------------------------------------------------------------------------- queue
def drain(town: Town, rig_name: str, *, actor: str, environ: dict | None = None, wait_ready: bool = True) -> dict:
    """Start queued beads on free slots (what ``vermas done`` triggers); returns a summary."""
    claims, _queued, failed = claim(town, rig_name, [], actor=actor, environ=environ)
    launch(town, claims, actor=actor, environ=environ, wait_ready=wait_ready)
    started = [c.as_dict() for c in claims if c.error is None]
    failed += [{**c.entry, "error": c.error} for c in claims if c.error is not None]
    return {"rig": rig_name, "started": started, "failed": failed,
            "queued": [e["bead"] for e in slingqueue.items(town.rig(rig_name))]}


def spawn_drainer(town: Town, rig_name: str, *, actor: str, environ: dict | None = None) -> int | None:
    """Run ``vermas polecat dispatch <rig>`` detached (it outlives the calling agent's session)."""
    import subprocess
    import sys

    env = dict(os.environ if environ is None else environ)
    for var in ("BD_ACTOR", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW", "BEAD_ID", "VERMAS_SESSION",
                "VERMAS_AGENT", "GT_SESSION", "BEADS_DIR", "TMUX", "TMUX_PANE", "VERMAS_ROLE", "VERMAS_SPAWN_ID",
                "VERMAS_INCARNATION", "CLAUDECODE"):
        env.pop(var, None)
    env["VERMAS_TOWN"] = town.root
    log_dir = slingqueue.runtime_dir(town.rig(rig_name))
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "dispatch.log"), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vermas.cli", "--actor", actor, "polecat", "dispatch", rig_name],
            cwd=town.root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    return proc.pid


def validate_target_rig(town: Town, target: str) -> tuple[str, str | None]:
    """``rig`` or ``rig/polecats/name`` (or ``rig/name``) → ``(rig, polecat or None)``; exit 3 if unknown."""
    from vermas.runtime.naming import parse_address

    text = target.strip().strip("/")
    parts = text.split("/")
    if len(parts) == 1:
        rig_info(town, parts[0])
        return parts[0], None
    name = parts[2] if len(parts) == 3 and parts[1] == "polecats" else (
        parts[1] if len(parts) == 2 and parts[1] not in ("witness", "refinery", "crew") else None)
    if name is not None:
        rig_info(town, parts[0])
        parse_address(f"{parts[0]}/polecats/{name}")  # a name that would clash with a role's session: exit 2
        if not name.replace("-", "").replace("_", "").isalnum() or not name[0].isalpha():
            raise UsageError(f"invalid polecat name {name!r}", hint="use letters, digits, '-' or '_'")
        return parts[0], name
    raise UsageError(f"cannot sling to {target!r}", hint="sling to a rig (app) or a polecat (app/polecats/nux); "
                                                          "use 'vermas hook set' to hook work to other agents")


# --------------------------------------------------------------------------------- restart / kill
def restart(town: Town, rig_name: str, name: str, *, actor: str, environ: dict | None = None,
            wait_ready: bool = True, timeout: float = 60.0) -> dict:
    """A fresh session for a polecat with hooked work: same hook, same worktree, next incarnation."""
    from vermas.town import sessions

    rig_info(town, rig_name)
    rig = town.rig(rig_name)
    agent = Agent("polecat", rig_name, name)
    with polecats.lock(rig, name):
        state = polecats.load(rig, name)
        info = work_info(town, agent)
        bead = info.get("bead")
        if bead is None:
            raise ConflictError(f"{agent.address} has nothing on its hook to resume",
                                hint=f"sling work to it: vermas sling <bead> {agent.address}")
        worktree = state.get("worktree") or rig.polecat_worktree(name)
        if not gitops.is_repo(worktree):
            raise NotFoundError(f"worktree {worktree} of {agent.address} is missing",
                                hint="release the bead ('vermas polecat kill --release') and sling it again")
        sessions.stop_agent(town, agent.session, environ)
        state.update({"bead": bead["id"], "state": "spawning", "spawn_id": polecats.new_spawn_id(),
                      "incarnation": int(state.get("incarnation") or 0) + 1, "worktree": worktree, "error": None})
        polecats.save(rig, state)
    if not os.path.exists(agent.hook_path(town.root)):
        work.write_hook_file(town.root, agent, bead["id"])
    try:
        record = start_session(town, rig, state, sender=actor, environ=environ, wait_ready=wait_ready,
                               timeout=timeout, resumed=True)
    except VermasError as exc:
        polecats.update(rig, name, state="working", error=exc.message)
        raise
    return {"polecat": agent.address, "bead": bead["id"], "session": agent.session,
            "incarnation": state["incarnation"], "spawn_id": state["spawn_id"], "worktree": worktree,
            "ready": bool(record.get("ready"))}


def kill(town: Town, rig_name: str, name: str, *, actor: str, release: bool = False,
         environ: dict | None = None) -> dict:
    """Stop a polecat's session; with ``release`` also give its bead back (hook cleared, polecat idle)."""
    from vermas.town import sessions

    rig_info(town, rig_name)
    rig = town.rig(rig_name)
    agent = Agent("polecat", rig_name, name)
    state = polecats.load(rig, name)
    stopped = sessions.stop_agent(town, agent.session, environ)
    released = None
    if release:
        bead = work.clear_hook(town.root, agent, actor=actor, release_to="open")
        released = bead["id"] if bead else state.get("bead")
        polecats.update(rig, name, state="idle", bead=None, finishing=None, molecule=None)
    work.emit(town.beads_dir, "agent.killed", actor, {"agent": agent.address, "session_name": agent.session,
                                                      "stopped": stopped, "released": released,
                                                      "spawn_id": state.get("spawn_id")})
    return {"polecat": agent.address, "session": agent.session, "stopped": stopped, "released": released}
