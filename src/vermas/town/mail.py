"""Mail between agents, stored as message beads in the town ledger (Gas Town's representation).

A message is an issue of type ``message``: title = subject, description = body, assignee =
the recipient's mail identity (``mayor/``, ``<rig>/witness``, ``<rig>/<name>``), priority
urgent 0 / high 1 / normal 2 / low 3, status open = unread and closed = read, labels
``gt:message``, ``from:<sender>``, ``msg-type:<type>``, ``thread:<id>``, ``reply-to:<id>``,
``cc:<identity>``, plus ours: ``protocol:<TYPE>`` for protocol messages and ``archived``.
Sending to a pattern writes one message per recipient. Every change emits an event
(``mail.sent``, ``mail.read``, ``mail.archived``) in the town ledger's ``events.jsonl``.
"""

from __future__ import annotations

import os
import secrets

from vermas.errors import NotFoundError, UsageError
from vermas.ledger import queries
from vermas.ledger.store import Ledger
from vermas.town import addresses, protocol
from vermas.town.identity import Agent

PRIORITIES = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
PRIORITY_NAMES = {0: "urgent", 1: "high", 2: "normal", 3: "low", 4: "low"}
MESSAGE_TYPES = ("notification", "task", "reply", "escalation", "scavenge", "protocol")
LABEL_MESSAGE = "gt:message"
LABEL_ARCHIVED = "archived"


def town_ledger(town_root: str) -> Ledger:
    return Ledger.open(os.path.join(town_root, ".beads"))


def priority_value(text: str | int) -> int:
    """``urgent``/``high``/``normal``/``low`` or 0-4 → the bead priority."""
    if isinstance(text, int):
        value = text
    elif str(text).strip().lower() in PRIORITIES:
        return PRIORITIES[str(text).strip().lower()]
    else:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise UsageError(f"invalid priority {text!r}", hint="use urgent, high, normal, low or 0-4") from None
    if not 0 <= value <= 4:
        raise UsageError(f"invalid priority {text!r}", hint="use urgent, high, normal, low or 0-4")
    return value


def new_thread_id() -> str:
    return "thread-" + secrets.token_hex(6)


def send(town_root: str, sender: str, to: str | list[str], subject: str, body: str = "", *,
         msg_type: str = "notification", priority: str | int = "normal", reply_to: str | None = None,
         thread_id: str | None = None, cc: tuple[str, ...] | list[str] = (),
         ledger: Ledger | None = None) -> list[dict]:
    """Send one message to every recipient ``to`` names; returns the stored messages.

    Raises NotFoundError (exit 3) for an unknown recipient or reply-to message, UsageError
    for a malformed address, empty subject or bad priority/type.
    """
    if not subject or not subject.strip():
        raise UsageError("a message needs a subject", hint="pass -s/--subject")
    if msg_type not in MESSAGE_TYPES:
        raise UsageError(f"unknown message type {msg_type!r}", hint="types: " + ", ".join(MESSAGE_TYPES))
    level = priority_value(priority)
    targets = [to] if isinstance(to, str) else list(to)
    recipients: list[Agent] = []
    for target in targets:
        for agent in addresses.resolve(town_root, target):
            if agent not in recipients:
                recipients.append(agent)
    cc_agents = [a for target in cc for a in addresses.resolve(town_root, target)]
    own = ledger is None
    ledger = ledger or town_ledger(town_root)
    try:
        if reply_to:
            original = _find_message(ledger, reply_to)
            thread_id = thread_id or _label_value(original, "thread:") or original["id"]
            reply_to = original["id"]
        thread_id = thread_id or new_thread_id()
        kind = protocol.message_type(subject)
        labels = [LABEL_MESSAGE, f"from:{sender}", f"msg-type:{msg_type}", f"thread:{thread_id}"]
        if reply_to:
            labels.append(f"reply-to:{reply_to}")
        labels.extend(f"cc:{a.mail_identity}" for a in cc_agents)
        if kind:
            labels.append(f"protocol:{kind}")
        sent: list[dict] = []
        with ledger.transaction(sender) as tx:
            for agent in recipients:
                issue = tx.create(subject.strip(), description=body, issue_type="message", priority=level,
                                  assignee=agent.mail_identity, labels=labels)
                tx.emit("mail.sent", {"message_id": issue["id"], "from": sender, "to": agent.address,
                                      "subject": subject.strip(), "message_type": msg_type,
                                      "protocol": kind, "thread_id": thread_id})
                sent.append(issue)
        return [to_message(town_root, issue) for issue in sent]
    finally:
        if own:
            ledger.close()


