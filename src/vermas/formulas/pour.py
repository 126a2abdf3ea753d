"""Pour a protomolecule into the ledger: a molecule root bead plus one child bead per step.

One transaction (one JSONL write) for the whole pour. Ids follow bd: the root is
``<prefix>-mol-<hash>`` (``<prefix>-wisp-<hash>`` for a wisp), steps are its children
``<root>.N`` in topological order and a container's children are ``<root>.N.M``. Every step
has a ``parent-child`` edge to its parent and a ``blocks`` edge to each step it needs, so bd's
``ready`` lists exactly the steps whose needs are done. Each bead records
``source_formula``/``source_location``; the root's description records the formula, the vars,
the attachment and (for wisps) the expiry as ``key: value`` fields.

``attach_to`` records the link both ways: the work bead gets Gas Town's attachment fields
(``attached_molecule`` …) and the root gets ``attached_to``.
"""

from __future__ import annotations

import time

from vermas.errors import ConflictError
from vermas.formulas import state as st
from vermas.formulas.fields import encode_vars, get_field, set_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.formulas.cook import CookedStep, Protomolecule
    from vermas.ledger.store import Ledger, Transaction


class PourResult:
    __slots__ = ("attached_to", "ephemeral", "formula", "ids", "root_id")

    def __init__(self, root_id: str, ids: dict[str, str], formula: str, ephemeral: bool,
                 attached_to: str | None) -> None:
        self.root_id = root_id
        self.ids = ids  # formula step id -> bead id
        self.formula = formula
        self.ephemeral = ephemeral
        self.attached_to = attached_to

    def as_dict(self) -> dict:
        return {"molecule": self.root_id, "formula": self.formula, "ephemeral": self.ephemeral,
                "attached_to": self.attached_to, "step_count": len(self.ids), "steps": dict(self.ids)}


def pour(ledger: Ledger, proto: Protomolecule, *, actor: str, ephemeral: bool = False, attach_to: str | None = None,
         assignee: str = "", ttl_seconds: float | None = None, replace: bool = False,
         correlation_id: str | None = None) -> PourResult:
    """Write ``proto`` as a molecule (``ephemeral`` → a wisp in the local ``wisps.jsonl``)."""
    if not proto.runtime:
        raise ValueError("pour needs a protomolecule cooked in runtime mode (variables bound)")
    with ledger.transaction(actor, correlation_id=correlation_id) as tx:
        work = None
        if attach_to is not None:
            work = ledger.get(attach_to)
            attach_to = work["id"]
            previous = get_field(work.get("description") or "", "attached_molecule")
            old = ledger.find(previous) if previous else None
            if old is not None and old.get("status") != "closed":
                if not replace:
                    raise ConflictError(f"{attach_to} already has molecule {previous} attached",
                                        hint=f"finish or burn it ('vermas mol burn {previous}'), or pass --replace")
                from vermas.formulas.lifecycle import burn_in

                burn_in(tx, ledger, previous)
        result = pour_in(tx, ledger, proto, ephemeral=ephemeral, attach_to=attach_to, assignee=assignee,
                         ttl_seconds=ttl_seconds)
        if work is not None:
            _attach(tx, work, result.root_id, proto)
    return result


def pour_in(tx: Transaction, ledger: Ledger, proto: Protomolecule, *, ephemeral: bool, attach_to: str | None,
            assignee: str, ttl_seconds: float | None) -> PourResult:
    """The pour itself, inside an open transaction."""
    from vermas.ledger import timefmt

    fields: dict[str, str | None] = {st.F_FORMULA: proto.name, st.F_SOURCE: proto.source or proto.origin,
                                     st.F_VARS: encode_vars(proto.vars) or None, st.F_ATTACHED_TO: attach_to}
    if ephemeral:
        ttl = st.WISP_TTL_SECONDS if ttl_seconds is None else ttl_seconds
        fields[st.F_EXPIRES] = timefmt.format_ns(time.time_ns() + int(ttl * 1e9), utc=True)
    if proto.squash.get("trigger") == "on_complete":
        fields[st.F_SQUASH] = "on_complete"
    kind = "wisp" if ephemeral else "mol"
    root = tx.create(
        proto.name, description=set_fields(proto.description, fields), issue_type=st.MOLECULE_TYPE,
        assignee=assignee, labels=[f"formula:{proto.name}"], id_prefix=f"{ledger.prefix}-{kind}",
        ephemeral=ephemeral,
        fields={"source_formula": proto.name, "source_location": proto.source or proto.origin,
                "mol_type": proto.mol_type},
    )
    root_id = root["id"]
    ids = _number(proto.steps, root_id)
    steps = proto.steps
    # Containers first (their children name them as parent), then every other step in
    # reverse topological order: each blocks-target is created after its dependents, so the
    # ledger's cycle check never walks a long chain (a validated DAG cannot cycle anyway).
    containers = [s for s in steps if s.kind == "container"]
    others = [s for s in reversed(steps) if s.kind != "container"]
    for step in containers + others:
        _create_step(tx, step, ids, root_id, proto, ephemeral=ephemeral, assignee=assignee)
    tx.emit("mol.wisped" if ephemeral else "mol.poured",
            {"molecule": root_id, "formula": proto.name, "steps": len(steps), "attached_to": attach_to,
             "vars": dict(proto.vars)})
    return PourResult(root_id, ids, proto.name, ephemeral, attach_to)


