"""What a verification run checks: the work bead, its merge request, the commit and its base.

``vermas inspect run <bead|mr>``: a merge request names its source bead, branch, target and
submitted ``commit_sha``; a bead is verified at its newest open merge request (else its
newest one). ``--commit REV`` verifies any commit of the rig's repository instead (e.g.
``main``, to see that the criteria fail before the work). The base is where the change
starts: the merge base of the commit and the target branch. The refinery's stage builds its
target itself (the rebased candidate and the target commit it sits on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from vermas import gitops
from vermas.errors import NotFoundError, UsageError
from vermas.ledger import queries, routes
from vermas.ledger.store import Ledger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town

MR_TYPE = "merge-request"


@dataclass
class Target:
    rig: str  # the rig whose repository holds the commit
    bead_id: str  # the work bead
    beads_dir: str  # the work bead's ledger
    repo: str  # the rig's bare repository
    commit: str
    base: str
    mr_id: str = ""
    mr_beads_dir: str = ""
    branch: str = ""
    target_branch: str = ""
    worker: str = ""

    def to_dict(self) -> dict:
        return {"rig": self.rig, "bead": self.bead_id, "mr": self.mr_id or None, "commit": self.commit,
                "base": self.base, "branch": self.branch or None, "target": self.target_branch or None,
                "worker": self.worker or None}


def rig_of_beads_dir(town: Town, beads_dir: str) -> str | None:
    from vermas.town.rigs import rig_names

    real = os.path.realpath(beads_dir)
    for name in rig_names(town):
        if os.path.realpath(town.rig(name).beads_dir) == real:
            return name
    return None


def ledger_of(town: Town, ref: str, default: str | None = None) -> str:
    """The ``.beads`` owning ``ref`` (routes by prefix), else ``default``; exit 3 when neither."""
    found = routes.beads_dir_for_id(ref, default, town.root)
    if found:
        return found
    if default:
        return default
    raise NotFoundError(f"cannot tell which ledger holds {ref!r}: its prefix is not in {town.routes_path}",
                        hint="use a full id (<prefix>-<hash>), or pass --rig")


def mr_fields(issue: dict) -> dict[str, str]:
    from vermas.roles.refinery.mr import parse_fields

    return parse_fields(str(issue.get("description") or ""))


def merge_requests_for(town: Town, bead_id: str, beads_dir: str) -> list[tuple[dict, str]]:
    """Every merge request whose source is ``bead_id`` as ``(issue, beads_dir)``, oldest first."""
    from vermas.town.rigs import rig_names

    dirs = [beads_dir] + [town.rig(n).beads_dir for n in rig_names(town)]
    out: list[tuple[dict, str]] = []
    seen: set[str] = set()
    for d in dirs:
        real = os.path.realpath(d)
        if real in seen or not os.path.isdir(d):
            continue
        seen.add(real)
        with Ledger.open(d) as ledger:
            for issue in queries.list_issues(ledger.conn, issue_type=(MR_TYPE,), include_ephemeral=True,
                                             order="created"):
                if mr_fields(issue).get("source_issue") == bead_id:
                    out.append((issue, d))
    out.sort(key=lambda pair: (pair[0].get("created_at") or "", pair[0]["id"]))
    return out


def resolve(town: Town, ref: str, *, default_beads_dir: str | None = None, commit: str | None = None,
            rig: str | None = None) -> Target:
    """The :class:`Target` for a bead or merge-request reference (see the module docstring)."""
    beads_dir = ledger_of(town, ref, default_beads_dir)
    with Ledger.open(beads_dir) as ledger:
        issue = ledger.get(ref)
    mr: dict | None = None
    mr_dir = ""
    if issue.get("issue_type") == MR_TYPE:
        mr, mr_dir = issue, beads_dir
        bead_id = mr_fields(issue).get("source_issue") or ""
        if not bead_id:
            raise UsageError(f"merge request {issue['id']} names no source_issue", hint="verify the bead itself")
        beads_dir = ledger_of(town, bead_id, beads_dir)
        with Ledger.open(beads_dir) as ledger:
            bead_id = ledger.get(bead_id)["id"]
    else:
        bead_id = issue["id"]
        if commit is None:
            found = merge_requests_for(town, bead_id, beads_dir)
            live = [pair for pair in found if pair[0].get("status") != "closed"]
            if live or found:
                mr, mr_dir = (live or found)[-1]
    fields = mr_fields(mr) if mr else {}
    rig_name = rig or fields.get("rig") or rig_of_beads_dir(town, mr_dir or beads_dir)
    if not rig_name:
        raise UsageError(f"cannot tell which rig's repository holds the work of {bead_id}",
                         hint="pass --rig NAME")
    from vermas.town.rigs import rig_info

    info = rig_info(town, rig_name)
    repo = town.rig(rig_name).repo
    target_branch = fields.get("target") or info.get("default_branch") or "main"
    if commit is not None:
        sha = gitops.rev_parse(commit, cwd=repo)
        if sha is None:
            raise NotFoundError(f"no commit {commit!r} in {repo}", hint="give a branch, tag or commit id of the rig")
    elif mr is not None:
        sha = fields.get("commit_sha") or (gitops.rev_parse(f"refs/heads/{fields['branch']}", cwd=repo)
                                           if fields.get("branch") else None)
        if not sha or not gitops.commit_exists(repo, sha):
            raise NotFoundError(f"the commit of merge request {mr['id']} ({sha or 'none'}) is not in {repo}",
                                hint="the branch may be gone; give --commit REV")
    else:
        raise NotFoundError(f"{bead_id} has no merge request yet: nothing submitted to verify",
                            hint=f"verify a commit instead: vermas inspect run {bead_id} --commit <branch|sha>")
    target_sha = gitops.rev_parse(f"refs/heads/{target_branch}", cwd=repo)
    base = (gitops.merge_base(repo, target_sha, sha) if target_sha else None) or sha
    return Target(rig=rig_name, bead_id=bead_id, beads_dir=beads_dir, repo=repo, commit=sha, base=base,
                  mr_id=mr["id"] if mr else "", mr_beads_dir=mr_dir, branch=fields.get("branch", ""),
                  target_branch=target_branch, worker=fields.get("worker", ""))
