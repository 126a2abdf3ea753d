"""Protocol messages: the mail the work loop runs on, as typed records.

Wire format (Gas Town's): subject ``TYPE <arg>`` (or ``TYPE: <arg>``), body ``Key: value``
lines, a blank line, then free text. :func:`parse` turns a subject + body into a record;
``record.subject()`` / ``record.body()`` produce them. Unknown keys are kept in ``extra``.

============================  ==========================  =====================================
type                          route                       fields
============================  ==========================  =====================================
``POLECAT_DONE <name>``       polecat → witness           Exit, Issue, MR, Branch, Rig, Commit
``MERGE_READY <polecat>``     witness → refinery          Branch, Issue, Polecat, Rig, MR, Verified
``MERGED <polecat>``          refinery → witness          Branch, Issue, Polecat, Rig, Target, MR, Merged-At,
                                                          Merge-Commit
``MERGE_FAILED <polecat>``    refinery → witness          … Failed-At, Failure-Type, Error
``REWORK_REQUEST <polecat>``  refinery → witness/polecat  Branch, Issue, Polecat, Rig, Target, MR, Requested-At,
                                                          Conflict-Files, Failed-Criteria; text = required fixes
``HELP: <summary>``           any → witness/mayor         Agent, Issue, Problem, Tried
``🤝 HANDOFF: <summary>``     self → self                 Agent, Issue, Molecule; text = notes
``ESCALATION: <summary>``     any → deacon/mayor          Severity, Source, Issue, Agent, Reason
``SLOT_OPEN: <rig>/<name>``   witness → mayor             Rig, Polecat, Exit, Issue
``SPAWN_BLOCKED <bead>``      witness → mayor             Bead, Polecat, Previous Status, Respawns, Reason
============================  ==========================  =====================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from vermas.town.fields import format_fields, parse_fields

HANDOFF_MARK = "🤝"


@dataclass
class ProtocolMessage:
    """Base: ``TYPE`` (subject keyword), ``ARG`` (attribute shown after it), ``FIELDS`` (attr → Key)."""

    TYPE: ClassVar[str] = ""
    ARG: ClassVar[str] = ""
    COLON: ClassVar[bool] = False  # subject written as "TYPE: arg"
    FIELDS: ClassVar[dict[str, str]] = {}
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def subject(self) -> str:
        arg = str(getattr(self, self.ARG, "") or "") if self.ARG else ""
        sep = ": " if self.COLON else " "
        prefix = f"{HANDOFF_MARK} " if self.TYPE == "HANDOFF" else ""
        return f"{prefix}{self.TYPE}{sep}{arg}" if arg else f"{prefix}{self.TYPE}"

    def body(self) -> str:
        values = {key: getattr(self, attr) for attr, key in self.FIELDS.items()}
        values.update(self.extra)
        block = format_fields(values)
        notes = (self.notes or "").strip("\n")
        if block and notes:
            return f"{block}\n\n{notes}"
        return block or notes

    def as_dict(self) -> dict:
        data = {"type": self.TYPE}
        data.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        return data


@dataclass
class PolecatDone(ProtocolMessage):
    TYPE: ClassVar[str] = "POLECAT_DONE"
    ARG: ClassVar[str] = "polecat"
    FIELDS: ClassVar[dict[str, str]] = {"exit": "Exit", "issue": "Issue", "mr": "MR", "branch": "Branch",
                                        "rig": "Rig", "commit": "Commit", "worker": "Worker"}
    polecat: str = ""
    exit: str = "COMPLETED"
    issue: str = ""
    mr: str = ""
    branch: str = ""
    rig: str = ""
    commit: str = ""
    worker: str = ""


@dataclass
class MergeReady(ProtocolMessage):
    TYPE: ClassVar[str] = "MERGE_READY"
    ARG: ClassVar[str] = "polecat"
    FIELDS: ClassVar[dict[str, str]] = {"branch": "Branch", "issue": "Issue", "polecat": "Polecat", "rig": "Rig",
                                        "mr": "MR", "verified": "Verified"}
    polecat: str = ""
    branch: str = ""
    issue: str = ""
    rig: str = ""
    mr: str = ""
    verified: str = ""


@dataclass
class Merged(ProtocolMessage):
    TYPE: ClassVar[str] = "MERGED"
    ARG: ClassVar[str] = "polecat"
    FIELDS: ClassVar[dict[str, str]] = {"branch": "Branch", "issue": "Issue", "polecat": "Polecat", "rig": "Rig",
                                        "target": "Target", "mr": "MR", "merged_at": "Merged-At",
                                        "merge_commit": "Merge-Commit"}
    polecat: str = ""
    branch: str = ""
    issue: str = ""
    rig: str = ""
    target: str = ""
    mr: str = ""
    merged_at: str = ""
    merge_commit: str = ""


@dataclass
class MergeFailed(ProtocolMessage):
    TYPE: ClassVar[str] = "MERGE_FAILED"
    ARG: ClassVar[str] = "polecat"
    FIELDS: ClassVar[dict[str, str]] = {"branch": "Branch", "issue": "Issue", "polecat": "Polecat", "rig": "Rig",
                                        "target": "Target", "mr": "MR", "failed_at": "Failed-At",
                                        "failure_type": "Failure-Type", "error": "Error"}
    polecat: str = ""
    branch: str = ""
    issue: str = ""
    rig: str = ""
    target: str = ""
    mr: str = ""
    failed_at: str = ""
    failure_type: str = ""
    error: str = ""


@dataclass
class ReworkRequest(ProtocolMessage):
    TYPE: ClassVar[str] = "REWORK_REQUEST"
    ARG: ClassVar[str] = "polecat"
    FIELDS: ClassVar[dict[str, str]] = {"branch": "Branch", "issue": "Issue", "polecat": "Polecat", "rig": "Rig",
                                        "target": "Target", "mr": "MR", "requested_at": "Requested-At",
                                        "conflict_files": "Conflict-Files", "failed_criteria": "Failed-Criteria"}
    polecat: str = ""
    branch: str = ""
    issue: str = ""
    rig: str = ""
    target: str = ""
    mr: str = ""
    requested_at: str = ""
    conflict_files: str = ""
    failed_criteria: str = ""


@dataclass
class Help(ProtocolMessage):
    TYPE: ClassVar[str] = "HELP"
    ARG: ClassVar[str] = "summary"
    COLON: ClassVar[bool] = True
    FIELDS: ClassVar[dict[str, str]] = {"agent": "Agent", "issue": "Issue", "problem": "Problem", "tried": "Tried"}
    summary: str = ""
    agent: str = ""
    issue: str = ""
    problem: str = ""
    tried: str = ""


@dataclass
class Handoff(ProtocolMessage):
    TYPE: ClassVar[str] = "HANDOFF"
    ARG: ClassVar[str] = "summary"
    COLON: ClassVar[bool] = True
    FIELDS: ClassVar[dict[str, str]] = {"agent": "Agent", "issue": "Issue", "molecule": "Molecule"}
    summary: str = ""
    agent: str = ""
    issue: str = ""
    molecule: str = ""


@dataclass
class Escalation(ProtocolMessage):
    TYPE: ClassVar[str] = "ESCALATION"
    ARG: ClassVar[str] = "summary"
    COLON: ClassVar[bool] = True
    FIELDS: ClassVar[dict[str, str]] = {"severity": "Severity", "source": "Source", "issue": "Issue",
                                        "agent": "Agent", "reason": "Reason"}
    summary: str = ""
    severity: str = "medium"
    source: str = ""
    issue: str = ""
    agent: str = ""
    reason: str = ""


@dataclass
class SlotOpen(ProtocolMessage):
    TYPE: ClassVar[str] = "SLOT_OPEN"
    ARG: ClassVar[str] = "polecat"
    COLON: ClassVar[bool] = True
    FIELDS: ClassVar[dict[str, str]] = {"rig": "Rig", "polecat": "Polecat", "exit": "Exit", "issue": "Issue"}
    polecat: str = ""
    rig: str = ""
    exit: str = ""
    issue: str = ""

    def subject(self) -> str:
        who = f"{self.rig}/{self.polecat}" if self.rig else self.polecat
        return f"SLOT_OPEN: {who} completed (exit={self.exit or 'COMPLETED'})"


@dataclass
class SpawnBlocked(ProtocolMessage):
    TYPE: ClassVar[str] = "SPAWN_BLOCKED"
    ARG: ClassVar[str] = "bead"
    FIELDS: ClassVar[dict[str, str]] = {"bead": "Bead", "polecat": "Polecat", "previous_status": "Previous Status",
                                        "respawns": "Respawns", "reason": "Reason"}
    bead: str = ""
    polecat: str = ""
    previous_status: str = ""
    respawns: str = ""
    reason: str = ""


TYPES: dict[str, type[ProtocolMessage]] = {
    cls.TYPE: cls for cls in (PolecatDone, MergeReady, Merged, MergeFailed, ReworkRequest, Help, Handoff,
                              Escalation, SlotOpen, SpawnBlocked)
}


def message_type(subject: str) -> str | None:
    """The protocol type a subject announces (``POLECAT_DONE nux`` → ``POLECAT_DONE``), else None."""
    text = (subject or "").strip()
    if text.startswith(HANDOFF_MARK):
        text = text[len(HANDOFF_MARK):].strip()
    if text.startswith("[ESCALATION]"):
        return "ESCALATION"
    word = text.split(None, 1)[0] if text else ""
    word = word.rstrip(":")
    return word if word in TYPES else None


def parse(subject: str, body: str) -> ProtocolMessage | None:
    """The typed record of a protocol message, or None when the subject is not one."""
    kind = message_type(subject)
    if kind is None:
        return None
    cls = TYPES[kind]
    text = subject.strip()
    if text.startswith(HANDOFF_MARK):
        text = text[len(HANDOFF_MARK):].strip()
    if text.startswith("[ESCALATION]"):
        arg = text[len("[ESCALATION]"):].strip()
    else:
        arg = text[len(kind):].lstrip(":").strip()
    fields, rest = parse_fields(body or "")
    by_key = {key.lower(): attr for attr, key in cls.FIELDS.items()}
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for key, value in fields.items():
        attr = by_key.get(key.lower()) or by_key.get(key.lower().replace("_", "-"))
        if attr:
            values[attr] = value
        else:
            extra[key] = value
    if cls is PolecatDone and " exit=" in arg:  # nudge form: "POLECAT_DONE nux exit=COMPLETED"
        arg, _sep, exit_value = arg.partition(" exit=")
        values.setdefault("exit", exit_value.strip())
    if cls is SlotOpen and arg:  # "SLOT_OPEN: app/nux completed (exit=COMPLETED)"
        who = arg.split()[0]
        if "/" in who:
            values.setdefault("rig", who.split("/", 1)[0])
            arg = who.rsplit("/", 1)[-1]
        else:
            arg = who
        if "(exit=" in subject:
            values.setdefault("exit", subject.split("(exit=", 1)[1].rstrip(") "))
    if cls is SpawnBlocked and arg:
        arg = arg.split()[0]
    if cls.ARG and arg:
        values.setdefault(cls.ARG, arg)
    record = cls(**values)
    record.notes = rest
    record.extra = extra
    return record


def parse_body_fields(body: str) -> dict[str, str]:
    """Just the ``Key: value`` block of a body."""
    return parse_fields(body or "")[0]
