"""Read a molecule from the ledger: its root, its steps with their states, progress, the frontier.

``current`` is what an agent runs after a restart: the first unfinished steps — those whose
needs are all finished (in progress, ready, or failed and waiting for a retry). Nothing here
writes. Standard library and the ledger only (``vermas prime`` renders molecules).
"""

from __future__ import annotations

import json

from vermas.errors import NotFoundError, UsageError
from vermas.formulas import state as st
from vermas.formulas.fields import decode_vars, get_field, parse_fields

TYPE_CHECKING = False
if TYPE_CHECKING:

    from vermas.ledger.store import Ledger


class StepView:
    """One step of a loaded molecule; the bead is decoded only when something needs more than its state."""

    __slots__ = ("_issue", "_line", "blocked", "children", "id", "key", "kind", "parent", "state", "status")

    def __init__(self, issue_id: str, line: str, status: str, blocked: bool, parent: str | None,
                 has_children: bool) -> None:
        self._line = line
        self._issue: dict | None = None
        self.id = issue_id
        self.status = status
        self.blocked = blocked
        self.parent = parent
        labels = _labels(line)
        if labels is None:
            labels = list(self.issue.get("labels") or ())
        fake = {"status": status, "labels": labels,
                "issue_type": "gate" if '"issue_type":"gate"' in line else ""}
        self.key = st.step_key(fake)
        self.kind = st.kind_of(fake, has_children)
        self.state = st.step_state(fake, blocked)
        self.children: list[str] = []

    @property
    def issue(self) -> dict:
        if self._issue is None:
            self._issue = json.loads(self._line)
        return self._issue

    @property
    def needs(self) -> list[str]:
        return st.needs_of(self.issue)

    @property
    def title(self) -> str:
        return str(self.issue.get("title") or "")

    @property
    def finished(self) -> bool:
        return self.state in st.FINISHED

    def as_dict(self, *, full: bool = False) -> dict:
        out = {"id": self.id, "key": self.key, "title": self.title, "state": self.state, "kind": self.kind,
               "status": self.status, "needs": list(self.needs), "parent": self.parent}
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
    """Load the molecule ``ref`` refers to (see :func:`find_root`) with every step's state.

    Reads the index (child ids, statuses, blocked flags, raw lines) and decodes a step's JSON
    only when it is asked for more than its state: a 1,025-step molecule loads in a few ms.
    """
    from vermas.ledger import index

    root = find_root(ledger, ref)
    root_id = root["id"]
    conn = ledger.conn
    parents: dict[str, str] = {}
    lines: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    level = [root_id]
    for _depth in range(8):
        found: list[str] = []
        for parent in level:
            kids = [i for i, _t in index.dependents(conn, parent, "parent-child")]
            if parent != root_id and kids:
                children[parent] = kids
            for kid in kids:
                parents[kid] = parent
            found += kids
        if not found:
            break
        fresh = index.get_lines(conn, found)
        lines.update(fresh)
        level = [i for i in found if '"issue_type":"epic"' in fresh.get(i, "")]
    statuses = index.statuses(conn, list(lines))
    blocked = index.blocked_among(conn, list(lines))
    steps = []
    for issue_id, line in lines.items():
        status = statuses.get(issue_id) or "open"
        if status == "tombstone":
            continue
        parent = parents[issue_id]
        steps.append(StepView(issue_id, line, status, issue_id in blocked, None if parent == root_id else parent,
                              issue_id in children))
    steps.sort(key=lambda s: st.child_sort_key(s.id, root_id))
    for step in steps:
        step.children = sorted(children.get(step.id, ()), key=lambda c: st.child_sort_key(c, root_id))
    return Molecule(root, steps)


def _labels(line: str) -> list[str] | None:
    """The ``labels`` array of an encoded issue without decoding the rest (None: decode it all)."""
    start = line.find('"labels":[')
    if start < 0:
        return []
    end = line.find("]", start)
    segment = line[start + 10:end]  # between [ and ]
    if "\\" not in segment and segment.startswith('"') and segment.endswith('"'):
        return segment[1:-1].split('","')  # no escapes: a label cannot contain a bare quote
    try:
        labels = json.loads(line[start + 9:end + 1])
    except ValueError:
        return None
    return labels if isinstance(labels, list) else None


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
