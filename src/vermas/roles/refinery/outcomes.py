"""The effects of a decision, as idempotent steps recorded in the journal.

A plan (built by the engine, written to the journal before the target moves) lists, per
request, what happens to it:

* ``merged`` / ``already``: close the MR (``close_reason: merged``, ``merge_commit``) and the
  source bead (in one ledger transaction when the source is a rig bead; a town or other-rig
  bead, found through ``routes.jsonl``, is closed in its own ledger right after), clear the
  polecat's hook file if it still points at the bead, delete the branch (only if it still
  points at the merged commit; a worktree that has it checked out is detached first), mail
  ``MERGED``, land convoys;
* ``rework``: close the MR (``conflict`` or ``rejected``), put the source bead back on the
  polecat's hook with the failure context, mail ``REWORK_REQUEST``;
* ``park``: label the MR ``mq:parked`` with the stage and reason, release it, tell the mayor;
* ``release``: back to the queue unchanged.

Every step checks the current state before acting and is marked done in the journal after
it; a refinery restarted after a crash replays the plan and skips what is done (mail is
also checked against the town ledger, so a step interrupted after sending is not repeated).
"""

from __future__ import annotations

import os

from vermas import gitops
from vermas.errors import NotFoundError
from vermas.ledger import routes, timefmt
from vermas.ledger.store import Ledger
from vermas.roles.refinery import mr as mrmod
from vermas.roles.refinery import notify, queue
from vermas.roles.refinery.journal import Journal
from vermas.roles.refinery.settings import RefineryHome
from vermas.town import hookfile
from vermas.town.identity import try_parse_address

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from vermas.ledger.store import Transaction
    from vermas.roles.refinery.queue import StaleDecision


