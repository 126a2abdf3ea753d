"""``vermas inspect run --track``: the run as a ``mol-inspect-verify`` wisp, its steps moved as stages end.

The formula (shipped with VerMAS) has one step per stage: load-spec → checkout → verifier →
auditor → {advocate, critic} → judge → rules → record → route; with ``objective_only`` the
panel steps are not poured. The run wisps it on the work bead's ledger (``wisps.jsonl``,
local only), then starts and completes (or skips, for a stage that did not run) each step in
order; when the last step finishes the formula's ``[squash]`` turns the wisp into a digest
bead — the run's trail in ``vermas mol`` views. Tracking costs a ledger transaction per step,
so the refinery's stage does not track.
"""

from __future__ import annotations

from vermas.errors import VermasError
from vermas.ledger.store import Ledger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town
    from vermas.verify.settings import VerifySettings
    from vermas.verify.targets import Target

FORMULA = "mol-inspect-verify"
ORDER = ("load-spec", "checkout", "verifier", "auditor", "advocate", "critic", "judge", "rules", "record", "route")


class Tracker:
    """Moves the steps of one run's wisp (see the module docstring); errors are kept, never raised."""

    def __init__(self, town: Town, target: Target, settings: VerifySettings, *, actor: str,
                 environ: dict | None = None) -> None:
        from vermas.formulas.pour import pour
        from vermas.town.workformula import cook_for

        self.beads_dir = target.beads_dir
        self.actor = actor
        self.errors: list[str] = []
        rig_beads = town.rig(target.rig).beads_dir if target.rig else None
        values = {"bead": target.bead_id, "mr": target.mr_id,
                  "objective_only": "true" if settings.objective_only else "false",
                  "confidence_threshold": f"{settings.confidence_threshold:g}"}
        proto = cook_for(town.root, rig_beads, FORMULA, values, {}, environ)
        with Ledger.open(self.beads_dir) as ledger:
            result = pour(ledger, proto, actor=actor, ephemeral=True)
        self.molecule = result.root_id
        self.ids = dict(result.ids)
        self.moved: set[str] = set()

    def stage(self, key: str, outcome: str = "done", note: str = "") -> None:
        """Finish step ``key`` (and skip any earlier step that did not run)."""
        from vermas.formulas import steps

        for earlier in ORDER[: ORDER.index(key)] if key in ORDER else ():
            if earlier in self.ids and earlier not in self.moved:
                self._move(steps, earlier, "skipped", "stage did not run")
        if key in self.ids and key not in self.moved:
            self._move(steps, key, outcome, note)

    def finish(self, note: str) -> None:
        """Skip what did not run and finish ``route`` (the molecule then closes and squashes)."""
        self.stage("route", "done", note)

    def _move(self, steps, key: str, outcome: str, note: str) -> None:
        self.moved.add(key)
        try:
            with Ledger.open(self.beads_dir) as ledger:
                if outcome == "skipped":
                    steps.skip(ledger, self.ids[key], actor=self.actor, reason=note or "not run")
                else:
                    steps.start(ledger, self.ids[key], actor=self.actor, force=True)
                    steps.done(ledger, self.ids[key], actor=self.actor, result=note or outcome, force=True)
        except VermasError as exc:
            self.errors.append(f"{key}: {exc.message}")
