"""The spec gate: ``vermas sling`` refuses work whose test spec is missing or not approved.

A task, feature or bug bead must have an approved test spec (a ``test-spec`` bead it
``blocks``-depends on, closed = approved) before it is slung, so its acceptance criteria exist
before the work starts (spec-before-sling). ``--force --reason "…"`` bypasses the gate and
records ``GATE_BYPASS`` on the bead: a comment ``GATE_BYPASS: <reason> (by <who>)``, the label
``gate-bypass`` and a ``sling.gate_bypass`` event. Rig setting ``verify.spec_gate = false``
turns the gate off.

Ledger queries only: the town layer does not import :mod:`vermas.verify` (which owns the
spec format); the derived id rule (``ca-x7k`` → ``ca-spec-x7k``) is repeated here on purpose.
"""

from __future__ import annotations

from vermas.errors import ConflictError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger, Transaction

GATED_TYPES = ("task", "feature", "bug")
SPEC_TYPE = "test-spec"
BYPASS_LABEL = "gate-bypass"
BYPASS_MARK = "GATE_BYPASS"


class SpecGateError(ConflictError):
    """Sling refused: a bead's spec is missing or not approved (exit 5)."""


def spec_id_for(work_id: str) -> str:
    prefix, sep, rest = work_id.partition("-")
    return f"{prefix}-spec-{rest}" if sep and rest else f"spec-{work_id}"


def spec_state(ledger: Ledger, bead: dict) -> tuple[str, str | None]:
    """``(state, spec id)``: state is ``not-required``, ``missing``, ``draft`` or ``approved``."""
    if (bead.get("issue_type") or "task") not in GATED_TYPES:
        return "not-required", None
    candidates = [d.get("depends_on_id") for d in bead.get("dependencies") or ()
                  if d.get("type") == "blocks" and d.get("issue_id") == bead["id"] and d.get("depends_on_id")]
    candidates.append(spec_id_for(bead["id"]))
    for spec_id in candidates:
        spec = ledger.find(spec_id)
        if spec is None or spec.get("issue_type") != SPEC_TYPE or spec.get("status") == "tombstone":
            continue
        return ("approved" if spec.get("status") == "closed" else "draft"), spec["id"]
    return "missing", None


def refusal(bead_id: str, state: str, spec_id: str | None) -> str:
    if state == "missing":
        return f"{bead_id} has no test spec"
    return f"{bead_id}'s test spec {spec_id} is not approved yet"


def fix_hint(problems: list[tuple[str, str, str | None]]) -> str:
    """The commands that fix the first refused bead, and the bypass."""
    bead_id, state, spec_id = problems[0]
    if state == "missing":
        steps = (f"vermas spec create {bead_id}; vermas spec add-criteria {spec_id_for(bead_id)} "
                 f"--description '…' --verify 'CMD'; vermas spec approve {spec_id_for(bead_id)}")
    else:
        steps = f"vermas spec show {spec_id}; vermas spec approve {spec_id}"
    return f"{steps} — or bypass the gate: vermas sling … --force --reason '…'"


def check(beads: list[tuple[str, Ledger, dict]]) -> list[tuple[str, str, str | None]]:
    """``(bead id, state, spec id)`` for every bead the gate refuses."""
    problems = []
    for bead_id, ledger, issue in beads:
        state, spec_id = spec_state(ledger, issue)
        if state in ("missing", "draft"):
            problems.append((bead_id, state, spec_id))
    return problems


def record_bypass(tx: Transaction, bead_id: str, *, actor: str, reason: str, state: str,
                  spec_id: str | None) -> None:
    """``GATE_BYPASS`` on the bead: comment, label and event (who and why)."""
    what = "no test spec" if state == "missing" else f"spec {spec_id} not approved"
    tx.add_comment(bead_id, f"{BYPASS_MARK}: {reason} (by {actor}; {what})")
    tx.add_label(bead_id, BYPASS_LABEL)
    tx.emit("sling.gate_bypass", {"bead_id": bead_id, "gate": "spec", "by": actor, "reason": reason,
                                  "spec_state": state, "spec_id": spec_id})
