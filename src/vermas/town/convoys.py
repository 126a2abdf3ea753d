"""Convoys: tracked bundles of beads, possibly across rigs (Gas Town's representation).

A convoy is a bead of type ``convoy`` in the town ledger with id ``hq-cv-<5 base36>``,
title = its name, description ``Owner:`` / ``Notify:`` / ``Molecule:`` lines, and one
``tracks`` dependency per tracked bead (ids from other rigs are kept as plain ids; the
town's ``routes.jsonl`` resolves them). It lands (closes) when every tracked bead is
closed, and its owner (and ``Notify:`` address) gets a ``Convoy landed`` message.

All lookups go through the SQLite indexes: the convoy's ``tracks`` edges and
"which convoys track bead X" in the town index, tracked beads' states in their rigs' indexes.
The refinery calls :func:`on_bead_closed` after it closes a bead.
"""

from __future__ import annotations

import os
import secrets

from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.ledger import index, routes
from vermas.ledger.store import Ledger
from vermas.town.fields import format_fields, parse_fields

CONVOY_PREFIX = "hq-cv-"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
LANDED_REASON = "landed: all tracked beads closed"


def _town_ledger(town_root: str) -> Ledger:
    return Ledger.open(os.path.join(town_root, ".beads"))


def new_convoy_id(ledger: Ledger) -> str:
    while True:
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(5))
        candidate = CONVOY_PREFIX + suffix
        if not ledger.exists(candidate):
            return candidate


def _owning_ledgers(town_root: str, ids: list[str]) -> dict[str, list[str]]:
    """``{beads_dir: [ids]}`` by routing each id's prefix (unroutable ids map to ``""``)."""
    town_beads = os.path.join(town_root, ".beads")
    groups: dict[str, list[str]] = {}
    for issue_id in ids:
        target = routes.beads_dir_for_id(issue_id, town_beads, town_root) or ""
        groups.setdefault(target, []).append(issue_id)
    return groups


def _lookup(town_root: str, ids: list[str], cache: dict[str, Ledger] | None = None) -> dict[str, dict]:
    """The current issue of each id (via its ledger's index); missing ids are absent."""
    found: dict[str, dict] = {}
    for beads_dir, group in _owning_ledgers(town_root, ids).items():
        if not beads_dir:
            continue
        ledger = (cache or {}).get(beads_dir)
        own = ledger is None
        ledger = ledger or Ledger.open(beads_dir)
        try:
            found.update(ledger.get_many(group))
        finally:
            if own:
                ledger.close()
    return found


def _resolve_ids(town_root: str, ids: list[str]) -> list[str]:
    """Full ids for (possibly partial) ids, each resolved in the ledger its prefix routes to."""
    town_beads = os.path.join(town_root, ".beads")
    opened: dict[str, Ledger] = {}
    resolved: list[str] = []
    try:
        for issue_id in ids:
            target = routes.beads_dir_for_id(issue_id, town_beads, town_root)
            if not target:
                raise NotFoundError(f"cannot route {issue_id!r} to a ledger (no matching prefix in routes.jsonl)",
                                    hint="use full ids like <prefix>-<hash>; 'vermas rig list' shows prefixes")
            ledger = opened.get(target)
            if ledger is None:
                ledger = opened[target] = Ledger.open(target)
            resolved.append(ledger.resolve(issue_id))
    finally:
        for ledger in opened.values():
            ledger.close()
    return list(dict.fromkeys(resolved))


def create(town_root: str, name: str, ids: list[str], *, owner: str, actor: str, notify: str | None = None,
           molecule: str | None = None, owned: bool = False) -> dict:
    """Create a convoy tracking ``ids`` (validated, resolved); returns its status view."""
    if not name or not name.strip():
        raise UsageError("a convoy needs a name")
    if not ids:
        raise UsageError("a convoy needs at least one bead to track")
    tracked = _resolve_ids(town_root, ids)
    description = format_fields({"Owner": owner, "Notify": notify or "", "Molecule": molecule or ""})
    with _town_ledger(town_root) as ledger:
        with ledger.transaction(actor) as tx:
            convoy_id = new_convoy_id(ledger)
            tx.create(name.strip(), description=description, issue_type="convoy", issue_id=convoy_id,
                      labels=["gt:convoy"] + (["gt:owned"] if owned else []))
            for bead in tracked:
                tx.add_dependency(convoy_id, bead, "tracks", allow_missing=True)
            tx.emit("convoy.created", {"convoy_id": convoy_id, "name": name.strip(), "tracks": tracked,
                                       "owner": owner}, correlation_id=convoy_id)
        return status(town_root, convoy_id, ledger=ledger)


