"""How a step's state is stored in its bead, and read back. Standard library only.

A step's state is derived from the bead so that bd's ``ready`` semantics do the right thing:

========== ===================================================== =====================================
state      bead                                                  effect on dependents (``blocks``)
========== ===================================================== =====================================
pending    ``open``, blocked by an unfinished need                blocked
ready      ``open``, nothing blocks it                            blocked (it is not done yet)
in_progress ``in_progress`` (or ``hooked``)                       blocked
completed  ``closed`` (close reason = the result)                 unblocked
skipped    ``closed`` + label ``state:skipped``                   unblocked (a skipped step is passed)
failed     ``blocked`` + label ``state:failed``                   **still blocked**: ``blocked`` is a
                                                                  blocker status, ``closed`` is not
========== ===================================================== =====================================

A failed step is deliberately *not* closed: bd unblocks a ``blocks`` dependent when its
target is closed with any reason. Steps carry the label ``step:<formula step id>``.
"""

from __future__ import annotations

MOLECULE_TYPE = "molecule"
STEP_LABEL = "step:"
FAILED_LABEL = "state:failed"
SKIPPED_LABEL = "state:skipped"
STATES = ("pending", "ready", "in_progress", "completed", "failed", "skipped")
FINISHED = frozenset({"completed", "skipped"})
FAILED_STATUS = "blocked"
WISP_TTL_SECONDS = 24 * 3600  # Gas Town's wisp reaper closes wisps after 24 h

# Root description fields (``key: value`` lines, see :mod:`vermas.formulas.fields`).
F_FORMULA = "formula"
F_SOURCE = "formula_source"
F_VARS = "vars"
F_ATTACHED_TO = "attached_to"
F_EXPIRES = "expires_at"
F_SQUASH = "squash"


def labels_of(issue: dict) -> list[str]:
    return list(issue.get("labels") or ())


def step_key(issue: dict) -> str:
    """The formula step id a step bead was poured from (``""`` when it is not a step)."""
    for label in issue.get("labels") or ():
        if label.startswith(STEP_LABEL):
            return label[len(STEP_LABEL):]
    return ""


def step_state(issue: dict, blocked: bool) -> str:
    """The step state of a bead, given whether the ledger's blocked cache lists it."""
    status = issue.get("status") or "open"
    labels = issue.get("labels") or ()
    if status in ("closed", "tombstone"):
        return "skipped" if SKIPPED_LABEL in labels else "completed"
    if FAILED_LABEL in labels:
        return "failed"
    if status in ("in_progress", "hooked"):
        return "in_progress"
    if status == "open" and not blocked:
        return "ready"
    return "pending"


def kind_of(issue: dict, has_children: bool) -> str:
    if issue.get("issue_type") == "gate":
        return "gate"
    return "container" if has_children else "step"


def parent_of(issue: dict) -> str | None:
    """The ``parent-child`` parent id recorded in an issue's dependencies."""
    for dep in issue.get("dependencies") or ():
        if isinstance(dep, dict) and dep.get("type") == "parent-child":
            return str(dep.get("depends_on_id"))
    return None


def needs_of(issue: dict) -> list[str]:
    """Ids this issue waits for through ``blocks`` edges."""
    return [str(d.get("depends_on_id")) for d in issue.get("dependencies") or ()
            if isinstance(d, dict) and d.get("type") == "blocks"]


def child_sort_key(issue_id: str, root_id: str) -> tuple:
    """Order of a step under its root: ``root.3.10`` after ``root.3.9`` (numeric id path)."""
    rest = issue_id[len(root_id) + 1:] if issue_id.startswith(root_id + ".") else issue_id
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in rest.split("."))
