"""Test-spec beads: the acceptance criteria of a work bead, written and approved before sling.

**Id.** ``<prefix>-spec-<suffix>`` for work bead ``<prefix>-<suffix>`` (``ca-x7k`` →
``ca-spec-x7k``): the design's ``spec-…`` form, kept behind the work bead's own prefix so
that routes (``routes.jsonl`` matches the prefix up to the first ``-``) send it to the work
bead's ledger from anywhere in the town — the way ``hq-cv-…`` convoys and ``<p>-mol-…``
molecules live in their ledgers. ``spec-x7k`` is accepted as a short form by the commands.

**Links.** The work bead has a ``blocks`` dependency on its spec, so it is not ``ready``
until the spec is approved (closed). The spec points back with a ``validates`` dependency —
an association edge that does not affect readiness (a ``parent-child`` edge back would
close a readiness cycle with the ``blocks`` edge, which the ledger refuses) — and with the
``work_bead`` field of its data.

**Storage** (readable by people and tools alike):

* ``description``: one line saying what the bead is, then the spec as JSON in a fenced block
  tagged ``vermas-spec`` — the truth::

      {"version": 1, "work_bead": "ca-x7k", "threshold": "all",
       "criteria": [{"id": "AC-1", "description": "...", "verify_command": "...",
                     "expected_exit_code": 0, "timeout_seconds": 60, "objective": true,
                     "hint": "..."}],
       "requirements": {"functional": [...], "non_functional": [...], "constraints": [...], "examples": [...]},
       "approved_by": "overseer", "approved_at": "...", "approved_digest": "sha256:..."}

* ``acceptance_criteria``: the same criteria rendered as text (what ``bd show`` prints);
* ``status``: ``open`` = draft, ``closed`` = approved (close reason ``approved by <who>``).

**Approval** records who and when and a digest of the criteria and threshold; a spec whose
criteria no longer match its digest counts as *tampered* (verification says NEEDS_HUMAN).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from vermas.errors import ConflictError, DataError, NotFoundError, UsageError
from vermas.ledger import timefmt
from vermas.verify import criteria as crit
from vermas.verify.criteria import Criterion

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger, Transaction

SPEC_TYPE = "test-spec"
SPEC_LABEL = "gt:test-spec"
SPEC_FENCE = "vermas-spec"
LINK_TYPE = "validates"  # spec → work (non-blocking)
BLOCK_TYPE = "blocks"  # work → spec (the work waits for the approval)
SPEC_TYPES = ("task", "feature", "bug")  # work types that need a spec before sling (town/specgate.py)
VERSION = 1
_FENCE_RE = re.compile(r"^```" + SPEC_FENCE + r"[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def spec_id_for(work_id: str) -> str:
    """``ca-x7k`` → ``ca-spec-x7k`` (see the module docstring)."""
    prefix, sep, rest = work_id.partition("-")
    if not sep or not rest:
        return f"spec-{work_id}"
    return f"{prefix}-spec-{rest}"


def work_id_for(spec_id: str) -> str | None:
    """The work id a spec id was derived from (``ca-spec-x7k`` → ``ca-x7k``), if it has that form."""
    prefix, sep, rest = spec_id.partition("-spec-")
    return f"{prefix}-{rest}" if sep and prefix and rest else None


def is_spec_ref(ref: str) -> bool:
    return ref.startswith("spec-") or "-spec-" in ref


@dataclass
class Spec:
    """A test spec as stored in its bead."""

    id: str
    work_bead: str
    status: str = "open"
    title: str = ""
    threshold: str = crit.ALL
    criteria: list[Criterion] = field(default_factory=list)
    requirements: dict = field(default_factory=dict)
    approved_by: str = ""
    approved_at: str = ""
    approved_digest: str = ""

    @property
    def approved(self) -> bool:
        return self.status == "closed" and bool(self.approved_by)

    @property
    def state(self) -> str:
        """``approved``, ``draft`` or ``tampered`` (approved, but the criteria changed since)."""
        if not self.approved:
            return "draft"
        return "tampered" if self.approved_digest != self.digest() else "approved"

    def digest(self) -> str:
        payload = json.dumps({"threshold": self.threshold, "criteria": [c.to_dict() for c in self.criteria]},
                             sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid.upper():
                return c
        raise NotFoundError(f"{self.id} has no criterion {cid}",
                            hint=f"'vermas spec show {self.id}' lists them")

    def data(self) -> dict:
        out: dict = {"version": VERSION, "work_bead": self.work_bead, "threshold": self.threshold,
                     "criteria": [c.to_dict() for c in self.criteria]}
        if self.requirements:
            out["requirements"] = self.requirements
        for key in ("approved_by", "approved_at", "approved_digest"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "state": self.state,
                "approved": self.state == "approved", **self.data()}


# ------------------------------------------------------------------ reading
def parse_issue(issue: dict) -> Spec:
    """The spec held by a ``test-spec`` bead; :class:`DataError` naming the bead when malformed."""
    if issue.get("issue_type") != SPEC_TYPE:
        raise UsageError(f"{issue['id']} is a {issue.get('issue_type') or 'task'}, not a test spec",
                         hint="give a spec id (<prefix>-spec-…) or the work bead's id")
    text = str(issue.get("description") or "")
    match = _FENCE_RE.search(text)
    data: dict = {}
    if match:
        try:
            data = json.loads(match.group(1))
        except ValueError as exc:
            raise DataError(f"{issue['id']}: the ```{SPEC_FENCE} block is not valid JSON: {exc}",
                            hint=f"fix it with 'vermas update {issue['id']} --description …'") from None
        if not isinstance(data, dict):
            raise DataError(f"{issue['id']}: the ```{SPEC_FENCE} block must hold a JSON object")
    raw_criteria = data.get("criteria") or []
    if not isinstance(raw_criteria, list):
        raise DataError(f"{issue['id']}: 'criteria' must be a list")
    items = [Criterion.from_dict(c, f"{issue['id']} criteria[{i}]") for i, c in enumerate(raw_criteria)]
    seen: set[str] = set()
    for c in items:
        if c.id in seen:
            raise DataError(f"{issue['id']}: criterion {c.id} appears twice")
        seen.add(c.id)
    try:
        threshold = crit.parse_threshold(data.get("threshold", data.get("success_threshold", crit.ALL)))
    except UsageError as exc:
        raise DataError(f"{issue['id']}: {exc.message}") from None
    work = str(data.get("work_bead") or "") or _linked_work(issue) or (work_id_for(issue["id"]) or "")
    requirements = data.get("requirements") if isinstance(data.get("requirements"), dict) else {}
    return Spec(id=issue["id"], work_bead=work, status=str(issue.get("status") or "open"),
                title=str(issue.get("title") or ""), threshold=threshold, criteria=items,
                requirements=requirements, approved_by=str(data.get("approved_by") or ""),
                approved_at=str(data.get("approved_at") or ""),
                approved_digest=str(data.get("approved_digest") or ""))


def _linked_work(issue: dict) -> str:
    for dep in issue.get("dependencies") or ():
        if dep.get("type") == LINK_TYPE and dep.get("issue_id") == issue["id"]:
            return str(dep.get("depends_on_id") or "")
    return ""


def find_spec_id(ledger: Ledger, work: dict) -> str | None:
    """The spec of ``work``: a ``blocks`` dependency on a ``test-spec`` bead, else the derived id."""
    targets = [d.get("depends_on_id") for d in work.get("dependencies") or ()
               if d.get("type") == BLOCK_TYPE and d.get("issue_id") == work["id"]]
    for target in targets:
        if not target:
            continue
        issue = ledger.find(target)
        if issue is not None and issue.get("issue_type") == SPEC_TYPE:
            return issue["id"]
    derived = spec_id_for(work["id"])
    found = ledger.find(derived)
    return derived if found is not None and found.get("issue_type") == SPEC_TYPE else None


def load(ledger: Ledger, spec_id: str) -> Spec:
    return parse_issue(ledger.get(spec_id))


def for_work(ledger: Ledger, work_id: str) -> Spec | None:
    """The spec of a work bead, or None when it has none."""
    work = ledger.get(work_id)
    spec_id = find_spec_id(ledger, work)
    return load(ledger, spec_id) if spec_id else None


def resolve(ledger: Ledger, ref: str) -> Spec:
    """A spec from its id, its short form (``spec-x7k``) or its work bead's id; exit 3 when none."""
    if ref.startswith("spec-") and not ledger.exists(ref):
        candidate = f"{ledger.prefix}-{ref}"
        if ledger.exists(candidate):
            ref = candidate
    issue = ledger.get(ref)
    if issue.get("issue_type") == SPEC_TYPE:
        return parse_issue(issue)
    spec_id = find_spec_id(ledger, issue)
    if spec_id is None:
        raise NotFoundError(f"{issue['id']} has no test spec",
                            hint=f"create one: vermas spec create {issue['id']} (or draft one: vermas spec draft "
                                 f"{issue['id']})")
    return load(ledger, spec_id)