class Outcomes:
    """Applies plans for one rig's refinery."""

    def __init__(self, home: RefineryHome, ledger: Ledger, journal: Journal | None, log: Callable[[str], None], *,
                 recovering: bool = False) -> None:
        self.home = home
        self.town_root = home.town.root
        self.ledger = ledger
        self.journal = journal
        self.log = log
        self.recovering = recovering
        self.actor = home.actor
        self.rig = home.rig_name

    # ------------------------------------------------------------------- plan
    def apply(self, plan: dict) -> dict:
        """Run every step of ``plan`` that is not done yet; returns counts."""
        target = plan["target"]
        tip = plan.get("tip") or plan.get("base") or ""
        for item in plan.get("merged", []) + plan.get("already", []):
            self._step(f"merged:{item['mr']}:ledger", lambda i=item: self.close_merged(i, target, tip))
            self._step(f"merged:{item['mr']}:branch", lambda i=item: self.delete_branch(i))
            self._step(f"merged:{item['mr']}:mail", lambda i=item: notify.merged(
                self.town_root, self.actor, rig=self.rig, mr=i, target=target, merge_commit=tip, log=self.log,
                dedupe=self.recovering, notes=self._merged_notes(i, plan)))
            self._step(f"merged:{item['mr']}:convoys", lambda i=item: i.get("source") and notify.convoys_after_close(
                self.town_root, i["source"], self.actor, self.log))
        for item in plan.get("rework", []):
            self._step(f"rework:{item['mr']}:ledger", lambda i=item: self.close_rejected(i, plan))
            self._step(f"rework:{item['mr']}:hook", lambda i=item: self._rehook(i, target))
            self._step(f"rework:{item['mr']}:mail", lambda i=item: notify.rework(
                self.town_root, self.actor, rig=self.rig, item=i, target=target, log=self.log,
                dedupe=self.recovering, to_mayor=i.get("hooked") == "unassigned"))
        for item in plan.get("park", []):
            self._step(f"park:{item['mr']}:ledger", lambda i=item: self.park(i))
            self._step(f"park:{item['mr']}:mail", lambda i=item: notify.parked(
                self.town_root, self.actor, rig=self.rig, item=i, log=self.log, dedupe=self.recovering))
        for item in plan.get("pr", []):
            self._step(f"pr:{item['mr']}:ledger", lambda i=item: self.record_pr(i))
        if plan.get("release"):
            self._step("release", lambda: queue.release(self.ledger, self.actor, plan["release"]))
        return {"merged": len(plan.get("merged", [])) + len(plan.get("already", [])),
                "rework": len(plan.get("rework", [])), "parked": len(plan.get("park", []))}

    def _step(self, name: str, action: Callable[[], object]) -> None:
        if self.journal is None:  # a one-off from the CLI (mq reject): nothing to resume
            action()
            return
        if self.journal.is_done(name):
            return
        action()
        self.journal.step_done(name)

    def _merged_notes(self, item: dict, plan: dict) -> str:
        lines = []
        if item.get("note"):
            lines.append(f"Note: {item['note']}.")
        for stage, bug in (plan.get("bugs") or {}).items():
            lines.append(f"Gate {stage} fails on {plan['target']} itself (bug {bug}); it was not held against you.")
        for stage in plan.get("flaky") or ():
            lines.append(f"Gate {stage} failed once and passed on retry (flaky).")
        if plan.get("evidence"):
            lines.append(f"Gate evidence: {plan['evidence']}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- sources
    def open_source(self, source_id: str) -> tuple[Ledger | None, dict | None]:
        """The ledger holding a source bead and the bead: the rig's, else the one its prefix routes to.

        A ledger other than the rig's is opened for the caller, who closes it (see :meth:`done_with`).
        """
        if not source_id:
            return None, None
        issue = self.ledger.find(source_id)
        if issue is not None:
            return self.ledger, issue
        target = routes.beads_dir_for_id(source_id, self.ledger.dir, self.town_root)
        if not target or os.path.abspath(target) == self.ledger.dir:
            return None, None
        try:
            other = Ledger.open(target)
        except NotFoundError:
            return None, None
        issue = other.find(source_id)
        if issue is None:
            other.close()
            return None, None
        return other, issue

    def done_with(self, ledger: Ledger | None) -> None:
        if ledger is not None and ledger is not self.ledger:
            ledger.close()

    def _close_source(self, ledger: Ledger, source: dict, comment: str) -> None:
        with ledger.transaction(self.actor) as tx:
            self._close_source_in(tx, source, comment)

    @staticmethod
    def _close_source_in(tx: Transaction, source: dict, comment: str) -> None:
        if source.get("status") in ("closed", "tombstone"):
            return
        tx.add_comment(source["id"], comment)
        if "rework" in (source.get("labels") or []):
            tx.remove_label(source["id"], "rework")
        tx.close(source["id"], mrmod.MERGED)

    # ------------------------------------------------------------------ merged
    def close_merged(self, item: dict, target: str, merge_commit: str) -> None:
        """Close the MR (merged) and its source bead (one transaction when both are in the rig ledger)."""
        mr_issue = self.ledger.find(item["mr"])
        source_id = item.get("source") or ""
        source_ledger, source = self.open_source(source_id)
        comment = f"[refinery] merged into {target} at {merge_commit} (MR {item['mr']})"
        try:
            self._close_merged(item, target, merge_commit, mr_issue, source_ledger, source, comment)
        finally:
            self.done_with(source_ledger)

    def _close_merged(self, item: dict, target: str, merge_commit: str, mr_issue: dict | None,
                      source_ledger: Ledger | None, source: dict | None, comment: str) -> None:
        source_id = item.get("source") or ""
        with self.ledger.transaction(self.actor) as tx:
            if mr_issue is not None and mr_issue.get("status") != "closed":
                description = mrmod.set_fields(str(mr_issue.get("description") or ""),
                                               {"merge_commit": merge_commit, "close_reason": mrmod.MERGED})
                tx.update(item["mr"], description=description)
                tx.add_comment(item["mr"], f"[refinery] merged into {target} at {merge_commit}"
                               + (f" ({item['note']})" if item.get("note") else ""))
                tx.close(item["mr"], mrmod.MERGED)
            if source is not None and source_ledger is self.ledger:
                self._close_source_in(tx, source, comment)
            tx.emit("refinery.merged", {"mr_id": item["mr"], "bead_id": source_id, "target": target,
                                        "merge_commit": merge_commit, "branch": item.get("branch")})
        if source is not None and source_ledger is not None and source_ledger is not self.ledger:
            self._close_source(source_ledger, source, comment)
        agent = try_parse_address(item.get("worker", ""))
        if agent is not None and source_id:
            path = agent.hook_path(self.town_root)
            current = hookfile.read(path)
            if current is not None and current[1] == source_id:
                hookfile.clear(path)

    def delete_branch(self, item: dict) -> str:
        """Delete the merged branch if it still points at the merged commit; returns what happened."""
        branch, commit = item.get("branch", ""), item.get("commit", "")
        repo = self.home.repo
        if not branch:
            return "absent"
        ref = f"refs/heads/{branch}"
        holders = [w for w in gitops.worktrees(repo) if w.get("branch") == ref and "bare" not in w]
        if holders:
            head = holders[0].get("HEAD", "")
        else:
            head = gitops.rev_parse(ref, cwd=repo) or ""
            if not head:
                return "absent"
        if commit and head != commit:
            self.log(f"branch {branch} moved to {head[:12]} after submission; kept")
            return "kept"
        for holder in holders:  # the polecat's worktree: same commit, files and index untouched
            path = holder.get("worktree", "")
            if path and os.path.isdir(path):
                gitops.detach_head(path, head)
        proc = gitops.run(["update-ref", "-d", ref, head], cwd=repo, check=False)
        if proc.returncode == 0:
            return "deleted"
        self.log(f"branch {branch} could not be deleted: {proc.stderr.strip().splitlines()[0] if proc.stderr else ''}")
        return "kept"

    # ------------------------------------------------------------------- rework
    def close_rejected(self, item: dict, plan: dict) -> None:
        mr_issue = self.ledger.find(item["mr"])
        if mr_issue is None or mr_issue.get("status") == "closed":
            return
        reason = mrmod.CONFLICT if item.get("kind") == "conflict" else mrmod.REJECTED
        actor = item.get("rejected_by") or self.actor
        updates: dict[str, str | None] = {"close_reason": reason, "rejected_stage": item.get("stage") or None}
        if item.get("kind") == "conflict":
            updates["last_conflict_sha"] = plan.get("base") or None
        with self.ledger.transaction(actor) as tx:
            tx.update(item["mr"], description=mrmod.set_fields(str(mr_issue.get("description") or ""), updates))
            tx.add_comment(item["mr"], f"[refinery] {reason}: {item.get('summary', '')}")
            tx.close(item["mr"], reason)
            tx.emit("refinery.rejected", {"mr_id": item["mr"], "bead_id": item.get("source"), "kind": item.get("kind"),
                                          "stage": item.get("stage"), "files": item.get("files") or []})

    def _rehook(self, item: dict, target: str) -> None:
        source_ledger, _source = self.open_source(item.get("source") or "")
        try:
            item["hooked"] = notify.rehook(self.town_root, source_ledger, self.actor, item, target) \
                if source_ledger is not None else "skipped"
        finally:
            self.done_with(source_ledger)

    # --------------------------------------------------------------------- park
    def park(self, item: dict) -> None:
        mr_issue = self.ledger.find(item["mr"])
        if mr_issue is None or mr_issue.get("status") == "closed":
            return
        description = mrmod.set_fields(str(mr_issue.get("description") or ""), {
            "parked_stage": item.get("stage") or "", "parked_reason": _one_line(item.get("summary", "")),
            "parked_at": timefmt.now_str()})
        with self.ledger.transaction(self.actor) as tx:
            tx.update(item["mr"], description=description, status="open", assignee=None)
            tx.add_label(item["mr"], mrmod.PARKED_LABEL)
            tx.add_comment(item["mr"], f"[refinery] parked: stage {item.get('stage')} says NEEDS_HUMAN: "
                           f"{item.get('summary', '')}" + (f"\nEvidence: {item['evidence']}" if item.get("evidence")
                                                          else ""))
            tx.emit("refinery.parked", {"mr_id": item["mr"], "stage": item.get("stage"),
                                        "summary": item.get("summary", "")})

    # ----------------------------------------------------------------------- pr
    def record_pr(self, item: dict) -> None:
        mr_issue = self.ledger.find(item["mr"])
        if mr_issue is None or mr_issue.get("status") == "closed":
            return
        description = mrmod.set_fields(str(mr_issue.get("description") or ""), {
            "pr_url": item.get("url") or "", "pr_head": item["head"], "pr_opened_at": timefmt.now_str()})
        with self.ledger.transaction(self.actor) as tx:
            tx.update(item["mr"], description=description, status="open", assignee=None)
            tx.add_label(item["mr"], mrmod.PR_OPEN_LABEL)
            tx.add_comment(item["mr"], f"[refinery] pull request opened: {item.get('url') or '(no URL printed)'}")
            tx.emit("refinery.pr_opened", {"mr_id": item["mr"], "url": item.get("url"), "head": item["head"]})
        source_ledger, source = self.open_source(item.get("source") or "")
        try:
            if source_ledger is not None and source is not None:
                with source_ledger.transaction(self.actor) as tx:
                    tx.add_comment(source["id"], f"[refinery] pull request for MR {item['mr']}: "
                                                 f"{item.get('url') or ''}")
        finally:
            self.done_with(source_ledger)

    # -------------------------------------------------------------------- stale
    def close_stale(self, decision: StaleDecision, target_sha: str | None) -> None:
        """Close a stale request (and, when its change already landed, its source bead)."""
        item = decision.mr
        issue = self.ledger.find(item.id)
        if issue is None or issue.get("status") == "closed":
            return
        source_ledger, source = self.open_source(item.source_issue) if decision.close_source else (None, None)
        try:
            self._close_stale(decision, target_sha, issue, source_ledger, source)
        finally:
            self.done_with(source_ledger)

    def _close_stale(self, decision: StaleDecision, target_sha: str | None, issue: dict,
                     source_ledger: Ledger | None, source: dict | None) -> None:
        item = decision.mr
        comment = f"[refinery] change already in {item.target} (MR {item.id})"
        with self.ledger.transaction(self.actor) as tx:
            updates: dict[str, str | None] = {"close_reason": decision.close_reason}
            if decision.close_reason == mrmod.MERGED and target_sha:
                updates["merge_commit"] = target_sha
            tx.update(item.id, description=mrmod.set_fields(item.description, updates))
            tx.add_comment(item.id, f"[refinery] closed ({decision.close_reason}): {decision.detail}")
            tx.close(item.id, decision.close_reason)
            if source is not None and source_ledger is self.ledger:
                self._close_source_in(tx, source, comment)
            tx.emit("refinery.stale_closed", {"mr_id": item.id, "close_reason": decision.close_reason,
                                              "detail": decision.detail})
        if source is not None and source_ledger is not None and source_ledger is not self.ledger:
            self._close_source(source_ledger, source, comment)
        if source is not None:
            notify.convoys_after_close(self.town_root, item.source_issue, self.actor, self.log)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
