"""``vermas install``: create (or repair) a town. Idempotent; refuses foreign non-empty dirs."""

from __future__ import annotations

import json
import os

from vermas.errors import ConflictError
from vermas.fileops import atomic_write_text
from vermas.ledger import timefmt
from vermas.ledger.store import Ledger
from vermas.town import routes_file
from vermas.town.layout import Town

TOWN_PREFIX = "hq"

TOWN_GITIGNORE = """# VerMAS local state: never commit
.runtime/
*/.repo.git/
*/polecats/
*/crew/
*/.runtime/
# supervision daemons: worktrees, journals, pid/lock/log/want files, heartbeats
*/refinery/rig/
*/refinery/target/
*/refinery/state.json
*/witness/state.json
*/*/*.pid
*/*/*.lock
*/*/*.log
*/*/*.log.1
*/*/*.want
deacon/*.pid
deacon/*.lock
deacon/*.log
deacon/*.log.1
deacon/*.want
deacon/heartbeat.json
deacon/state.json
deacon/boot/
**/vermas-index.db*
**/wisps.jsonl
**/.vermas.lock
"""


def install(path: str, *, name: str | None = None, owner: str = "", git: bool = False) -> tuple[Town, list[str]]:
    """Create the town layout at ``path``; return the town and what was created or repaired."""
    root = os.path.abspath(path)
    town = Town(root)
    if os.path.isdir(root) and os.listdir(root) and not os.path.isfile(town.town_json):
        raise ConflictError(
            f"refusing to install into {root}: it is not empty and not a VerMAS town",
            hint="choose an empty or new directory",
        )
    made: list[str] = []
    for directory in (town.mayor_dir, town.deacon_dir, os.path.dirname(town.settings_path), town.runtime_dir,
                      town.locks_dir):
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
            made.append(os.path.relpath(directory, root) + "/")
    if not os.path.exists(town.town_json):
        doc = {"type": "town", "version": 1, "name": name or os.path.basename(root), "owner": owner,
               "created_at": timefmt.now_str()}
        atomic_write_text(town.town_json, json.dumps(doc, indent=2) + "\n")
        made.append("mayor/town.json")
    if not os.path.exists(town.rigs_json):
        atomic_write_text(town.rigs_json, json.dumps({"version": 1, "rigs": {}}, indent=2) + "\n")
        made.append("mayor/rigs.json")
    if not os.path.exists(town.settings_path):
        atomic_write_text(town.settings_path, json.dumps({"type": "town-settings", "version": 1}, indent=2) + "\n")
        made.append("settings/config.json")
    if not os.path.exists(os.path.join(town.beads_dir, "issues.jsonl")):
        made.append(".beads/ (prefix hq)")
    Ledger.init(town.beads_dir, TOWN_PREFIX)
    if routes_file.ensure_route(town.routes_path, TOWN_PREFIX, "."):
        made.append(".beads/routes.jsonl")
    ignore = os.path.join(root, ".gitignore")
    if not os.path.exists(ignore):
        atomic_write_text(ignore, TOWN_GITIGNORE)
        made.append(".gitignore")
    elif _repair_gitignore(ignore):
        made.append(".gitignore (new entries)")
    if git and not os.path.isdir(os.path.join(root, ".git")):
        from vermas import gitops

        gitops.run(["init", "--quiet"], cwd=root)
        gitops.commit_all(root, "vermas: install town")
        made.append(".git (initial commit)")
    return town, made


def _repair_gitignore(path: str) -> bool:
    """Append the entries of :data:`TOWN_GITIGNORE` an older town's ``.gitignore`` lacks (keeps the rest)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in TOWN_GITIGNORE.splitlines() if line.strip() and not line.startswith("#")
               and line.strip() not in present]
    if not missing:
        return False
    tail = "" if text.endswith("\n") or not text else "\n"
    atomic_write_text(path, text + tail + "# added by vermas install (repair)\n" + "\n".join(missing) + "\n")
    return True
