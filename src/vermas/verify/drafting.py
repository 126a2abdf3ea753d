"""``vermas spec draft``: the designer, then the strategist, propose a spec for a human to approve.

Both run as headless prompts through the runtime layer (``verify.runtime.designer`` /
``verify.runtime.strategist``), in a throw-away checkout of the rig's default branch so a real
agent can read the code. The designer turns the bead into requirements (functional,
non-functional, constraints, examples); the strategist gives one shell command per testable
requirement and lists the rest as untestable. The proposal is written into the bead's spec
(created if needed) as a **draft**: nothing is approved here — a human or the mayor edits it
(``spec add-criteria|remove-criteria``, ``--subjective`` for the untestable ones) and runs
``spec approve``.
"""

from __future__ import annotations

from vermas import gitops
from vermas.errors import UsageError, VermasError
from vermas.ledger.store import Ledger
from vermas.verify import criteria as crit
from vermas.verify import panel, targets
from vermas.verify import spec as spec_mod
from vermas.verify.snapshot import Snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town
    from vermas.verify.settings import VerifySettings


class DraftError(VermasError):
    """A drafting role gave no usable answer."""


def _ask(role: str, evidence: dict, *, settings: VerifySettings, town: Town, rig: str | None, cwd: str,
         environ: dict | None) -> dict:
    answer = panel.ask(role, evidence, settings=settings, town=town, rig=rig, cwd=cwd, environ=environ)
    if not answer.ok:
        raise DraftError(f"the {role} ({answer.runtime}) gave no usable answer: {answer.error_kind}: {answer.error}",
                         hint=f"check the runtime (vermas runtime check {answer.runtime}) or write the spec by hand: "
                              "vermas spec add-criteria")
    return answer.data or {}


def propose(town: Town, bead_id: str, beads_dir: str, *, settings: VerifySettings,
            environ: dict | None = None) -> dict:
    """The designer's requirements and the strategist's criteria for ``bead_id`` (nothing written)."""
    with Ledger.open(beads_dir) as ledger:
        bead = ledger.get(bead_id)
    rig = targets.rig_of_beads_dir(town, beads_dir)
    view = {"id": bead["id"], "title": bead.get("title", ""), "description": str(bead.get("description") or ""),
            "acceptance_criteria": str(bead.get("acceptance_criteria") or "")}
    snap = None
    cwd = town.root
    if rig is not None:
        repo = town.rig(rig).repo
        head = gitops.rev_parse("HEAD", cwd=repo)
        if head:
            snap = Snapshot(repo, head)
            cwd = snap.create()
    try:
        ask = {"settings": settings, "town": town, "rig": rig, "cwd": cwd, "environ": environ}
        designed = _ask("designer", {"bead": view}, **ask)
        requirements = designed.get("requirements") if isinstance(designed.get("requirements"), dict) else {}
        strategy = _ask("strategist", {"bead": view, "requirements": requirements}, **ask)
    finally:
        if snap is not None:
            snap.remove()
    proposed: list[crit.Criterion] = []
    rejected: list[dict] = []
    for i, raw in enumerate(strategy.get("criteria") or []):
        try:
            if not isinstance(raw, dict):
                raise UsageError(f"criterion {i + 1} is not an object")
            proposed.append(crit.build(f"AC-{i + 1}", str(raw.get("description") or ""),
                                       str(raw.get("verify_command") or ""),
                                       expected=raw.get("expected_exit_code", 0),
                                       timeout=raw.get("timeout_seconds", crit.DEFAULT_TIMEOUT)))
        except UsageError as exc:
            rejected.append({"proposal": raw, "reason": exc.message})
    untestable = [str(u) for u in strategy.get("untestable") or [] if str(u).strip()]
    return {"bead": bead["id"], "requirements": requirements, "criteria": proposed, "untestable": untestable,
            "rejected": rejected, "runtimes": {"designer": settings.runtime_for("designer"),
                                               "strategist": settings.runtime_for("strategist")}}


def draft(town: Town, bead_id: str, beads_dir: str, *, settings: VerifySettings, actor: str,
          environ: dict | None = None, replace: bool = False, write: bool = True) -> dict:
    """:func:`propose`, then write the proposal into the bead's draft spec (created if needed)."""
    proposal = propose(town, bead_id, beads_dir, settings=settings, environ=environ)
    spec_id = None
    if write:
        with Ledger.open(beads_dir) as ledger:
            existing = spec_mod.for_work(ledger, proposal["bead"])
            if existing is None:
                existing = spec_mod.create(ledger, actor, proposal["bead"], requirements=proposal["requirements"])
            spec = spec_mod.set_criteria(ledger, actor, existing.id, list(proposal["criteria"]),
                                         requirements=proposal["requirements"], replace=replace,
                                         source=f"designer={proposal['runtimes']['designer']} "
                                                f"strategist={proposal['runtimes']['strategist']}")
            spec_id = spec.id
    return {**proposal, "criteria": [c.to_dict() for c in proposal["criteria"]], "spec": spec_id, "written": write}
