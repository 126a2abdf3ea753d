"""Crew: persistent workspaces (full clones) in a rig, for humans or long-lived agents.

``<rig>/crew/<name>/`` is a full ``git clone`` of the rig's bare repository (``origin`` =
``.repo.git``), so pushing a branch from a crew clone puts it where polecat branches go.
A ``.beads/redirect`` inside the clone points at the rig ledger so ``vermas`` commands run
there act on the rig's beads.
"""

from __future__ import annotations

import os
import re
import shutil

from vermas import gitops
from vermas.errors import ConflictError, NotFoundError, UsageError
from vermas.fileops import FileLock, atomic_write_text
from vermas.town import addresses
from vermas.town.layout import Town
from vermas.town.rigs import rig_info

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def crew_path(town: Town, rig: str, name: str) -> str:
    return town.rig(rig).crew_home(name)


def add(town: Town, rig: str, name: str) -> dict:
    """Clone the rig into ``crew/<name>``; ConflictError when it exists."""
    info = rig_info(town, rig)
    if not _NAME.match(name):
        raise UsageError(f"invalid crew name {name!r}", hint="use lowercase letters, digits, '-' or '_'")
    paths = town.rig(rig)
    path = paths.crew_home(name)
    with FileLock(town.lock(f"crew-{rig}")):
        if os.path.exists(path):
            raise ConflictError(f"crew member {name!r} already exists in rig {rig} ({path})",
                                hint=f"'vermas crew list --rig {rig}' shows the crew")
        os.makedirs(paths.crew_dir, exist_ok=True)
        try:
            gitops.run(["clone", "--quiet", paths.repo, path], cwd=paths.crew_dir)
            gitops.run(["config", "user.name", name], cwd=path)
            beads = os.path.join(path, ".beads")
            if not os.path.exists(beads):
                os.makedirs(beads)
                atomic_write_text(os.path.join(beads, "redirect"), os.path.relpath(paths.beads_dir, beads) + "\n")
                exclude = os.path.join(path, ".git", "info", "exclude")
                with open(exclude, "a", encoding="utf-8") as fh:
                    fh.write("\n.beads/\n")
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
    return describe(town, rig, name) | {"default_branch": info.get("default_branch", "")}


def list_crew(town: Town, rig: str) -> list[dict]:
    rig_info(town, rig)
    return [describe(town, rig, name) for name in addresses.members(town.root, rig, "crew")]


def describe(town: Town, rig: str, name: str) -> dict:
    path = crew_path(town, rig, name)
    if not os.path.isdir(path):
        known = ", ".join(addresses.members(town.root, rig, "crew")) or "none"
        raise NotFoundError(f"rig {rig} has no crew member {name!r} (crew: {known})",
                            hint=f"add one with 'vermas crew add {name} --rig {rig}'")
    branch = gitops.run(["symbolic-ref", "--short", "-q", "HEAD"], cwd=path, check=False).stdout.strip()
    dirty = gitops.dirty_paths(path) if gitops.is_repo(path) else []
    return {"name": name, "rig": rig, "address": f"{rig}/crew/{name}", "path": path, "branch": branch or None,
            "dirty": len(dirty)}


def remove(town: Town, rig: str, name: str, *, force: bool = False) -> None:
    """Delete a crew clone; refuses uncommitted or unpushed work unless ``force``."""
    info = describe(town, rig, name)
    path = info["path"]
    if not force:
        if info["dirty"]:
            raise ConflictError(f"crew {rig}/crew/{name} has {info['dirty']} uncommitted change(s) in {path}",
                                hint="commit and push them, or pass --force to discard")
        unpushed = gitops.run(["log", "--oneline", "--branches", "--not", "--remotes"], cwd=path,
                              check=False).stdout.strip()
        if unpushed:
            count = len(unpushed.splitlines())
            raise ConflictError(f"crew {rig}/crew/{name} has {count} commit(s) not pushed to the rig",
                                hint="push them (git push origin <branch>), or pass --force to discard")
    shutil.rmtree(path)
