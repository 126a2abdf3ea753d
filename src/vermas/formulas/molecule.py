"""Read a molecule from the ledger: its root, its steps with their states, progress, the frontier.

``current`` is what an agent runs after a restart: the first unfinished steps — those whose
needs are all finished (in progress, ready, or failed and waiting for a retry). Nothing here
writes. Standard library and the ledger only (``vermas prime`` renders molecules).
"""

from __future__ import annotations

from vermas.errors import NotFoundError, UsageError
from vermas.formulas import state as st
from vermas.formulas.fields import decode_vars, get_field, parse_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger


class StepView:
    """One step of a loaded molecule."""

    __slots__ = ("children", "id", "issue", "key", "kind", "needs", "parent", "state")

    def __init__(self, issue: dict, blocked: bool, has_children: bool) -> None:
        self.issue = issue
        self.id: str = issue["id"]
        self.key = st.step_key(issue)
        self.kind = st.kind_of(issue, has_children)
        self.parent = st.parent_of(issue)
        self.needs = st.needs_of(issue)
        self.state = st.step_state(issue, blocked)
        self.children: list[str] = []

    @property
    def title(self) -> str:
        return str(self.issue.get("title") or "")

    @property
    def finished(self) -> bool:
        return self.state in st.FINISHED

    def as_dict(self, *, full: bool = False) -> dict:
        out = {"id": self.id, "key": self.key, "title": self.title, "state": self.state, "kind": self.kind,
               "status": self.issue.get("status") or "open", "needs": list(self.needs), "parent": self.parent}
        if self.children:
            out["children"] = list(self.children)
        reason = self.issue.get("close_reason")
        if reason:
            out["result"] = reason
        if self.issue.get("assignee"):
            out["assignee"] = self.issue["assignee"]
        if full:
            out["description"] = self.issue.get("description") or ""
            if self.issue.get("acceptance_criteria"):
                out["acceptance"] = self.issue["acceptance_criteria"]
            out["labels"] = list(self.issue.get("labels") or ())
        return out


class Molecule:
    """A molecule root with its steps in pour order (the formula's topological order)."""

    def __init__(self, root: dict, steps: list[StepView]) -> None:
        self.root = root
        self.id: str = root["id"]
        self.steps = steps
        self.by_id = {s.id: s for s in steps}
        self._fields = parse_fields(root.get("description") or "")

    # ----------------------------------------------------------------- facts
    @property
    def formula(self) -> str:
        return self._fields.get(st.F_FORMULA) or str(self.root.get("source_formula") or "")

    @property
    def ephemeral(self) -> bool:
        return self.root.get("ephemeral") is True

    @property
    def attached_to(self) -> str | None:
        return self._fields.get(st.F_ATTACHED_TO)

    @property
    def expires_at(self) -> str | None:
        return self._fields.get(st.F_EXPIRES)

    @property
    def vars(self) -> dict[str, str]:
        return decode_vars(self._fields.get(st.F_VARS, ""))

    @property
    def work_steps(self) -> list[StepView]:
        """Steps an agent carries out (containers are finished by their children)."""
        return [s for s in self.steps if s.kind != "container"]

    def step(self, ref: str) -> StepView:
        """A step by bead id, id suffix (``3``, ``.3``) or formula step id."""
        if ref in self.by_id:
            return self.by_id[ref]
        suffix = ref.lstrip(".")
        candidate = f"{self.id}.{suffix}"
        if candidate in self.by_id:
            return self.by_id[candidate]
        for step in self.steps:
            if step.key == ref:
                return step
        raise NotFoundError(f"molecule {self.id} has no step {ref!r}",
                            hint=f"'vermas mol steps {self.id}' lists its steps")

    # ---------------------------------------------------------------- derived
    def progress(self) -> dict:
        counts = {name: 0 for name in st.STATES}
        for step in self.work_steps:
            counts[step.state] += 1
        total = len(self.work_steps)
        finished = counts["completed"] + counts["skipped"]
        return {"molecule": self.id, "formula": self.formula, "total": total, "finished": finished,
                **counts, "percent": round(100.0 * finished / total, 1) if total else 100.0,
                "state": self.state()}

    def current(self) -> list[StepView]:
        """The frontier: unfinished steps whose needs are all finished (pour order)."""
        return [s for s in self.work_steps if s.state in ("in_progress", "ready", "failed")]

    def next_step(self) -> StepView | None:
        """What to do now: the first in-progress step, else the first ready one."""
        frontier = self.current()
        for wanted in ("in_progress", "ready"):
            for step in frontier:
                if step.state == wanted:
                    return step
        return None

    def state(self) -> str:
        """``complete``, ``running`` (work is ready or under way), ``failed`` (only failed steps
        remain on the frontier) or ``waiting`` (nothing actionable: gates or blocked steps)."""
        work = self.work_steps
        if all(s.finished for s in work):
            return "complete"
        states = {s.state for s in self.current()}
        if states & {"in_progress", "ready"}:
            return "running"
        if "failed" in states:
            return "failed"
        return "waiting"

    def as_dict(self, *, steps: bool = True, full: bool = False) -> dict:
        out = {"id": self.id, "title": self.root.get("title"), "formula": self.formula,
               "status": self.root.get("status") or "open", "ephemeral": self.ephemeral,
               "mol_type": self.root.get("mol_type") or "work", "attached_to": self.attached_to,
               "vars": self.vars, "progress": self.progress()}
        if self.expires_at:
            out["expires_at"] = self.expires_at
        if steps:
            out["steps"] = [s.as_dict(full=full) for s in self.steps]
        return out