def _number(steps: list[CookedStep], root_id: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    counters: dict[str, int] = {}
    for step in steps:
        parent_id = ids[step.parent] if step.parent else root_id
        counters[parent_id] = counters.get(parent_id, 0) + 1
        ids[step.key] = f"{parent_id}.{counters[parent_id]}"
    return ids


def _create_step(tx: Transaction, step: CookedStep, ids: dict[str, str], root_id: str, proto: Protomolecule, *,
                 ephemeral: bool, assignee: str) -> None:
    parent_id = ids[step.parent] if step.parent else root_id
    labels = [f"{st.STEP_LABEL}{step.key}", *step.labels]
    extra = {"source_formula": step.source_formula or proto.name, "source_location": step.source_location,
             "mol_type": proto.mol_type}
    if step.acceptance:
        extra["acceptance_criteria"] = step.acceptance
    if step.kind == "gate" and step.gate:
        extra["await_type"] = step.gate.get("type", "")
        if step.gate.get("id"):
            extra["await_id"] = step.gate["id"]
        timeout = _duration_ns(step.gate.get("timeout", ""))
        if timeout:
            extra["timeout"] = timeout
    tx.create(
        step.title[:500], description=step.description, issue_type=step.issue_type, priority=step.priority,
        assignee=step.assignee or assignee, labels=labels,
        deps=[("blocks", ids[need]) for need in step.needs if need in ids],
        parent=parent_id, issue_id=ids[step.key], ephemeral=ephemeral, fields=extra,
    )


def _attach(tx: Transaction, work: dict, root_id: str, proto: Protomolecule) -> None:
    from vermas.ledger import timefmt

    now = timefmt.now_str()
    description = set_fields(work.get("description") or "", {
        "attached_molecule": root_id, "attached_formula": proto.name, "attached_at": now,
        "formula_vars": encode_vars(proto.vars) or None,
    })
    tx.update(work["id"], description=description)
    tx.emit("mol.attached", {"molecule": root_id, "bead_id": work["id"], "formula": proto.name})


def detach(tx: Transaction, work_id: str, root_id: str) -> None:
    """Remove the attachment fields from a work bead when they point at ``root_id``."""
    work = tx.ledger.get(work_id)
    description = work.get("description") or ""
    if get_field(description, "attached_molecule") != root_id:
        return
    cleared = set_fields(description, {"attached_molecule": None, "attached_formula": None, "attached_at": None,
                                       "formula_vars": None})
    tx.update(work["id"], description=cleared)
    tx.emit("mol.detached", {"molecule": root_id, "bead_id": work["id"]})


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
          "h": 3_600_000_000_000}


def _duration_ns(text: str) -> int:
    """Go duration (``30m``, ``1h30m``, ``90s``) → nanoseconds; 0 when empty or unparsable."""
    import re

    total = 0.0
    pos = 0
    for match in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text.strip()):
        if match.start() != pos:
            return 0
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return int(total) if pos == len(text.strip()) and pos else 0


def parse_ttl(text: str) -> float:
    """``90s``, ``30m``, ``24h``, ``7d`` → seconds; ValueError when malformed or not positive."""
    from vermas.ledger import timefmt

    seconds = timefmt.parse_duration(text)
    if seconds <= 0:
        raise ValueError(f"a TTL must be positive, got {text!r}")
    return seconds