# ------------------------------------------------------------------ writing
def render_description(spec: Spec, work_title: str = "") -> str:
    about = f" ({work_title})" if work_title else ""
    return (f"Test spec for {spec.work_bead}{about}: the acceptance criteria the Inspector verifies before merge.\n"
            f"Edit it with 'vermas spec add-criteria|remove-criteria {spec.id}'; approve it with "
            f"'vermas spec approve {spec.id}'.\n\n"
            f"```{SPEC_FENCE}\n{json.dumps(spec.data(), indent=2, ensure_ascii=False)}\n```\n")


def render_text(spec: Spec) -> str:
    """The criteria as text (the bead's ``acceptance_criteria`` field, ``spec show``)."""
    n = len(spec.criteria)
    need = "all must pass" if spec.threshold == crit.ALL else f"at least {spec.threshold} must pass"
    lines = [f"Threshold: {need} ({n} criteri{'on' if n == 1 else 'a'})"]
    for c in spec.criteria:
        kind = "" if c.objective else " [subjective: the auditor decides]"
        lines.append(f"{c.id} {c.description}{kind}")
        if c.verify_command:
            lines.append(f"     $ {c.verify_command}")
            lines.append(f"     expect exit {c.expected_exit_code} within {c.timeout_seconds:g}s")
        if c.hint:
            lines.append(f"     if it fails: {c.hint}")
    return "\n".join(lines)


