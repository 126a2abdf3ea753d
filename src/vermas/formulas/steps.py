"""Move a molecule's steps along: start, done, fail, skip, retry — each one ledger transaction.

Rules: a step starts only when its needs are finished (``--force`` overrides); a completed
step never re-runs (``done`` again is a no-op, ``start`` is refused); a failed step keeps its
dependents blocked until it is retried or done; a container step finishes by itself when its
last child does; the molecule root closes when its last step finishes, and a formula with
``[squash] trigger = "on_complete"`` is squashed right then. Newly ready steps are reported
after the commit (the blocked cache is refreshed at commit time).
"""

from __future__ import annotations

from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.formulas import state as st
from vermas.formulas.fields import get_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger, Transaction

_OPEN = ("open", "in_progress", "blocked", "deferred", "hooked")


# ----------------------------------------------------------------------------- lookups
def resolve_step(ledger: Ledger, ref: str, mol: str | None = None) -> dict:
    """The step bead for ``ref``: a bead id (partial ok), or with ``mol`` a child number or formula step id."""
    if mol:
        from vermas.formulas.molecule import find_root
        from vermas.ledger import queries

        root_id = find_root(ledger, mol)["id"]
        for candidate in (ref, f"{root_id}.{ref.lstrip('.')}"):
            found = ledger.find(candidate)
            if found is not None and root_of(ledger, found) == root_id:
                return found
        hits = queries.list_issues(ledger.conn, parent=root_id, labels=(f"{st.STEP_LABEL}{ref}",),
                                   include_ephemeral=True, limit=2)
        if hits:
            return hits[0]
        raise NotFoundError(f"molecule {root_id} has no step {ref!r}",
                            hint=f"'vermas mol steps {root_id}' lists its steps")
    issue = ledger.get(ref)
    if not st.step_key(issue) and root_of(ledger, issue) is None:
        raise UsageError(f"{issue['id']} is not a molecule step",
                         hint="give a step bead id from 'vermas mol steps <molecule>', or --mol <molecule> <step-id>")
    return issue


def root_of(ledger: Ledger, issue: dict) -> str | None:
    """The molecule root above a step bead (following parent-child edges), or None."""
    current = issue
    for _depth in range(8):
        parent = st.parent_of(current)
        if parent is None:
            return None
        found = ledger.find(parent)
        if found is None:
            return None
        if found.get("issue_type") == st.MOLECULE_TYPE:
            return found["id"]
        current = found
    return None


def _state(ledger: Ledger, issue: dict) -> str:
    return st.step_state(issue, ledger.is_blocked(issue["id"]))


def _unfinished_needs(ledger: Ledger, issue: dict) -> list[str]:
    out = []
    for need in st.needs_of(issue):
        target = ledger.find(need)
        if target is not None and target.get("status") in _OPEN:
            out.append(need)
    return out


def _describe(issue: dict) -> str:
    key = st.step_key(issue)
    return f"{issue['id']} ({key})" if key else issue["id"]


# --------------------------------------------------------------------------- transitions
def start(ledger: Ledger, ref: str, *, actor: str, mol: str | None = None, force: bool = False) -> dict:
    with ledger.transaction(actor) as tx:
        issue = resolve_step(ledger, ref, mol)
        state = _state(ledger, issue)
        if state in st.FINISHED:
            raise ConflictError(f"step {_describe(issue)} is already {state}; completed steps never re-run",
                                hint="'vermas mol current' shows what to do next")
        if ledger.children(issue["id"]):
            raise ConflictError(f"step {_describe(issue)} is a container: start its children instead")
        if state == "in_progress":
            return _result(issue, "in_progress", changed=False)
        if state == "failed":
            raise ConflictError(f"step {_describe(issue)} failed; retry it first ('vermas mol step retry "
                                f"{issue['id']}')")
        if state == "pending" and not force:
            raise _not_ready(ledger, issue)
        changes: dict = {"status": "in_progress"}
        if not issue.get("assignee"):
            changes["assignee"] = actor
        updated = tx.update(issue["id"], **changes)
        tx.emit("mol.step_started", _event(ledger, updated))
    return _result(updated, "in_progress")


