from __future__ import annotations

import os

import pytest

from vermas.errors import NotFoundError, UsageError
from vermas.ledger import events
from vermas.town import mail, mailpeek, protocol
from vermas.town.identity import Agent


@pytest.fixture
def polecats(town_root, rig):
    for name in ("nux", "slit"):
        os.makedirs(os.path.join(town_root, rig, "polecats", name))
    os.makedirs(os.path.join(town_root, rig, "crew", "ann"))
    return ["nux", "slit"]


def test_send_stores_gastown_labels_and_identity(town_root, polecats):
    [msg] = mail.send(town_root, "mayor", "app/polecats/nux", "Do the thing", "body\nline 2",
                      priority="high", msg_type="task")
    with mail.town_ledger(town_root) as ledger:
        issue = ledger.get(msg["id"])
    assert issue["issue_type"] == "message"
    assert issue["assignee"] == "app/nux"  # Gas Town's mail identity
    assert issue["priority"] == 1
    assert issue["status"] == "open"
    labels = issue["labels"]
    assert "gt:message" in labels and "from:mayor" in labels and "msg-type:task" in labels
    assert any(lab.startswith("thread:thread-") for lab in labels)
    assert msg["to"] == "app/polecats/nux" and msg["from"] == "mayor" and msg["body"] == "body\nline 2"
    logged = [e for e in events.read(os.path.join(town_root, ".beads")) if e["event_type"] == "mail.sent"]
    assert logged and logged[-1]["data"]["message_id"] == msg["id"]


def test_unknown_recipients_exit_3(town_root, polecats):
    with pytest.raises(NotFoundError):
        mail.send(town_root, "mayor", "app/polecats/ghost", "x")
    with pytest.raises(NotFoundError):
        mail.send(town_root, "mayor", "nope/witness", "x")
    with pytest.raises(NotFoundError):
        mail.send(town_root, "mayor", "app/crew/*z*", "x")
    with pytest.raises(UsageError):
        mail.send(town_root, "mayor", "not an address", "x")
    with pytest.raises(UsageError):
        mail.send(town_root, "mayor", "mayor", "   ")


def test_pattern_fans_out_one_message_each(town_root, polecats):
    sent = mail.send(town_root, "app/witness", "app/polecats/*", "Stand by")
    assert sorted(m["to"] for m in sent) == ["app/polecats/nux", "app/polecats/slit"]
    assert [m["to"] for m in mail.send(town_root, "mayor", "*/witness", "ping")] == ["app/witness"]


def test_inbox_read_archive_reply_thread(town_root, polecats):
    nux = Agent("polecat", "app", "nux")
    [first] = mail.send(town_root, "mayor", "app/polecats/nux", "Question", "why?")
    mail.send(town_root, "app/witness", "app/polecats/nux", "Urgent thing", priority="urgent")
    inbox = mail.inbox(town_root, nux)
    assert [m["subject"] for m in inbox] == ["Urgent thing", "Question"]
    assert [m["subject"] for m in mailpeek.unread(town_root, nux)] == ["Urgent thing", "Question"]
    [read] = mail.mark_read(town_root, [first["id"]], "app/polecats/nux")
    assert read["read"] is True
    assert [m["subject"] for m in mail.inbox(town_root, nux, unread_only=True)] == ["Urgent thing"]
    assert [m["subject"] for m in mailpeek.unread(town_root, nux)] == ["Urgent thing"]
    [answer] = mail.reply(town_root, "app/polecats/nux", first["id"], "because")
    assert answer["to"] == "mayor" and answer["subject"] == "Re: Question" and answer["reply_to"] == first["id"]
    assert answer["thread_id"] == first["thread_id"]
    assert [m["id"] for m in mail.thread(town_root, first["id"])] == [first["id"], answer["id"]]
    assert [m["subject"] for m in mail.inbox(town_root, Agent("mayor"))] == ["Re: Question"]
    mail.mark_read(town_root, [first["id"]], "app/polecats/nux", archive=True)
    assert "Question" not in [m["subject"] for m in mail.inbox(town_root, nux)]
    assert "Question" in [m["subject"] for m in mail.inbox(town_root, nux, include_archived=True)]
    with pytest.raises(NotFoundError):
        mail.get(town_root, "hq-nope")


def test_protocol_mail_is_labelled_and_parsed(town_root, polecats):
    rec = protocol.PolecatDone(polecat="nux", issue="ap-1", mr="ap-2", branch="polecat/nux/ap-1", rig="app")
    mail.send_protocol(town_root, "app/polecats/nux", "app/witness", rec)
    found = mail.protocol_messages(town_root, "POLECAT_DONE", to=Agent("witness", "app"))
    assert len(found) == 1
    message, parsed = found[0]
    assert message["protocol"] == "POLECAT_DONE"
    assert parsed == rec
    assert mail.protocol_messages(town_root, "POLECAT_DONE", to=Agent("refinery", "app")) == []
