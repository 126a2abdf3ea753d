"""``vermas sling``: hand beads to polecats (THE dispatch verb).

Everything is validated before anything changes: the target rig (exit 3), every bead id
(exit 3, routed to its ledger by prefix), that each bead is work that can be hooked now
(exit 5 when another agent holds it, 2 for records like messages), the formula and the
runtime (exit 3). Then :mod:`vermas.town.dispatch` claims slots under the rig lock, queues
what does not fit, and launches the rest in parallel. Several beads slung together are
tracked by a convoy (``--no-convoy`` skips it).
"""

from __future__ import annotations

from vermas.errors import UsageError, VermasError
from vermas.ledger.store import Ledger
from vermas.town import dispatch, work, workformula
from vermas.town.identity import Agent
from vermas.town.layout import Town
from vermas.town.sessions import runtime_spec, town_config


def resolve_beads(town: Town, rig: str, refs: list[str], *, force: bool) -> list[tuple[str, str, dict]]:
    """``(id, beads_dir, issue)`` for each ref, checked hookable; raises on the first bad one."""
    out: list[tuple[str, str, dict]] = []
    seen: set[str] = set()
    opened: dict[str, Ledger] = {}
    anyone = Agent("polecat", rig, "-")
    try:
        for ref in refs:
            beads_dir = work.ledger_dir_for(town.root, ref, town.rig(rig).beads_dir)
            ledger = opened.get(beads_dir)
            if ledger is None:
                ledger = opened[beads_dir] = Ledger.open(beads_dir)
            issue = ledger.get(ref)
            if issue["id"] in seen:
                continue
            seen.add(issue["id"])
            work.check_hookable(issue, anyone, force=force)
            out.append((issue["id"], beads_dir, issue))
    finally:
        for ledger in opened.values():
            ledger.close()
    return out


def sling(town: Town, refs: list[str], target: str, *, actor: str, formula: str | None = None,
          variables: dict[str, str] | None = None, runtime: str | None = None, force: bool = False,
          reason: str | None = None, convoy: bool = True, wait_ready: bool = True, environ: dict | None = None,
          ready_timeout: float = 60.0) -> dict:
    """Sling ``refs`` to ``target`` (a rig, or ``rig/polecats/<name>``); returns per-bead results."""
    if not refs:
        raise UsageError("name at least one bead to sling")
    if force and not (reason or "").strip():
        raise UsageError("--force needs --reason", hint='vermas sling BEAD RIG --force --reason "why"')
    rig_name, polecat = dispatch.validate_target_rig(town, target)
    if polecat and len(refs) > 1:
        raise UsageError("a polecat takes one bead at a time", hint=f"sling several beads to the rig ('{rig_name}')")
    beads = resolve_beads(town, rig_name, refs, force=force)
    config = town_config(town, rig_name, environ=environ)
    warnings: list[str] = []
    formula_name = formula if formula is not None else config.str("polecats.formula")
    if formula_name.strip().lower() in workformula.NO_FORMULA:
        formula_name = ""
    if formula_name:
        try:
            workformula.check_exists(town.root, town.rig(rig_name).beads_dir, formula_name, environ)
        except VermasError as exc:
            if formula is not None:
                raise
            warnings.append(f"work formula {formula_name!r} (config polecats.formula) is unavailable: "
                            f"{exc.message}; slinging without one")
            formula_name = ""
    runtime_name = runtime or config.runtime_for("polecat")
    runtime_spec(town, runtime_name, rig_name, environ)  # exit 3 for an unknown runtime
    convoy_view = None
    if convoy and len(beads) > 1:
        from vermas.town import convoys

        title = f"Sling: {len(beads)} beads to {rig_name}"
        convoy_view = convoys.create(town.root, title, [b[0] for b in beads], owner=actor, actor=actor)
    entries = [dispatch.new_entry(bead_id, beads_dir, actor=actor, formula=formula_name, variables=variables,
                                  runtime=runtime_name, force=force, reason=reason, target=polecat,
                                  convoy=convoy_view["id"] if convoy_view else None)
               for bead_id, beads_dir, _issue in beads]
    claims, queued, failed = dispatch.claim(town, rig_name, entries, actor=actor, environ=environ)
    dispatch.launch(town, claims, actor=actor, environ=environ, wait_ready=wait_ready, ready_timeout=ready_timeout)
    mine = {b[0] for b in beads}
    titles = {b[0]: b[2].get("title", "") for b in beads}
    results = []
    for c in claims:
        row = {**c.as_dict(), "status": "started" if c.error is None else "failed", "error": c.error,
               "from_queue": c.bead not in mine}
        results.append(row)
    for entry in queued:
        results.append({"bead": entry["bead"], "title": titles.get(entry["bead"], ""), "status": "queued",
                        "polecat": None, "error": None, "from_queue": False})
    for entry in failed:
        results.append({"bead": entry["bead"], "title": titles.get(entry["bead"], ""), "status": "failed",
                        "polecat": None, "error": entry.get("error"), "exit_code": entry.get("exit_code", 1),
                        "from_queue": entry["bead"] not in mine})
    return {"rig": rig_name, "formula": formula_name or None, "runtime": runtime_name,
            "convoy": convoy_view["id"] if convoy_view else None, "results": results, "warnings": warnings}