def _find_message(ledger: Ledger, message_id: str) -> dict:
    try:
        issue = ledger.get(message_id)
    except NotFoundError:
        raise NotFoundError(f"no message {message_id!r} in {ledger.issues_path}",
                            hint="'vermas mail inbox' lists message ids") from None
    if issue.get("issue_type") != "message":
        raise NotFoundError(f"{issue['id']} is not a message (type {issue.get('issue_type')})",
                            hint="'vermas mail inbox' lists message ids")
    return issue


def _label_value(issue: dict, prefix: str) -> str | None:
    for label in issue.get("labels") or ():
        if label.startswith(prefix):
            return label[len(prefix):]
    return None


def to_message(town_root: str, issue: dict) -> dict:
    """The mail view of a message bead."""
    labels = issue.get("labels") or []
    sender = _label_value(issue, "from:") or issue.get("created_by") or ""
    return {
        "id": issue["id"],
        "from": addresses.from_identity(town_root, sender),
        "to": addresses.from_identity(town_root, issue.get("assignee") or ""),
        "subject": issue.get("title", ""),
        "body": issue.get("description", ""),
        "timestamp": issue.get("created_at", ""),
        "read": issue.get("status") == "closed",
        "archived": LABEL_ARCHIVED in labels,
        "priority": PRIORITY_NAMES.get(int(issue.get("priority", 2)), "normal"),
        "type": _label_value(issue, "msg-type:") or "notification",
        "thread_id": _label_value(issue, "thread:") or "",
        "reply_to": _label_value(issue, "reply-to:") or "",
        "cc": [addresses.from_identity(town_root, lab[3:]) for lab in labels if lab.startswith("cc:")],
        "protocol": protocol.message_type(issue.get("title", "")),
    }


def inbox(town_root: str, agent: Agent, *, unread_only: bool = False, include_archived: bool = False,
          ledger: Ledger | None = None) -> list[dict]:
    """Messages addressed to ``agent`` (or cc'ing it): unread first, then by priority, newest first."""
    own = ledger is None
    ledger = ledger or town_ledger(town_root)
    try:
        conn = ledger.conn
        found: dict[str, dict] = {}
        statuses = ("open",) if unread_only else ("open", "closed")
        for identity in addresses.identity_variants(agent):
            for issue in queries.list_issues(conn, status=statuses, issue_type=("message",), assignee=identity,
                                             include_ephemeral=True):
                found[issue["id"]] = issue
            for issue in queries.list_issues(conn, status=statuses, issue_type=("message",),
                                             labels=(f"cc:{identity}",), include_ephemeral=True):
                found[issue["id"]] = issue
    finally:
        if own:
            ledger.close()
    messages = [to_message(town_root, i) for i in found.values()]
    if not include_archived:
        messages = [m for m in messages if not m["archived"]]
    messages.sort(key=lambda m: m["timestamp"], reverse=True)
    messages.sort(key=lambda m: (m["read"], PRIORITIES.get(m["priority"], 2)))
    return messages


def get(town_root: str, message_id: str, *, ledger: Ledger | None = None) -> dict:
    own = ledger is None
    ledger = ledger or town_ledger(town_root)
    try:
        return to_message(town_root, _find_message(ledger, message_id))
    finally:
        if own:
            ledger.close()


