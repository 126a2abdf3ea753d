"""``vermas prime``: the context an agent needs at session start (hook path: stdlib only).

Order matters (gastown#319: a beacon before the instructions sends agents exploring):

1. the role template (``templates/<role>.md``) rendered with the agent's identity;
2. the work on the hook — "work is on your hook: run it" (GUPP) — with the bead, its branch
   and worktree, why it came back when it carries the ``rework`` label (the latest
   ``[refinery] REWORK <mr>: …`` comment: conflict files, failing gate output, failed
   criteria, required fixes), and the attached formula's steps as a checklist (the next step
   marked); or, with an empty hook, what to do instead;
3. handoff notes left by the previous session (``🤝 HANDOFF`` mail to self);
4. unread mail, one line each;
5. last, the session line (identity, session, time): the beacon-like metadata.

``--hook`` mode (Claude Code ``SessionStart``/``PreCompact``) reads the hook JSON on stdin;
for ``source`` = ``compact`` or ``resume`` only a short recovery block is printed.
"""

from __future__ import annotations

import json
import os
import time

from vermas.town import hookread, mailpeek

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.identity import Agent

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
_STATE_MARK = {"completed": "[x]", "skipped": "[x]", "in_progress": "[~]", "failed": "[!]"}


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def template(role: str) -> str:
    name = role if role in ("mayor", "deacon", "witness", "refinery", "polecat", "crew") else "crew"
    with open(os.path.join(TEMPLATES, name + ".md"), encoding="utf-8") as fh:
        return fh.read()


