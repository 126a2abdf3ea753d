"""Rigs: one project (a git repository) in the town, with its bare repo, ledger and homes."""

from __future__ import annotations

import json
import os
import re
import shutil

from vermas import gitops
from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.fileops import FileLock, atomic_write_text
from vermas.ledger import timefmt
from vermas.ledger.store import Ledger
from vermas.town import routes_file
from vermas.town.layout import RigPaths, Town

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,9}$")
RESERVED_NAMES = {"mayor", "deacon", "settings", "hq", "witness", "refinery", "polecats", "crew", "plugins", "boot",
                  "dog", "overseer"}


def load_registry(town: Town) -> dict:
    try:
        with open(town.rigs_json, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {"version": 1, "rigs": {}}
    data.setdefault("rigs", {})
    return data


def _save_registry(town: Town, data: dict) -> None:
    atomic_write_text(town.rigs_json, json.dumps(data, indent=2) + "\n")


def rig_names(town: Town) -> list[str]:
    return sorted(load_registry(town)["rigs"])


def rig_info(town: Town, name: str) -> dict:
    """The registry entry of a rig (with ``name``); NotFoundError names the known rigs."""
    rigs = load_registry(town)["rigs"]
    if name not in rigs:
        known = ", ".join(sorted(rigs)) or "none yet"
        raise NotFoundError(f"no rig named {name!r} in {town.root} (rigs: {known})",
                            hint="add one with 'vermas rig add <name> <git-url-or-path>'")
    return {"name": name, **rigs[name]}


def rig_prefixes(town: Town) -> dict[str, str]:
    """``{prefix: rig}`` for every rig."""
    return {info.get("beads", {}).get("prefix", ""): name for name, info in load_registry(town)["rigs"].items()}


def derive_prefix(name: str, taken: set[str]) -> str:
    """A short, unique beads prefix from a rig name (``gas-town`` → ``gt``, ``webapp`` → ``we``)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name.lower()) if w]
    base = "".join(w[0] for w in words) if len(words) > 1 else (words[0][:2] if words else "rg")
    base = re.sub(r"[^a-z0-9]", "", base) or "rg"
    if not base[0].isalpha():
        base = "r" + base
    candidate, n = base, 2
    while candidate in taken or candidate == "hq":
        candidate = f"{base}{n}"
        n += 1
    return candidate


def _resolve_source(source: str, cwd: str) -> str:
    """Absolute path for local repositories; URLs unchanged."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", source) or re.match(r"^[^/]+@[^:]+:", source):
        return source
    path = os.path.abspath(os.path.join(cwd, source))
    if not os.path.isdir(path):
        raise NotFoundError(f"no repository at {path}", hint="pass a git URL or the path of a git repository")
    if not gitops.is_repo(path):
        raise UsageError(f"{path} is not a git repository", hint="run 'git init' there first, or pass a git URL")
    return path


