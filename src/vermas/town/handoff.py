"""Handoff: notes from one session of an agent to its next one.

A ``🤝 HANDOFF: <summary>`` message (priority high) from the agent to itself, with
``Agent:``, ``Issue:`` and ``Molecule:`` fields and the notes as free text. When the hook is
empty the message goes on it (``mail:<id>``); hooked work stays on the hook and the notes
ride along (``vermas prime`` shows unread handoffs first). ``cycle`` replaces the session
with a fresh one (a detached helper does it, since a session cannot restart itself).
"""

from __future__ import annotations

import os
import subprocess
import sys

from vermas.errors import UsageError
from vermas.town import hookread, mail, protocol, work
from vermas.town.identity import Agent
from vermas.town.layout import Town


def handoff(town: Town, agent: Agent, notes: str, *, subject: str | None = None, cycle: bool = False,
            environ: dict | None = None) -> dict:
    if not notes.strip():
        raise UsageError("a handoff needs notes", hint='vermas handoff -m "what is done, what is next"')
    if cycle and agent.role != "polecat":
        raise UsageError(f"--cycle restarts polecat sessions; {agent.address} is a {agent.role}",
                         hint="stop and start the session yourself (e.g. 'vermas mayor stop && vermas mayor start')")
    info = hookread.read(town.root, agent)
    bead = info.get("bead")
    molecule = (info.get("molecule") or {}).get("id", "")
    summary = (subject or notes.strip().splitlines()[0])[:120]
    record = protocol.Handoff(summary=summary, agent=agent.address, issue=bead["id"] if bead else "",
                              molecule=molecule, notes=notes.strip())
    [message] = mail.send(town.root, agent.address, agent.address, record.subject(), record.body(),
                          msg_type="notification", priority="high")
    attached = False
    if bead is None:
        work.attach_mail(town.root, agent, message["id"], actor=agent.address)
        attached = True
    work.emit(town.beads_dir, "agent.handoff", agent.address, {"agent": agent.address, "mail": message["id"],
                                                               "bead_id": bead["id"] if bead else None,
                                                               "cycle": cycle})
    pid = _spawn_cycle(town, agent, environ) if cycle else None
    return {"agent": agent.address, "mail": message["id"], "attached": attached,
            "hooked": bead["id"] if bead else None, "cycle_pid": pid}


def _spawn_cycle(town: Town, agent: Agent, environ: dict | None) -> int:
    env = dict(os.environ if environ is None else environ)
    for var in ("BD_ACTOR", "GT_ROLE", "VERMAS_SESSION", "TMUX", "TMUX_PANE", "BEADS_DIR"):
        env.pop(var, None)
    env["VERMAS_TOWN"] = town.root
    log_dir = os.path.join(town.rig(str(agent.rig)).root, ".runtime")
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "dispatch.log"), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vermas.cli", "--actor", agent.address, "polecat", "restart", agent.address,
             "--delay", "2"], cwd=town.root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    return proc.pid