def _write(tx: Transaction, spec: Spec, work_title: str = "") -> dict:
    return tx.update(spec.id, description=render_description(spec, work_title), acceptance_criteria=render_text(spec))


def create(ledger: Ledger, actor: str, work_id: str, *, threshold: str = crit.ALL,
           requirements: dict | None = None) -> Spec:
    """Create the spec of ``work_id`` (draft) and make the work bead wait for it; exit 5 if it has one."""
    threshold = crit.parse_threshold(threshold)
    with ledger.transaction(actor) as tx:
        work = ledger.get(work_id)
        kind = work.get("issue_type") or "task"
        if kind == SPEC_TYPE or kind in ("message", "merge-request", "molecule", "convoy", "verification-result"):
            raise UsageError(f"{work['id']} is a {kind}: only work beads get a test spec")
        existing = find_spec_id(ledger, work)
        if existing:
            raise ConflictError(f"{work['id']} already has a test spec: {existing}",
                                hint=f"vermas spec show {existing}")
        spec = Spec(id=spec_id_for(work["id"]), work_bead=work["id"], threshold=threshold,
                    requirements=dict(requirements or {}))
        if ledger.exists(spec.id):
            raise ConflictError(f"{spec.id} already exists but is not a test spec of {work['id']}",
                                hint=f"'vermas show {spec.id}' shows what it is")
        title = f"Test spec: {work.get('title') or work['id']}"[:500]
        tx.create(title, description=render_description(spec, str(work.get("title") or "")), issue_type=SPEC_TYPE,
                  priority=int(work.get("priority") or 2), labels=[SPEC_LABEL], deps=[(LINK_TYPE, work["id"])],
                  issue_id=spec.id, fields={"acceptance_criteria": render_text(spec)})
        tx.add_dependency(work["id"], spec.id, BLOCK_TYPE)
        tx.emit("verify.spec_created", {"bead_id": work["id"], "spec_id": spec.id, "threshold": threshold})
        spec.title = title
    return spec


def _editable(ledger: Ledger, ref: str) -> tuple[Spec, dict]:
    spec = resolve(ledger, ref)
    if spec.status == "closed":
        raise ConflictError(f"{spec.id} is approved; approved criteria cannot change",
                            hint=f"reopen it first (the work bead waits again): vermas spec reopen {spec.id}")
    if spec.status == "tombstone":
        raise ConflictError(f"{spec.id} is deleted")
    work = ledger.find(spec.work_bead) or {}
    return spec, work


def add_criterion(ledger: Ledger, actor: str, ref: str, *, description: str, command: str = "",
                  expected: int = 0, timeout: float = crit.DEFAULT_TIMEOUT, objective: bool = True,
                  hint: str = "", cid: str | None = None) -> tuple[Spec, Criterion]:
    """Append a criterion (next ``AC-n`` unless ``cid``); exit 5 on an approved spec."""
    with ledger.transaction(actor) as tx:
        spec, work = _editable(ledger, ref)
        new_id = (cid or crit.next_id(spec.criteria)).upper()
        if any(c.id == new_id for c in spec.criteria):
            raise ConflictError(f"{spec.id} already has {new_id}", hint="leave the id out to get the next free one")
        criterion = crit.build(new_id, description, command, expected=expected, timeout=timeout,
                               objective=objective, hint=hint)
        spec.criteria.append(criterion)
        spec.criteria.sort(key=lambda c: c.number)
        _write(tx, spec, str(work.get("title") or ""))
        tx.emit("verify.criteria_added", {"bead_id": spec.work_bead, "spec_id": spec.id,
                                          "criterion": criterion.to_dict()})
    return spec, criterion