def _get_convoy(ledger: Ledger, convoy_id: str) -> dict:
    issue = ledger.find(convoy_id)
    if issue is None:
        try:
            issue = ledger.get(convoy_id if convoy_id.startswith("hq-") else CONVOY_PREFIX + convoy_id)
        except NotFoundError:
            raise NotFoundError(f"no convoy {convoy_id!r} in {ledger.issues_path}",
                                hint="'vermas convoy list --all' shows convoys") from None
    if issue.get("issue_type") != "convoy":
        raise NotFoundError(f"{issue['id']} is not a convoy (type {issue.get('issue_type')})",
                            hint="'vermas convoy list --all' shows convoys")
    return issue


def tracked_ids(ledger: Ledger, convoy_id: str) -> list[str]:
    """Ids a convoy tracks, in the order they were added (from the town index)."""
    rows = ledger.conn.execute(
        "SELECT depends_on_id FROM deps WHERE issue_id = ? AND type = 'tracks' ORDER BY rowid", (convoy_id,))
    return [r[0] for r in rows]


def convoys_tracking(ledger: Ledger, bead_id: str) -> list[str]:
    """Ids of the convoys that track ``bead_id`` (from the town index)."""
    return [issue_id for issue_id, _t in index.dependents(ledger.conn, bead_id, "tracks")]


def status(town_root: str, convoy_id: str, *, ledger: Ledger | None = None) -> dict:
    """A convoy with the state of every tracked bead and its progress."""
    own = ledger is None
    ledger = ledger or _town_ledger(town_root)
    try:
        convoy = _get_convoy(ledger, convoy_id)
        ids = tracked_ids(ledger, convoy["id"])
        cache = {ledger.dir: ledger}
        issues = _lookup(town_root, ids, cache)
    finally:
        if own:
            ledger.close()
    return _view(convoy, ids, issues)


def _view(convoy: dict, ids: list[str], issues: dict[str, dict]) -> dict:
    fields, _rest = parse_fields(convoy.get("description", ""))
    tracked = []
    for issue_id in ids:
        issue = issues.get(issue_id)
        tracked.append({
            "id": issue_id,
            "title": issue.get("title", "") if issue else "",
            "status": issue.get("status", "open") if issue else "missing",
            "assignee": issue.get("assignee", "") if issue else "",
            "issue_type": issue.get("issue_type", "") if issue else "",
        })
    closed = sum(1 for t in tracked if t["status"] in ("closed", "tombstone"))
    return {
        "id": convoy["id"],
        "name": convoy.get("title", ""),
        "status": convoy.get("status", "open"),
        "owner": fields.get("Owner", convoy.get("created_by", "")),
        "notify": fields.get("Notify", ""),
        "molecule": fields.get("Molecule", ""),
        "created_at": convoy.get("created_at", ""),
        "closed_at": convoy.get("closed_at", ""),
        "close_reason": convoy.get("close_reason", ""),
        "total": len(tracked),
        "closed": closed,
        "complete": bool(tracked) and closed == len(tracked),
        "tracked": tracked,
    }


def list_convoys(town_root: str, *, include_closed: bool = False) -> list[dict]:
    """Every convoy (open ones unless ``include_closed``), newest first, with progress."""
    from vermas.ledger import queries

    with _town_ledger(town_root) as ledger:
        statuses = ("open", "closed", "in_progress") if include_closed else ("open", "in_progress")
        convoys = queries.list_issues(ledger.conn, status=statuses, issue_type=("convoy",), order="created")
        all_ids = {c["id"]: tracked_ids(ledger, c["id"]) for c in convoys}
        issues = _lookup(town_root, sorted({i for ids in all_ids.values() for i in ids}), {ledger.dir: ledger})
    return [_view(c, all_ids[c["id"]], issues) for c in convoys]