def add_rig(town: Town, name: str, source: str, *, prefix: str | None = None, branch: str | None = None,
            cwd: str | None = None) -> dict:
    """Create the rig: bare repo, ledger (own prefix, routed), homes, settings; register it."""
    if not _NAME.match(name) or name.lower() in RESERVED_NAMES:
        raise UsageError(f"invalid rig name {name!r}",
                         hint="use letters, digits, '-' or '_', starting with a letter (not a role name)")
    url = _resolve_source(source, cwd or os.getcwd())
    with FileLock(town.lock("rigs")):
        registry = load_registry(town)
        if name in registry["rigs"]:
            raise ConflictError(f"rig {name!r} already exists", hint=f"'vermas rig status {name}' shows it")
        paths = town.rig(name)
        if os.path.exists(paths.root):
            raise ConflictError(f"{paths.root} already exists but is not a registered rig",
                                hint="remove it or pick another rig name")
        taken = set(rig_prefixes(town)) | {r.get("prefix", "").rstrip("-") for r in
                                           routes_file.read_routes(town.routes_path)}
        if prefix is None:
            prefix = derive_prefix(name, taken)
        else:
            prefix = prefix.rstrip("-")
            if not _PREFIX.match(prefix):
                raise UsageError(f"invalid prefix {prefix!r}", hint="use 1-10 lowercase letters/digits, e.g. 'web'")
            if prefix in taken or prefix == "hq":
                raise ConflictError(f"prefix {prefix!r} is already used by another ledger in this town")
        try:
            os.makedirs(paths.root)
            gitops.clone_bare(url, paths.repo)
            default = branch or gitops.default_branch(paths.repo)
            if not gitops.branch_exists(paths.repo, default):
                raise NotFoundError(f"branch {default!r} does not exist in {url}",
                                    hint="pass --branch with an existing branch")
            gitops.run(["symbolic-ref", "HEAD", f"refs/heads/{default}"], cwd=paths.repo)
            Ledger.init(paths.beads_dir, prefix)
            for home in (paths.polecats_dir, paths.crew_dir, paths.witness_dir, paths.refinery_dir,
                         os.path.dirname(paths.settings_path)):
                os.makedirs(home, exist_ok=True)
            now = timefmt.now_str()
            config = {"type": "rig", "version": 1, "name": name, "git_url": url, "default_branch": default,
                      "created_at": now, "beads": {"prefix": prefix}}
            atomic_write_text(paths.config_json, json.dumps(config, indent=2) + "\n")
            if not os.path.exists(paths.settings_path):
                atomic_write_text(paths.settings_path,
                                  json.dumps({"type": "rig-settings", "version": 1}, indent=2) + "\n")
            routes_file.ensure_route(town.routes_path, prefix, name)
        except BaseException:
            shutil.rmtree(paths.root, ignore_errors=True)
            raise
        registry["rigs"][name] = {"git_url": url, "local_repo": paths.repo, "default_branch": default,
                                  "added_at": now, "beads": {"repo": os.path.relpath(paths.beads_dir, town.root),
                                                             "prefix": prefix}}
        _save_registry(town, registry)
    return rig_info(town, name)


def remove_rig(town: Town, name: str, *, force: bool = False) -> None:
    """Unregister a rig and delete its directory (refuses while polecat worktrees hold work)."""
    info = rig_info(town, name)
    paths = town.rig(name)
    if not force:
        from vermas.town import polecats

        working = [s["address"] for s in polecats.busy(paths)]
        if working:
            raise ConflictError(f"rig {name} has polecats with hooked work: {', '.join(working)}",
                                hint="let them finish ('vermas status'), or pass --force")
        busy = [w for w in _polecat_worktrees(paths) if gitops.dirty_paths(w)]
        if busy:
            raise ConflictError(f"rig {name} has polecat worktrees with uncommitted work: {', '.join(busy)}",
                                hint="finish or discard that work, or pass --force")
    _stop_sessions(town, name)
    with FileLock(town.lock("rigs")):
        registry = load_registry(town)
        registry["rigs"].pop(name, None)
        _save_registry(town, registry)
        routes_file.remove_route(town.routes_path, info.get("beads", {}).get("prefix", ""))
    shutil.rmtree(paths.root, ignore_errors=True)


def _stop_sessions(town: Town, name: str) -> None:
    """Stop every agent session of the rig (witness, refinery, polecats, crew) before it goes."""
    from vermas.errors import VermasError
    from vermas.runtime.naming import session_for_address

    prefix = session_for_address(f"{name}/witness")[: -len("witness")]  # vm-<rig slug>-
    try:
        from vermas.town import sessions

        prov = sessions.provider(town, None, None)
        for session in prov.list_sessions(prefix):
            prov.stop(session)
    except VermasError:
        pass  # no tmux server, no sessions to stop


def _polecat_worktrees(paths: RigPaths) -> list[str]:
    if not os.path.isdir(paths.polecats_dir):
        return []
    found = []
    for polecat in sorted(os.listdir(paths.polecats_dir)):
        worktree = paths.polecat_worktree(polecat)
        if os.path.isdir(worktree):
            found.append(worktree)
    return found


def fetch_upstream(town: Town, name: str) -> None:
    """Refresh the bare repo's view of the source (``refs/remotes/origin/*``)."""
    gitops.run(["fetch", "--quiet", "--prune", "origin"], cwd=town.rig(name).repo, check=False)