def remove_criterion(ledger: Ledger, actor: str, ref: str, cid: str) -> Spec:
    with ledger.transaction(actor) as tx:
        spec, work = _editable(ledger, ref)
        gone = spec.criterion(cid)
        spec.criteria = [c for c in spec.criteria if c.id != gone.id]
        _write(tx, spec, str(work.get("title") or ""))
        tx.emit("verify.criteria_removed", {"bead_id": spec.work_bead, "spec_id": spec.id, "criterion_id": gone.id})
    return spec


def update(ledger: Ledger, actor: str, ref: str, *, threshold: str | None = None,
           requirements: dict | None = None) -> Spec:
    """Change the threshold or the recorded requirements of a draft spec."""
    with ledger.transaction(actor) as tx:
        spec, work = _editable(ledger, ref)
        if threshold is not None:
            spec.threshold = crit.parse_threshold(threshold)
        if requirements is not None:
            spec.requirements = requirements
        _write(tx, spec, str(work.get("title") or ""))
        tx.emit("verify.spec_updated", {"bead_id": spec.work_bead, "spec_id": spec.id, "threshold": spec.threshold})
    return spec


def set_criteria(ledger: Ledger, actor: str, ref: str, new: list[Criterion], *, requirements: dict | None = None,
                 replace: bool = False, source: str = "") -> Spec:
    """Add (or with ``replace`` swap in) proposed criteria, renumbered after the existing ones."""
    with ledger.transaction(actor) as tx:
        spec, work = _editable(ledger, ref)
        kept = [] if replace else list(spec.criteria)
        for c in new:
            c.id = crit.next_id(kept)
            kept.append(c)
        spec.criteria = kept
        if requirements is not None:
            spec.requirements = requirements
        _write(tx, spec, str(work.get("title") or ""))
        tx.emit("verify.spec_drafted", {"bead_id": spec.work_bead, "spec_id": spec.id, "criteria": len(new),
                                        "replace": replace, "source": source})
    return spec


def approve(ledger: Ledger, actor: str, ref: str, *, note: str = "") -> Spec:
    """Approve (close) a draft spec with at least one criterion; records who, when and the digest."""
    with ledger.transaction(actor) as tx:
        spec = resolve(ledger, ref)
        if spec.status == "closed":
            raise ConflictError(f"{spec.id} is already approved" + (f" by {spec.approved_by}" if spec.approved_by
                                                                      else ""))
        if not spec.criteria:
            raise ConflictError(f"{spec.id} has no criteria: there is nothing to verify",
                                hint=f"vermas spec add-criteria {spec.id} --description … --verify …")
        work = ledger.find(spec.work_bead) or {}
        spec.approved_by, spec.approved_at = actor, timefmt.now_str()
        spec.approved_digest = spec.digest()
        _write(tx, spec, str(work.get("title") or ""))
        reason = f"approved by {actor}" + (f": {note}" if note else "")
        tx.close(spec.id, reason)
        spec.status = "closed"
        if work:
            objective = sum(c.objective for c in spec.criteria)
            tx.add_comment(work["id"], f"[spec] {spec.id} approved by {actor}: {len(spec.criteria)} criteria "
                                       f"({objective} objective), threshold {spec.threshold}. "
                                       f"'vermas spec show {work['id']}' lists them.")
        tx.emit("verify.spec_approved", {"bead_id": spec.work_bead, "spec_id": spec.id, "by": actor,
                                         "criteria": len(spec.criteria), "digest": spec.approved_digest,
                                         "note": note})
    return spec


def reopen(ledger: Ledger, actor: str, ref: str, *, reason: str = "") -> Spec:
    """Take an approval back (the work bead waits again) so the criteria can change."""
    with ledger.transaction(actor) as tx:
        spec = resolve(ledger, ref)
        if spec.status != "closed":
            raise ConflictError(f"{spec.id} is not approved (status {spec.status})")
        work = ledger.find(spec.work_bead) or {}
        tx.reopen(spec.id)
        previous = spec.approved_by
        spec.approved_by = spec.approved_at = spec.approved_digest = ""
        spec.status = "open"
        _write(tx, spec, str(work.get("title") or ""))
        tx.add_comment(spec.id, f"[spec] approval (by {previous or '?'}) withdrawn by {actor}"
                                + (f": {reason}" if reason else ""))
        tx.emit("verify.spec_reopened", {"bead_id": spec.work_bead, "spec_id": spec.id, "by": actor,
                                         "reason": reason})
    return spec