def mark_read(town_root: str, message_ids: list[str], reader: str, *, archive: bool = False,
              ledger: Ledger | None = None) -> list[dict]:
    """Close messages (read); with ``archive`` also label them ``archived``. Returns them."""
    own = ledger is None
    ledger = ledger or town_ledger(town_root)
    try:
        out = []
        with ledger.transaction(reader) as tx:
            for message_id in message_ids:
                issue = _find_message(ledger, message_id)
                if issue.get("status") != "closed":
                    issue = tx.close(issue["id"], "read")
                    tx.emit("mail.read", {"message_id": issue["id"], "reader": reader})
                if archive and LABEL_ARCHIVED not in (issue.get("labels") or []):
                    issue = tx.add_label(issue["id"], LABEL_ARCHIVED)
                    tx.emit("mail.archived", {"message_id": issue["id"], "by": reader})
                out.append(issue)
        return [to_message(town_root, i) for i in out]
    finally:
        if own:
            ledger.close()


def mark_unread(town_root: str, message_id: str, actor: str) -> dict:
    with town_ledger(town_root) as ledger:
        issue = _find_message(ledger, message_id)
        with ledger.transaction(actor) as tx:
            if issue.get("status") == "closed":
                issue = tx.reopen(issue["id"], "marked unread")
            if LABEL_ARCHIVED in (issue.get("labels") or []):
                issue = tx.remove_label(issue["id"], LABEL_ARCHIVED)
        return to_message(town_root, issue)


def reply(town_root: str, sender: str, message_id: str, body: str, *, subject: str | None = None,
          priority: str | int = "normal") -> list[dict]:
    """Answer a message: to its sender, same thread, ``reply-to`` the original."""
    with town_ledger(town_root) as ledger:
        original = to_message(town_root, _find_message(ledger, message_id))
        if not original["from"]:
            raise NotFoundError(f"message {message_id} has no sender to reply to")
        title = subject or (original["subject"] if original["subject"].lower().startswith("re:")
                            else "Re: " + original["subject"])
        return send(town_root, sender, original["from"], title, body, msg_type="reply", priority=priority,
                    reply_to=original["id"], thread_id=original["thread_id"] or None, ledger=ledger)


def thread(town_root: str, thread_or_message: str) -> list[dict]:
    """Every message of a thread (given its id or any message's id), oldest first."""
    with town_ledger(town_root) as ledger:
        thread_id = thread_or_message
        if not thread_or_message.startswith("thread-"):
            message = _find_message(ledger, thread_or_message)
            thread_id = _label_value(message, "thread:") or message["id"]
        issues = queries.list_issues(ledger.conn, issue_type=("message",), labels=(f"thread:{thread_id}",),
                                     include_ephemeral=True, status=("open", "closed"))
        if not issues and not thread_or_message.startswith("thread-"):
            issues = [_find_message(ledger, thread_or_message)]
    if not issues:
        raise NotFoundError(f"no messages in thread {thread_id!r}", hint="'vermas mail inbox' shows thread ids")
    messages = [to_message(town_root, i) for i in issues]
    messages.sort(key=lambda m: (m["timestamp"], m["id"]))
    return messages


def send_protocol(town_root: str, sender: str, to: str, record: protocol.ProtocolMessage, *,
                  priority: str | int = "normal", ledger: Ledger | None = None) -> list[dict]:
    """Send a protocol record (``POLECAT_DONE``, ``MERGED``, …) as mail."""
    msg_type = "escalation" if record.TYPE == "ESCALATION" else "notification"
    return send(town_root, sender, to, record.subject(), record.body(), msg_type=msg_type, priority=priority,
                ledger=ledger)


def protocol_messages(town_root: str, kind: str, *, to: Agent | None = None, unread_only: bool = True,
                      ledger: Ledger | None = None) -> list[tuple[dict, protocol.ProtocolMessage]]:
    """Protocol messages of one type (oldest first) with their parsed records; for the witness/refinery."""
    own = ledger is None
    ledger = ledger or town_ledger(town_root)
    try:
        statuses = ("open",) if unread_only else ("open", "closed")
        issues = queries.list_issues(ledger.conn, status=statuses, issue_type=("message",),
                                     labels=(f"protocol:{kind}",), include_ephemeral=True, order="created")
    finally:
        if own:
            ledger.close()
    if to is not None:
        wanted = set(addresses.identity_variants(to))
        issues = [i for i in issues if i.get("assignee") in wanted]
    out = []
    for issue in reversed(issues):
        record = protocol.parse(issue.get("title", ""), issue.get("description", ""))
        if record is not None:
            out.append((to_message(town_root, issue), record))
    return out
