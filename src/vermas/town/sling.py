"""``vermas sling``: hand beads to polecats (THE dispatch verb).

Everything is validated before anything changes: the target rig (exit 3), every bead id
(exit 3, routed to its ledger by prefix), that each bead is work that can be hooked now
(exit 5 when another agent holds it, 2 for records like messages), the formula and the
runtime (exit 3), and the spec gate (:mod:`vermas.town.specgate`: a task, feature or bug
needs an approved test spec, exit 5; ``--force --reason`` bypasses it and records
``GATE_BYPASS`` on the bead). Then :mod:`vermas.town.dispatch` claims slots under the rig
lock, queues what does not fit, and launches the rest in parallel. Several beads slung
together are tracked by a convoy (``--no-convoy`` skips it). Everything that slings —
the CLI, the sling queue (fed only from here), the demo — goes through :func:`sling`.

``rework=True`` re-slings beads the refinery sent back (they carry a ``[refinery] REWORK``
comment and the ``rework`` label, which ``vermas prime`` shows): a bead the refinery put
back on its polecat's hook gets a fresh session of that polecat (same worktree and branch);
a bead left open goes to a free polecat like any sling.
"""

from __future__ import annotations

from vermas.errors import UsageError, VermasError
from vermas.ledger.store import Ledger
from vermas.town import dispatch, specgate, work, workformula
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
            kind = issue.get("issue_type") or "task"
            if kind in RECORD_TYPES:
                raise UsageError(f"{issue['id']} is a {kind}, not work that can be hooked",
                                 hint="sling the work bead it belongs to")
            work.check_hookable(issue, anyone, force=force)
            out.append((issue["id"], beads_dir, issue))
    finally:
        for ledger in opened.values():
            ledger.close()
    return out


RECORD_TYPES = ("test-spec", "verification-result")  # Inspector records (work.NOT_WORK_TYPES has the rest)
REWORK_LABEL = "rework"
REWORK_MARK = "[refinery] REWORK"


def gate(config, beads: list[tuple[str, str, dict]], *, force: bool) -> list[tuple[str, str, str | None]]:
    """The spec gate over ``beads``: raises :class:`specgate.SpecGateError` unless ``force``;
    returns what ``force`` bypasses (recorded by :func:`record_bypasses`)."""
    if not config.bool("verify.spec_gate"):
        return []
    opened: dict[str, Ledger] = {}
    try:
        rows = []
        for bead_id, beads_dir, issue in beads:
            ledger = opened.get(beads_dir)
            if ledger is None:
                ledger = opened[beads_dir] = Ledger.open(beads_dir)
            rows.append((bead_id, ledger, issue))
        problems = specgate.check(rows)
    finally:
        for ledger in opened.values():
            ledger.close()
    if problems and not force:
        what = "; ".join(specgate.refusal(*p) for p in problems)
        raise specgate.SpecGateError(f"sling refused (spec gate): {what}", hint=specgate.fix_hint(problems))
    return problems


def _annotate(beads: list[tuple[str, str, dict]], *, actor: str, reason: str | None,
              bypassed: list[tuple[str, str, str | None]], rework: bool) -> None:
    """Record gate bypasses and ensure the rework label, one transaction per ledger."""
    todo: dict[str, list[tuple[str, dict]]] = {}
    for bead_id, beads_dir, issue in beads:
        todo.setdefault(beads_dir, []).append((bead_id, issue))
    states = {bead_id: (state, spec_id) for bead_id, state, spec_id in bypassed}
    for beads_dir, items in todo.items():
        if not any(b in states for b, _ in items) and not rework:
            continue
        with Ledger.open(beads_dir) as ledger, ledger.transaction(actor) as tx:
            for bead_id, issue in items:
                if bead_id in states:
                    specgate.record_bypass(tx, bead_id, actor=actor, reason=(reason or "").strip(),
                                           state=states[bead_id][0], spec_id=states[bead_id][1])
                if rework and REWORK_LABEL not in (issue.get("labels") or ()):
                    tx.add_label(bead_id, REWORK_LABEL)


def rework_context(issue: dict) -> bool:
    """Does the bead carry failure context from the refinery (label or REWORK comment)?"""
    if REWORK_LABEL in (issue.get("labels") or ()):
        return True
    return any(str(c.get("text", "")).startswith(REWORK_MARK) for c in issue.get("comments") or ())


def _hooked_polecat(issue: dict, rig_name: str) -> str | None:
    """The polecat of ``rig_name`` the bead is hooked to, if any."""
    assignee = str(issue.get("assignee") or "")
    prefix = f"{rig_name}/polecats/"
    if issue.get("status") == "hooked" and assignee.startswith(prefix):
        return assignee[len(prefix):] or None
    return None


