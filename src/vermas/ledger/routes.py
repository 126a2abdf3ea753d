"""Which ``.beads`` directory owns an id: ``routes.jsonl``, ``redirect`` files, town roots.

Formats (bd v0.43 ``internal/routing``, Gas Town):

* ``routes.jsonl``: one ``{"prefix":"gt-","path":"gastown/mayor/rig"}`` per line. Blank lines,
  ``#`` comments, malformed lines and lines with an empty prefix or path are skipped.
* An id's route prefix is everything up to and including its **first** ``-`` (``gt-abc`` →
  ``gt-``), compared for equality, so a route like ``hq-cv-`` never matches in v0.43.
* ``path`` is relative to the town root (the nearest ancestor holding ``mayor/town.json``);
  ``"."`` is the town's own ``.beads``. A path that already ends in ``.beads`` is used as is
  (Gas Town's rig-level routes use ``../../mayor/rig/.beads``, relative to the directory that
  holds the routing ``.beads``), so targets are tried against the town root first and then
  against that directory.
* A ``.beads`` directory may hold a ``redirect`` file: a path to the real one, relative to
  the directory containing that ``.beads`` (bd's rule). Worktrees and crew clones share their
  rig's ledger this way. Redirects are followed up to three levels (bd follows one).

Standard library only; safe on the hook path.
"""

from __future__ import annotations

import os

ROUTES_FILE = "routes.jsonl"
REDIRECT_FILE = "redirect"
BEADS_DIR_NAME = ".beads"
TOWN_MARKER = os.path.join("mayor", "town.json")
MAX_REDIRECT_DEPTH = 3
_LEDGER_FILES = ("issues.jsonl", "config.yaml", "metadata.json")


class Route:
    """One line of ``routes.jsonl``."""

    __slots__ = ("path", "prefix")

    def __init__(self, prefix: str, path: str) -> None:
        self.prefix = prefix
        self.path = path

    @property
    def rig_name(self) -> str:
        """The rig a route points at: the first path component (``"."`` for the town)."""
        if self.path in (".", "./"):
            return "."
        first = self.path.strip("/").split("/", 1)[0]
        return first or "."

    def as_dict(self) -> dict[str, str]:
        return {"prefix": self.prefix, "path": self.path}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Route) and (self.prefix, self.path) == (other.prefix, other.path)

    def __hash__(self) -> int:
        return hash((self.prefix, self.path))

    def __repr__(self) -> str:
        return f"Route({self.prefix!r}, {self.path!r})"


class Rig:
    """A ledger reachable from a town: its name, id prefix and resolved ``.beads`` directory."""

    __slots__ = ("beads_dir", "name", "path", "prefix")

    def __init__(self, name: str, prefix: str, path: str, beads_dir: str | None) -> None:
        self.name = name
        self.prefix = prefix
        self.path = path
        self.beads_dir = beads_dir

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "prefix": self.prefix, "path": self.path, "beads_dir": self.beads_dir}


# ---------------------------------------------------------------- parsing
def parse_routes(text: str) -> list[Route]:
    """Routes from the text of a ``routes.jsonl`` (bad lines skipped, as bd does)."""
    import json  # lazily: finding a town root must not pay for json

    routes: list[Route] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        prefix, path = obj.get("prefix"), obj.get("path")
        if isinstance(prefix, str) and isinstance(path, str) and prefix and path:
            routes.append(Route(prefix, path))
    return routes


def load_routes(beads_dir: str) -> list[Route]:
    """The routes in ``<beads_dir>/routes.jsonl`` (empty when there is no such file)."""
    try:
        with open(os.path.join(beads_dir, ROUTES_FILE), encoding="utf-8", errors="replace") as fh:
            return parse_routes(fh.read())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []


def route_prefix(issue_id: str) -> str:
    """The routing prefix of an id: up to and including the first ``-`` (``""`` if none)."""
    dash = issue_id.find("-")
    return issue_id[: dash + 1] if dash > 0 else ""


# ------------------------------------------------------------ directories
def find_town_root(start: str) -> str | None:
    """The nearest ancestor of ``start`` (itself included) holding ``mayor/town.json``."""
    path = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(path, TOWN_MARKER)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def resolve_redirect(beads_dir: str, *, max_depth: int = MAX_REDIRECT_DEPTH) -> str:
    """Follow ``redirect`` files from ``beads_dir`` (at most ``max_depth`` hops).

    A redirect's first line that is neither blank nor a ``#`` comment is a path to another
    ``.beads``; a relative path is resolved from the directory that *contains* the
    ``.beads`` (the project root), as bd's ``FollowRedirect`` does, so a polecat worktree
    ``rig/polecats/nux/.beads/redirect`` holding ``../../.beads`` reaches ``rig/.beads``.
    Empty or dangling redirects are ignored (the directory itself is used), like bd.
    """
    current = os.path.abspath(beads_dir)
    for _ in range(max_depth):
        try:
            with open(os.path.join(current, REDIRECT_FILE), encoding="utf-8") as fh:
                text = fh.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
            return current
        target = next((line.strip() for line in text.split("\n")
                       if line.strip() and not line.strip().startswith("#")), "")
        if not target:
            return current
        if not os.path.isabs(target):  # noqa: PTH117 - pathlib is too costly on the hook path
            target = os.path.join(os.path.dirname(current), target)
        target = os.path.normpath(target)
        if not os.path.isdir(target) or target == current:
            return current
        current = target
    return current