def add(town_root: str, convoy_id: str, ids: list[str], *, actor: str) -> dict:
    """Track more beads; a landed convoy reopens (it has unfinished work again)."""
    if not ids:
        raise UsageError("name at least one bead to add")
    tracked = _resolve_ids(town_root, ids)
    with _town_ledger(town_root) as ledger:
        convoy = _get_convoy(ledger, convoy_id)
        with ledger.transaction(actor) as tx:
            for bead in tracked:
                tx.add_dependency(convoy["id"], bead, "tracks", allow_missing=True)
            if convoy.get("status") == "closed":
                tx.reopen(convoy["id"], "beads added")
            tx.emit("convoy.added", {"convoy_id": convoy["id"], "tracks": tracked}, correlation_id=convoy["id"])
        return status(town_root, convoy["id"], ledger=ledger)


def land(town_root: str, convoy_id: str, *, actor: str, force: bool = False, reason: str | None = None) -> dict:
    """Close a convoy now: refused (exit 5) while tracked beads are open, unless ``force``."""
    with _town_ledger(town_root) as ledger:
        view = status(town_root, convoy_id, ledger=ledger)
        if view["status"] == "closed":
            return view
        if not view["complete"] and not force:
            pending = [t["id"] for t in view["tracked"] if t["status"] not in ("closed", "tombstone")]
            raise ConflictError(f"convoy {view['id']} has {len(pending)} unfinished bead(s): {', '.join(pending)}",
                                hint="wait for them to close, or pass --force --reason '…'")
        _close(town_root, ledger, view, actor, reason or (LANDED_REASON if view["complete"] else "landed by hand"))
        return status(town_root, view["id"], ledger=ledger)


def _close(town_root: str, ledger: Ledger, view: dict, actor: str, reason: str) -> bool:
    """Close the convoy and notify its owner, once: the check runs under the town ledger lock."""
    from vermas.town import mail
    from vermas.town.identity import try_parse_address

    with ledger.transaction(actor) as tx:
        current = ledger.find(view["id"])
        if current is None or current.get("status") == "closed":
            return False
        tx.close(view["id"], reason)
        tx.emit("convoy.landed", {"convoy_id": view["id"], "name": view["name"], "reason": reason,
                                  "tracked": [t["id"] for t in view["tracked"]]}, correlation_id=view["id"])
        recipients = []
        for who in (view["owner"], view["notify"]):
            target = who if who and try_parse_address(who) else ("overseer" if who else "")
            if target and target not in recipients:
                recipients.append(target)
        body = format_fields({"ConvoyID": view["id"], "Name": view["name"], "Tracked": view["total"],
                              "Reason": reason})
        body += "\n\n" + "\n".join(f"- {t['id']} [{t['status']}] {t['title']}" for t in view["tracked"])
        for target in recipients:
            mail.send(town_root, actor, target, f"✅ Convoy landed: {view['name']}", body,
                      msg_type="notification", ledger=ledger)
    return True


def on_bead_closed(town_root: str, bead_id: str, *, actor: str) -> list[str]:
    """Land every convoy tracking ``bead_id`` whose beads are now all closed; returns their ids.

    The refinery calls this after it closes a bead; ``vermas convoy check`` calls
    :func:`check_all`. Safe to call twice (a landed convoy is not landed again).
    """
    landed: list[str] = []
    with _town_ledger(town_root) as ledger:
        for convoy_id in convoys_tracking(ledger, bead_id):
            view = status(town_root, convoy_id, ledger=ledger)
            if view["status"] != "closed" and view["complete"] and _close(town_root, ledger, view, actor,
                                                                          LANDED_REASON):
                landed.append(convoy_id)
    return landed


def check_all(town_root: str, *, actor: str) -> list[str]:
    """Land every open convoy whose tracked beads are all closed; returns the landed ids."""
    landed: list[str] = []
    views = list_convoys(town_root)
    if not any(v["complete"] for v in views):
        return landed
    with _town_ledger(town_root) as ledger:
        for view in views:
            if view["complete"] and _close(town_root, ledger, view, actor, LANDED_REASON):
                landed.append(view["id"])
    return landed