def render_template(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def identity_values(town_root: str, agent: Agent) -> dict[str, str]:
    town = _read_json(os.path.join(town_root, "mayor", "town.json"))
    rigs = _read_json(os.path.join(town_root, "mayor", "rigs.json")).get("rigs") or {}
    default_branch = "main"
    if agent.rig:
        rig_cfg = _read_json(os.path.join(town_root, agent.rig, "config.json"))
        default_branch = rig_cfg.get("default_branch") or (rigs.get(agent.rig) or {}).get("default_branch") or "main"
    return {"address": agent.address, "role": agent.role, "rig": agent.rig or "", "name": agent.name or "",
            "town": town_root, "town_name": str(town.get("name") or os.path.basename(town_root)),
            "workdir": agent.workdir(town_root), "default_branch": default_branch, "session": agent.session,
            "rigs": ", ".join(sorted(rigs)) or "none yet"}


def checklist(molecule: dict) -> list[str]:
    lines = []
    next_id = molecule.get("next")
    for step in molecule.get("steps") or ():
        if step.get("kind") == "container":
            lines.append(f"- {step['title']}")
            continue
        mark = _STATE_MARK.get(step["state"], "[ ]")
        arrow = "  ← next" if step["id"] == next_id else ""
        indent = "  " if step["id"].count(".") > molecule["id"].count(".") + 1 else ""
        lines.append(f"{indent}- {mark} {step['title']} ({step['id']}){arrow}")
    return lines


def work_section(info: dict, agent: Agent) -> list[str]:
    bead = info.get("bead")
    out: list[str] = []
    if bead is None:
        out.append("## Your hook is empty")
        if info.get("stale"):
            stale = info["stale"]
            out.append(f"(The hook file named {stale['id']}, which is now {stale['status']}"
                       + (f" by {stale['assignee']}" if stale.get("assignee") else "") + ": not your work any more.)")
        if info.get("mail"):
            message = info["mail"]
            out.append(f"Mail is on your hook: {message.get('id')} \"{message.get('title', '')}\" — read it now "
                       f"('vermas mail read {message.get('id')}') and act on it.")
        elif agent.role == "polecat":
            out.append("No work is hooked to you. Do nothing else: wait for the witness or a sling. "
                       "(Check once with 'vermas hook'.)")
        else:
            out.append("Check your mail ('vermas mail inbox') and wait for instructions.")
        return out
    out.append("## Work is on your hook — run it (GUPP)")
    out.append(f"**{bead['id']}** {bead.get('title', '')}  [{bead.get('issue_type', 'task')}, "
               f"P{bead.get('priority', 2)}, status {bead.get('status')}]")
    polecat = info.get("polecat") or {}
    if polecat.get("branch"):
        out.append(f"Branch: {polecat['branch']} (from {polecat.get('base') or 'main'})  ·  "
                   f"Worktree: {polecat.get('worktree')}")
    out += rework_section(bead)
    description = (bead.get("description") or "").strip()
    if description:
        out += ["", "### Description", description]
    criteria = (bead.get("acceptance_criteria") or "").strip()
    if criteria:
        out += ["", "### Acceptance criteria", criteria]
    molecule = info.get("molecule")
    if molecule and molecule.get("steps"):
        out += ["", f"### Steps ({molecule.get('formula') or 'formula'} {molecule['id']}: "
                    f"{molecule.get('finished', 0)}/{molecule.get('total', 0)} done)"]
        out += checklist(molecule)
        out.append("Mark a step done with 'vermas mol step done <step-id>' as you go.")
    out += ["", "When the work is committed: run 'vermas done'."]
    return out


def rework_notes(bead: dict) -> list[dict]:
    """Comments handing the bead back (``[refinery] REWORK <mr>: …``, ``[inspector] REWORK …``), oldest first."""
    notes = []
    for comment in bead.get("comments") or ():
        text = str(comment.get("text") or "")
        first = text.split("\n", 1)[0]
        if first.startswith("[") and "] REWORK" in first[:40]:
            notes.append(comment)
    return notes


def rework_section(bead: dict) -> list[str]:
    """Why the bead came back (label ``rework``): the latest rework comment in full, the earlier ones counted."""
    if "rework" not in (bead.get("labels") or ()):
        return []
    notes = rework_notes(bead)
    out = ["", "### Rework requested — this bead came back to you"]
    if not notes:
        out.append("It is labelled `rework` but carries no rework note: check your mail ('vermas mail inbox').")
        return out
    latest = notes[-1]
    when = f" ({latest.get('author') or 'refinery'}, {latest.get('created_at', '')})".replace(", )", ")")
    out.append(f"Latest{when}:")
    out.append(str(latest.get("text") or "").strip())
    if len(notes) > 1:
        out.append(f"(This is rework round {len(notes)}; 'vermas show {bead['id']}' lists the earlier ones.)")
    out.append("Fix exactly this on your branch, commit, and run 'vermas done' again.")
    return out


def handoffs(messages: list[dict], agent: Agent) -> list[dict]:
    mine = (agent.address, agent.mail_identity)
    return [m for m in messages if "HANDOFF" in m["subject"][:16] and m.get("from") in mine]


def render(town_root: str, agent: Agent, *, source: str | None = None, session_id: str | None = None) -> str:
    """The full prime text for ``agent``."""
    info = hookread.read(town_root, agent)
    unread = mailpeek.unread(town_root, agent)
    notes = handoffs(unread, agent)
    others = [m for m in unread if m not in notes]
    lines: list[str] = []
    if source in ("compact", "resume"):
        lines.append(f"[VerMAS] Context {'compacted' if source == 'compact' else 'resumed'}: you are {agent.address}.")
        bead = info.get("bead")
        if bead:
            lines.append(f"Work is on your hook: {bead['id']} {bead.get('title', '')} — keep going; "
                         "'vermas prime' shows the full context and steps; finish with 'vermas done'.")
            notes = rework_notes(bead) if "rework" in (bead.get("labels") or ()) else []
            if notes:
                lines.append("It came back for rework: " + str(notes[-1].get("text") or "").split("\n", 1)[0])
            molecule = info.get("molecule")
            if molecule and molecule.get("next"):
                step = next((s for s in molecule["steps"] if s["id"] == molecule["next"]), None)
                if step:
                    lines.append(f"Next step: {step['title']} ({step['id']})")
        if unread:
            lines += ["", mailpeek.summary(unread)]
        return "\n".join(lines) + "\n"
    values = identity_values(town_root, agent)
    lines.append(render_template(template(agent.role), values).rstrip())
    lines += ["", *work_section(info, agent)]
    if notes:
        lines += ["", "## Handoff notes from your previous session"]
        for m in notes:
            lines += [f"### {m['subject']} ({m['id']}, {m['timestamp']})", m["body"].strip()]
        lines.append(f"(Archive them when you have picked up: vermas mail archive {' '.join(m['id'] for m in notes)})")
    if others:
        lines += ["", "## Mail", mailpeek.summary(others)]
    stamp = time.strftime("%Y-%m-%dT%H:%M")
    tail = f"[VERMAS] {agent.address} • session {agent.session} • {stamp}"
    if session_id:
        tail += f" • id {session_id}"
    lines += ["", tail]
    return "\n".join(lines) + "\n"