# ------------------------------------------------------------------------------------ loading
def find_root(ledger: Ledger, ref: str) -> dict:
    """The molecule root for ``ref``: a molecule id, one of its steps, or a work bead it is attached to."""
    issue = ledger.get(ref)
    seen = 0
    while issue.get("issue_type") != st.MOLECULE_TYPE:
        attached = get_field(issue.get("description") or "", "attached_molecule")
        if attached and seen == 0:
            found = ledger.find(attached)
            if found is not None:
                return found
        parent = st.parent_of(issue)
        seen += 1
        if parent is None or seen > 8:
            raise UsageError(f"{ref} is not a molecule, a molecule step, or a bead with an attached molecule",
                             hint="'vermas mol list' shows the molecules in this ledger")
        found = ledger.find(parent)
        if found is None:
            raise NotFoundError(f"{ref}: its parent {parent} is not in this ledger")
        issue = found
    return issue


def load(ledger: Ledger, ref: str) -> Molecule:
    """Load the molecule ``ref`` refers to (see :func:`find_root`) with every step's state."""
    from vermas.ledger import queries

    root = find_root(ledger, ref)
    issues = queries.list_issues(ledger.conn, parent=root["id"], include_ephemeral=True, limit=None, order="id")
    children: dict[str, list[str]] = {}
    for issue in issues:
        parent = st.parent_of(issue)
        if parent:
            children.setdefault(parent, []).append(issue["id"])
    blocked = _blocked_ids(ledger, [i["id"] for i in issues])
    steps = [StepView(i, i["id"] in blocked, i["id"] in children) for i in issues]
    steps.sort(key=lambda s: st.child_sort_key(s.id, root["id"]))
    for step in steps:
        step.children = sorted(children.get(step.id, ()), key=lambda c: st.child_sort_key(c, root["id"]))
    return Molecule(root, steps)


def _blocked_ids(ledger: Ledger, ids: list[str]) -> set[str]:
    from vermas.ledger import index

    conn = ledger.conn  # one freshness check, not one per step
    return {i for i in ids if index.is_blocked(conn, i)}


def molecules(ledger: Ledger, *, include_closed: bool = False, ephemeral: bool | None = None) -> list[dict]:
    """Molecule roots in this ledger (newest first)."""
    from vermas.ledger import queries

    statuses = () if include_closed else ("open", "in_progress", "blocked", "deferred", "hooked")
    roots = queries.list_issues(ledger.conn, issue_type=(st.MOLECULE_TYPE,), status=statuses,
                                include_ephemeral=True, limit=None, order="created")
    if ephemeral is not None:
        roots = [r for r in roots if (r.get("ephemeral") is True) == ephemeral]
    return roots


def molecule_of(ledger: Ledger, bead_id: str) -> str | None:
    """The molecule attached to a work bead (its ``attached_molecule`` field), if it still exists."""
    issue = ledger.find(bead_id)
    if issue is None:
        return None
    attached = get_field(issue.get("description") or "", "attached_molecule")
    if attached and ledger.find(attached) is not None:
        return attached
    return None