def is_ledger_dir(path: str) -> bool:
    """Does ``path`` look like a ledger (holds issues.jsonl, config.yaml or metadata.json)?"""
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, f)) for f in _LEDGER_FILES)


def find_beads_dir(start: str) -> str | None:
    """The ledger directory for ``start``: the nearest ``.beads`` upward, redirects followed."""
    path = os.path.abspath(start)
    while True:
        candidate = os.path.join(path, BEADS_DIR_NAME)
        if os.path.isdir(candidate):
            resolved = resolve_redirect(candidate)
            if is_ledger_dir(resolved):
                return resolved
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def routes_for(beads_dir: str | None, town_root: str | None) -> tuple[list[Route], str | None]:
    """The routes in effect and the ``.beads`` they came from: the current one, else the town's."""
    if beads_dir:
        local = load_routes(beads_dir)
        if local:
            return local, beads_dir
    if town_root:
        town_beads = os.path.join(town_root, BEADS_DIR_NAME)
        town = load_routes(town_beads)
        if town:
            return town, town_beads
    return [], None


def route_target(route: Route, town_root: str | None, routes_dir: str | None) -> str | None:
    """The ``.beads`` directory a route points at (redirects followed), or None if missing."""
    bases: list[str] = []
    if town_root:
        bases.append(town_root)
    if routes_dir:
        owner = os.path.dirname(os.path.abspath(routes_dir))
        if owner not in bases:
            bases.append(owner)
    for base in bases:
        if route.path in (".", "./"):
            target = os.path.join(base, BEADS_DIR_NAME)
        else:
            target = os.path.normpath(os.path.join(base, route.path))
            if os.path.basename(target) != BEADS_DIR_NAME:
                target = os.path.join(target, BEADS_DIR_NAME)
        if os.path.isdir(target):
            return resolve_redirect(target)
    return None


def beads_dir_for_id(issue_id: str, beads_dir: str | None, town_root: str | None) -> str | None:
    """The ``.beads`` that owns ``issue_id`` by routing, or None when no route matches.

    Routes are read from ``beads_dir`` if it has a ``routes.jsonl``, else from the town's.
    """
    prefix = route_prefix(issue_id)
    if not prefix:
        return None
    routes, routes_dir = routes_for(beads_dir, town_root)
    for route in routes:
        if route.prefix == prefix:
            target = route_target(route, town_root, routes_dir)
            if target is not None:
                return target
    return None


# -------------------------------------------------------------------- rigs
def rigs(town_root: str) -> list[Rig]:
    """Every ledger the town's ``routes.jsonl`` names, once each (the town itself appears as ``"."``).

    When several prefixes route to one path (``hq-`` and ``hq-cv-``), the first names the rig.
    """
    town_beads = os.path.join(town_root, BEADS_DIR_NAME)
    out: list[Rig] = []
    seen: set[str] = set()
    for route in load_routes(town_beads):
        key = os.path.normpath(route.path)
        if key in seen:
            continue
        seen.add(key)
        out.append(Rig(route.rig_name, route.prefix.rstrip("-"), route.path,
                       route_target(route, town_root, town_beads)))
    return out


def find_rig(town_root: str, key: str) -> Rig | None:
    """A rig by name (``gastown``), prefix (``gt`` or ``gt-``), or directory under the town.

    Routes are consulted first (bd's ``--rig``/``--prefix`` lookup); a directory
    ``<town>/<key>`` with ``mayor/rig/.beads`` or ``.beads`` is accepted too.
    """
    key = key.strip()
    if not key:
        return None
    wanted_prefix = key if key.endswith("-") else key + "-"
    known = rigs(town_root)
    for rig in known:
        if rig.prefix + "-" == wanted_prefix:
            return rig
    for rig in known:
        if rig.name == key.rstrip("/"):
            return rig
    if "/" not in key and key not in (".", ".."):
        for sub in (os.path.join("mayor", "rig", BEADS_DIR_NAME), BEADS_DIR_NAME):
            candidate = os.path.join(town_root, key, sub)
            if os.path.isdir(candidate):
                resolved = resolve_redirect(candidate)
                if is_ledger_dir(resolved):
                    return Rig(key, "", key, resolved)
    return None