def sling(town: Town, refs: list[str], target: str, *, actor: str, formula: str | None = None,
          variables: dict[str, str] | None = None, runtime: str | None = None, force: bool = False,
          reason: str | None = None, convoy: bool = True, wait_ready: bool = True, environ: dict | None = None,
          ready_timeout: float = 60.0, rework: bool = False) -> dict:
    """Sling ``refs`` to ``target`` (a rig, or ``rig/polecats/<name>``); returns per-bead results."""
    if not refs:
        raise UsageError("name at least one bead to sling")
    if force and not (reason or "").strip():
        raise UsageError("--force needs --reason", hint='vermas sling BEAD RIG --force --reason "why"')
    rig_name, polecat = dispatch.validate_target_rig(town, target)
    if polecat and len(refs) > 1:
        raise UsageError("a polecat takes one bead at a time", hint=f"sling several beads to the rig ('{rig_name}')")
    restarts: list[tuple[str, str, dict, str]] = []
    if rework:
        beads, restarts = _split_rework(town, rig_name, polecat, refs, force=force)
    else:
        beads = resolve_beads(town, rig_name, refs, force=force)
    config = town_config(town, rig_name, environ=environ)
    bypassed = gate(config, beads + [(b, d, i) for b, d, i, _n in restarts], force=force)
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
    _annotate(beads + [(b, d, i) for b, d, i, _n in restarts], actor=actor, reason=reason, bypassed=bypassed,
              rework=rework)
    restarted = [_restart(town, rig_name, bead_id, beads_dir, name, actor=actor, environ=environ,
                          wait_ready=wait_ready, timeout=ready_timeout) for bead_id, beads_dir, _i, name in restarts]
    if not beads:
        return {"rig": rig_name, "formula": None, "runtime": runtime_name, "convoy": None, "results": restarted,
                "warnings": warnings, "gate_bypassed": [p[0] for p in bypassed]}
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
    results = list(restarted)
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
            "convoy": convoy_view["id"] if convoy_view else None, "results": results, "warnings": warnings,
            "gate_bypassed": [p[0] for p in bypassed]}


def _split_rework(town: Town, rig_name: str, polecat: str | None, refs: list[str], *,
                  force: bool) -> tuple[list[tuple[str, str, dict]], list[tuple[str, str, dict, str]]]:
    """Rework beads → ``(to sling, to restart on their polecat)``; exit 2 without failure context."""
    sling_these: list[tuple[str, str, dict]] = []
    restart_these: list[tuple[str, str, dict, str]] = []
    seen: set[str] = set()
    for ref in refs:
        beads_dir = work.ledger_dir_for(town.root, ref, town.rig(rig_name).beads_dir)
        with Ledger.open(beads_dir) as ledger:
            issue = ledger.get(ref)
        if issue["id"] in seen:
            continue
        seen.add(issue["id"])
        if not rework_context(issue):
            raise UsageError(f"{issue['id']} carries no failure context (no '{REWORK_MARK}' comment, no "
                             f"'{REWORK_LABEL}' label)",
                             hint="--rework re-slings work the refinery sent back; sling it without --rework")
        holder = _hooked_polecat(issue, rig_name)
        if holder is not None and polecat in (None, holder):
            restart_these.append((issue["id"], beads_dir, issue, holder))
        else:
            sling_these.extend(resolve_beads(town, rig_name, [issue["id"]], force=force))
    return sling_these, restart_these


def _restart(town: Town, rig_name: str, bead_id: str, beads_dir: str, name: str, *, actor: str,
             environ: dict | None, wait_ready: bool, timeout: float) -> dict:
    """A fresh session for the polecat the refinery re-hooked ``bead_id`` to (its prime shows the context)."""
    address = f"{rig_name}/polecats/{name}"
    row = {"bead": bead_id, "title": "", "polecat": address, "name": name, "status": "restarted", "error": None,
           "from_queue": False, "rework": True}
    try:
        info = dispatch.restart(town, rig_name, name, actor=actor, environ=environ, wait_ready=wait_ready,
                                timeout=timeout)
    except VermasError as exc:
        return {**row, "status": "failed", "error": exc.message, "exit_code": exc.exit_code}
    work.emit(beads_dir, "sling.rework", actor, {"bead_id": bead_id, "agent": address, "mode": "restarted",
                                                 "session": info.get("session"),
                                                 "incarnation": info.get("incarnation")})
    return {**row, "session": info.get("session"), "worktree": info.get("worktree"),
            "incarnation": info.get("incarnation"), "branch": None}
