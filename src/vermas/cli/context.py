"""Which town and which ledger a command acts on.

Town: ``--town`` > ``$VERMAS_TOWN`` > the nearest ancestor of the working directory that
holds ``mayor/town.json``.

Ledger: ``--rig R`` (a rig of the town, by name or prefix) > ``$BEADS_DIR`` > the nearest
``.beads`` walking up from the working directory (``redirect`` files followed). An issue id
whose prefix routes (``routes.jsonl``) to another ledger is served by that ledger, so
``vermas show gt-abc`` works from anywhere in the town.

Every lookup failure is a :class:`NotFoundError` (exit 3) with a hint. Ledgers opened for
one command are cached on the :class:`Environment`, one per directory.
"""

from __future__ import annotations

import os

from vermas.errors import NotFoundError
from vermas.ledger import routes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from vermas.cli.env import Environment
    from vermas.ledger.store import Ledger

_REBUILD_NOTICE_BYTES = 4 << 20  # say "rebuilding index" when the JSONL is bigger than this


def find_town(env: Environment) -> str | None:
    """The town root: ``--town`` > ``$VERMAS_TOWN`` > search upward from the cwd; None if none."""
    explicit = env.town_flag or env.get("VERMAS_TOWN")
    if explicit:
        path = env.path(os.path.expanduser(explicit))
        if not os.path.isfile(os.path.join(path, routes.TOWN_MARKER)):
            source = "--town" if env.town_flag else "$VERMAS_TOWN"
            raise NotFoundError(
                f"{source} {explicit}: not a town (no {routes.TOWN_MARKER} in {path})",
                hint="pass the directory created by 'vermas install', or unset it to search upward",
            )
        return path
    return routes.find_town_root(env.cwd)


def require_town(env: Environment) -> str:
    """The town root, or exit 3 explaining how to name one."""
    town = find_town(env)
    if town is None:
        raise NotFoundError(
            f"not inside a town: no {routes.TOWN_MARKER} in {env.cwd} or any parent directory",
            hint="pass --town PATH, set $VERMAS_TOWN, or cd into a town (create one with 'vermas install DIR')",
        )
    return town


def local_beads_dir(env: Environment) -> str | None:
    """``$BEADS_DIR``, else the nearest ``.beads`` upward from the cwd (redirects followed)."""
    explicit = env.get("BEADS_DIR")
    if explicit:
        path = routes.resolve_redirect(env.path(os.path.expanduser(explicit)))
        if not routes.is_ledger_dir(path):
            raise NotFoundError(f"$BEADS_DIR {explicit}: no ledger there",
                                hint="unset BEADS_DIR or run 'vermas init' in that directory's parent")
        return path
    return routes.find_beads_dir(env.cwd)


def rig_beads_dir(env: Environment, rig: str) -> str:
    """The ``.beads`` of rig ``rig`` (name or prefix) in the current town; exit 3 if unknown."""
    town = find_town(env)
    if town is None:
        raise NotFoundError(
            f"--rig {rig}: not inside a town (no {routes.TOWN_MARKER} in {env.cwd} or above)",
            hint="pass --town PATH or set $VERMAS_TOWN so --rig can be looked up",
        )
    found = routes.find_rig(town, rig)
    if found is None or found.beads_dir is None:
        known = ", ".join(f"{r.name} ({r.prefix})" for r in routes.rigs(town)) or "none"
        raise NotFoundError(f"no rig {rig!r} in town {town}", hint=f"known rigs: {known}")
    return found.beads_dir


def beads_dir_for(env: Environment, args: Any = None, issue_id: str | None = None) -> str:
    """The ``.beads`` a command should use (see the module docstring); exit 3 when none."""
    rig = getattr(args, "rig", None) if args is not None else None
    base = rig_beads_dir(env, rig) if rig else local_beads_dir(env)
    if issue_id:
        routed = routes.beads_dir_for_id(issue_id, base, _town_quiet(env))
        if routed is not None:
            return routed
    if base is None:
        raise NotFoundError(
            f"no ledger: no .beads directory in {env.cwd} or any parent directory",
            hint="run 'vermas init --prefix <prefix>' to create one here, or pass --rig NAME inside a town",
        )
    return base


def ledger_for(env: Environment, args: Any = None, issue_id: str | None = None) -> Ledger:
    """The :class:`Ledger` to act on, opened once per directory per run."""
    return open_ledger(env, beads_dir_for(env, args, issue_id))


def ledgers_for_ids(env: Environment, args: Any, issue_ids: list[str]) -> list[tuple[Ledger, list[str]]]:
    """Group ids by the ledger that owns them (first-seen order kept)."""
    groups: dict[str, tuple[Ledger, list[str]]] = {}
    for issue_id in issue_ids:
        ledger = ledger_for(env, args, issue_id)
        groups.setdefault(ledger.dir, (ledger, []))[1].append(issue_id)
    return list(groups.values())


def open_ledger(env: Environment, beads_dir: str) -> Ledger:
    from vermas.ledger.store import Ledger

    cache: dict[str, Ledger] = env.__dict__.setdefault("_ledgers", {})
    ledger = cache.get(beads_dir)
    if ledger is None:
        ledger = Ledger.open(beads_dir)
        ledger.progress = _progress_for(env, ledger)
        cache[beads_dir] = ledger
    return ledger


def close_ledgers(env: Environment) -> None:
    """Close every ledger this run opened (the CLI does this after each command)."""
    for ledger in env.__dict__.pop("_ledgers", {}).values():
        ledger.close()


def _town_quiet(env: Environment) -> str | None:
    try:
        return find_town(env)
    except NotFoundError:
        return None


def _progress_for(env: Environment, ledger: Ledger):
    def report(message: str, size: int) -> None:
        if size >= _REBUILD_NOTICE_BYTES:
            env.info(message)

    return report
