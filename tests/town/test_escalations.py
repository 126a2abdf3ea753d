"""Escalations: a bead in the town ledger, routed to the mayor for medium and above."""

from vermas.town import escalations, mail
from vermas.town.identity import parse_address


def test_escalate_creates_bead_and_mails_mayor_from_medium(cli, tmp_path):
    town = str(tmp_path / "town")
    assert cli("install", town).exit_code == 0
    low = cli("--town", town, "escalate", "-s", "low", "disk at 80%", "--json")
    assert low.exit_code == 0, low.stderr
    assert low.json()["mailed"] == []
    high = cli("--town", town, "escalate", "-s", "high", "refinery cannot push", "-m", "protected branch",
               "--issue", "hq-abc", "--json")
    assert high.exit_code == 0, high.stderr
    bead = high.json()
    assert "severity:high" in bead["labels"] and "gt:escalation" in bead["labels"]
    assert bead["priority"] == 1 and bead["mailed"] == ["mayor"]
    inbox = mail.inbox(town, parse_address("mayor"))
    assert [m["subject"] for m in inbox] == ["ESCALATION: refinery cannot push"]
    listed = cli("--town", town, "escalate", "list", "--json").json()
    assert [e["severity"] for e in listed] == ["high", "low"]
    assert listed[0]["related_bead"] == "hq-abc"


def test_ack_close_and_bad_input(cli, tmp_path):
    town = str(tmp_path / "town")
    cli("install", town)
    created = cli("--town", town, "escalate", "stuck polecat", "--json").json()
    acked = cli("--town", town, "escalate", "ack", created["id"], "--json")
    assert acked.exit_code == 0 and acked.json()["acked_by"]
    closed = cli("--town", town, "escalate", "close", created["id"], "--reason", "restarted", "--json")
    assert closed.exit_code == 0 and closed.json()["status"] == "closed"
    assert cli("--town", town, "escalate", "list", "--json").json() == []
    assert cli("--town", town, "escalate", "-s", "urgent", "x").exit_code == 2
    assert cli("--town", town, "escalate", "ack", "hq-nope").exit_code == 3
    assert escalations.SEVERITIES[-1] == "critical"
