"""End of a molecule's life: squash (digest, steps out of the active set), burn (no record), wisp gc.

* **squash** creates a permanent digest bead (closed, ``Digest: <title>``, a Markdown summary
  of every step or the ``--summary`` text). A wisp's steps and root are then removed outright
  (they were never exported); a poured molecule's steps become bd tombstones (so a ``git``
  merge from another clone cannot resurrect them), its root is closed, and the digest is its
  child.
* **burn** discards: a wisp is purged, a poured molecule is tombstoned; the work bead it was
  attached to loses its attachment fields.
* **gc** burns wisps whose ``expires_at`` has passed (or all of them).
"""

from __future__ import annotations

import time

from vermas.errors import ConflictError
from vermas.formulas import state as st
from vermas.formulas.fields import get_field, set_fields
from vermas.formulas.molecule import Molecule, find_root, load, molecules
from vermas.formulas.pour import detach

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger, Transaction


def squash(ledger: Ledger, ref: str, *, actor: str, summary: str | None = None, force: bool = False) -> dict:
    with ledger.transaction(actor) as tx:
        root_id = find_root(ledger, ref)["id"]
        return squash_in(tx, ledger, root_id, summary=summary, force=force)


def squash_in(tx: Transaction, ledger: Ledger, root_id: str, *, summary: str | None = None,
              force: bool = False) -> dict:
    mol = load(ledger, root_id)
    unfinished = [s for s in mol.work_steps if not s.finished]
    if unfinished and not force:
        shown = ", ".join(f"{s.id} ({s.key}, {s.state})" for s in unfinished[:5])
        raise ConflictError(f"molecule {root_id} has {len(unfinished)} unfinished step(s): {shown}",
                            hint="finish them, or pass --force to squash anyway")
    ephemeral = mol.ephemeral
    title = f"Digest: {mol.root.get('title') or mol.formula}"
    body = summary if summary else render_summary(mol)
    digest = tx.create(
        title[:500], description=set_fields(body, {"squashed_from": root_id, "formula": mol.formula}),
        issue_type="task", status="closed", labels=["digest", f"formula:{mol.formula}"],
        parent=None if ephemeral else root_id,
        fields={"close_reason": f"Squashed from {len(mol.work_steps)} {'wisps' if ephemeral else 'steps'}",
                "source_formula": mol.formula, "mol_type": mol.root.get("mol_type") or "work"},
    )
    _remove_steps(tx, mol, reason=f"squashed into {digest['id']}")
    if ephemeral:
        _detach(tx, ledger, mol)
        tx.purge(root_id)
    else:
        root = ledger.get(root_id)
        tx.update(root_id, description=set_fields(root.get("description") or "", {"squashed_into": digest["id"]},
                                                  replace=()))
        if root.get("status") != "closed":
            tx.close(root_id, f"squashed into {digest['id']}")
    tx.emit("mol.squashed", {"molecule": root_id, "digest": digest["id"], "steps": len(mol.work_steps),
                             "unfinished": len(unfinished), "ephemeral": ephemeral})
    return {"molecule": root_id, "digest": digest["id"], "steps_removed": len(mol.steps), "ephemeral": ephemeral,
            "unfinished": len(unfinished)}


def burn(ledger: Ledger, ref: str, *, actor: str) -> dict:
    with ledger.transaction(actor) as tx:
        root_id = find_root(ledger, ref)["id"]
        return burn_in(tx, ledger, root_id)


def burn_in(tx: Transaction, ledger: Ledger, root_id: str) -> dict:
    mol = load(ledger, root_id)
    _remove_steps(tx, mol, reason="burned")
    _detach(tx, ledger, mol)
    if mol.ephemeral:
        tx.purge(root_id)
    else:
        tx.delete(root_id, "burned")
    tx.emit("mol.burned", {"molecule": root_id, "steps": len(mol.steps), "ephemeral": mol.ephemeral})
    return {"molecule": root_id, "steps_removed": len(mol.steps), "ephemeral": mol.ephemeral}


def gc(ledger: Ledger, *, actor: str, everything: bool = False, now: float | None = None) -> list[str]:
    """Burn expired wisps (every wisp with ``everything``); returns the burned root ids."""
    from vermas.ledger import timefmt

    now = time.time() if now is None else now
    doomed = []
    for root in molecules(ledger, include_closed=True, ephemeral=True):
        expires = timefmt.parse_epoch(get_field(root.get("description") or "", st.F_EXPIRES))
        if everything or (expires is not None and expires <= now):
            doomed.append(root["id"])
    if doomed:
        with ledger.transaction(actor) as tx:
            for root_id in doomed:
                burn_in(tx, ledger, root_id)
            tx.emit("mol.gc", {"burned": doomed})
    return doomed


def _remove_steps(tx: Transaction, mol: Molecule, *, reason: str) -> None:
    # Deepest first so a container never outlives its children.
    for step in sorted(mol.steps, key=lambda s: -s.id.count(".")):
        if mol.ephemeral:
            tx.purge(step.id)
        elif step.issue.get("status") != "tombstone":
            tx.delete(step.id, reason)


def _detach(tx: Transaction, ledger: Ledger, mol: Molecule) -> None:
    work_id = mol.attached_to
    if work_id and ledger.find(work_id) is not None:
        detach(tx, work_id, mol.id)


def render_summary(mol: Molecule) -> str:
    """A Markdown digest of a molecule: counts, then one line per step with its result."""
    progress = mol.progress()
    unfinished = progress["total"] - progress["finished"] - progress["failed"]
    lines = [f"Molecule {mol.id} ({'wisp' if mol.ephemeral else 'poured'}) of formula {mol.formula}.",
             f"{progress['completed']} completed, {progress['skipped']} skipped, {progress['failed']} failed, "
             f"{unfinished} unfinished of {progress['total']} steps.",
             ""]
    if mol.vars:
        lines += ["Vars: " + ", ".join(f"{k}={v}" for k, v in mol.vars.items()), ""]
    marks = {"completed": "x", "skipped": "-", "failed": "!"}
    for step in mol.work_steps:
        result = step.issue.get("close_reason") or ""
        text = f"- [{marks.get(step.state, ' ')}] {step.key}: {step.title}"
        if result and result != "done":
            text += f" — {result}"
        lines.append(text)
    return "\n".join(lines)