def done(ledger: Ledger, ref: str, *, actor: str, result: str = "", mol: str | None = None,
         force: bool = False) -> dict:
    """Complete a step; returns the step, the steps it made ready, and whether the molecule finished."""
    finished: list[str] = []
    with ledger.transaction(actor) as tx:
        issue = resolve_step(ledger, ref, mol)
        state = _state(ledger, issue)
        if state in st.FINISHED:
            return _result(issue, state, changed=False)
        if ledger.children(issue["id"]):
            raise ConflictError(f"step {_describe(issue)} is a container: it completes when its children do")
        if state == "pending" and not force:
            raise _not_ready(ledger, issue)
        if st.FAILED_LABEL in (issue.get("labels") or ()):
            tx.remove_label(issue["id"], st.FAILED_LABEL)
        closed = tx.close(issue["id"], result or "done")
        tx.emit("mol.step_completed", {**_event(ledger, closed), "result": result or "done"})
        finished.append(closed["id"])
        completion = _after_finish(tx, ledger, closed, finished)
    out = _result(closed, "completed")
    out["newly_ready"] = _newly_ready(ledger, finished)
    out.update(completion)
    return out


def fail(ledger: Ledger, ref: str, *, actor: str, reason: str, mol: str | None = None) -> dict:
    """Mark a step failed: status ``blocked`` + ``state:failed``, so its dependents stay blocked."""
    if not reason.strip():
        raise UsageError("a failure needs a reason (--reason)")
    with ledger.transaction(actor) as tx:
        issue = resolve_step(ledger, ref, mol)
        state = _state(ledger, issue)
        if state in st.FINISHED:
            raise ConflictError(f"step {_describe(issue)} is already {state}; a finished step cannot fail")
        if state == "failed":
            tx.add_comment(issue["id"], f"FAILED again: {reason}")
            return _result(issue, "failed", changed=False)
        labels = sorted({*(issue.get("labels") or ()), st.FAILED_LABEL})
        updated = tx.update(issue["id"], status=st.FAILED_STATUS, labels=labels)
        tx.add_comment(issue["id"], f"FAILED: {reason}")
        tx.emit("mol.step_failed", {**_event(ledger, updated), "reason": reason})
    out = _result(updated, "failed")
    out["reason"] = reason
    return out


def skip(ledger: Ledger, ref: str, *, actor: str, reason: str = "", mol: str | None = None) -> dict:
    """Skip a step (e.g. a conditional gate that did not fire): closed, dependents proceed."""
    finished: list[str] = []
    with ledger.transaction(actor) as tx:
        issue = resolve_step(ledger, ref, mol)
        state = _state(ledger, issue)
        if state in st.FINISHED:
            return _result(issue, state, changed=False)
        if ledger.children(issue["id"]):
            raise ConflictError(f"step {_describe(issue)} is a container: skip its children instead")
        labels = sorted({*(issue.get("labels") or ()), st.SKIPPED_LABEL} - {st.FAILED_LABEL})
        tx.update(issue["id"], labels=labels)
        closed = tx.close(issue["id"], f"skipped: {reason}" if reason else "skipped")
        tx.emit("mol.step_skipped", {**_event(ledger, closed), "reason": reason})
        finished.append(closed["id"])
        completion = _after_finish(tx, ledger, closed, finished)
    out = _result(closed, "skipped")
    out["newly_ready"] = _newly_ready(ledger, finished)
    out.update(completion)
    return out


def retry(ledger: Ledger, ref: str, *, actor: str, mol: str | None = None) -> dict:
    """Put a failed step back to work (``open``; ready again once its needs are finished)."""
    with ledger.transaction(actor) as tx:
        issue = resolve_step(ledger, ref, mol)
        if st.FAILED_LABEL not in (issue.get("labels") or ()):
            raise ConflictError(f"step {_describe(issue)} has not failed (state: {_state(ledger, issue)})")
        labels = sorted(set(issue.get("labels") or ()) - {st.FAILED_LABEL})
        updated = tx.update(issue["id"], status="open", labels=labels or None)
        tx.emit("mol.step_retried", _event(ledger, updated))
    return _result(updated, _state(ledger, updated))


# -------------------------------------------------------------------------------- helpers
def _after_finish(tx: Transaction, ledger: Ledger, issue: dict, finished: list[str]) -> dict:
    """Close containers whose children are all finished; close (and maybe squash) a finished molecule."""
    from vermas.ledger import index, queries

    root_id = root_of(ledger, issue)
    current = issue
    while True:
        parent = st.parent_of(current)
        if parent is None or parent == root_id:
            break
        siblings = ledger.children(parent)
        statuses = index.statuses(ledger.conn, siblings)
        if any(statuses.get(s) in _OPEN for s in siblings):
            break
        container = ledger.get(parent)
        if container.get("status") in _OPEN:
            current = tx.close(parent, "all children finished")
            tx.emit("mol.step_completed", {**_event(ledger, current), "result": "all children finished"})
            finished.append(parent)
        else:
            break
    if root_id is None or index.dependents(ledger.conn, current["id"], "blocks"):
        return {"molecule": root_id, "molecule_complete": False}
    remaining = queries.list_issues(ledger.conn, parent=root_id, status=_OPEN, include_ephemeral=True, limit=1)
    if remaining:
        return {"molecule": root_id, "molecule_complete": False}
    root = ledger.get(root_id)
    out: dict = {"molecule": root_id, "molecule_complete": True}
    if root.get("status") != "closed":
        tx.close(root_id, "all steps finished")
    tx.emit("mol.completed", {"molecule": root_id, "formula": root.get("source_formula") or ""})
    if get_field(root.get("description") or "", st.F_SQUASH) == "on_complete":
        from vermas.formulas.lifecycle import squash_in

        out["squashed"] = squash_in(tx, ledger, root_id)
    return out


def _newly_ready(ledger: Ledger, finished: list[str]) -> list[dict]:
    """Steps now ready because of ``finished`` (read after the commit refreshed the blocked cache)."""
    from vermas.ledger import index

    seen: set[str] = set()
    out: list[dict] = []
    for step_id in finished:
        for dependent, _type in index.dependents(ledger.conn, step_id, "blocks"):
            if dependent in seen:
                continue
            seen.add(dependent)
            issue = ledger.find(dependent)
            if issue is None:
                continue
            candidates = [issue]
            candidates += [c for c in (ledger.find(x) for x in ledger.children(dependent)) if c is not None]
            for candidate in candidates:
                if _state(ledger, candidate) == "ready" and not ledger.children(candidate["id"]):
                    out.append({"id": candidate["id"], "key": st.step_key(candidate), "title": candidate.get("title")})
    return out


def _not_ready(ledger: Ledger, issue: dict) -> ConflictError:
    waiting = _unfinished_needs(ledger, issue)
    if waiting:
        detail = "waiting for " + ", ".join(_describe(ledger.find(w) or {"id": w}) for w in waiting)
    else:
        detail = "its container or molecule is blocked"
    return ConflictError(f"step {_describe(issue)} is not ready: {detail}",
                         hint="finish those first ('vermas mol current' shows the frontier), or pass --force")


def _event(ledger: Ledger, issue: dict) -> dict:
    return {"molecule": root_of(ledger, issue), "step": issue["id"], "key": st.step_key(issue)}


def _result(issue: dict, state: str, *, changed: bool = True) -> dict:
    return {"step": issue["id"], "key": st.step_key(issue), "title": issue.get("title"), "state": state,
            "changed": changed}
