"""The first prompt of a session: instructions first, then the beacon line.

Gas Town's beacon is ``[GAS TOWN] <recipient> <- <sender> • <YYYY-MM-DDTHH:MM> • <topic>``.
Putting it *before* the instructions made agents explore for tens of thousands of tokens
(gastown#319), so the instructions come first and the beacon line closes the prompt.
The text is one paragraph plus the beacon line: runtimes type it literally.
"""

from __future__ import annotations

import time


def beacon_line(recipient: str, sender: str, topic: str, *, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M", time.localtime(now if now is not None else time.time()))
    return f"[VERMAS] {recipient} <- {sender} • {stamp} • {topic}"


def work_prompt(recipient: str, sender: str, bead_id: str, title: str, *, molecule: str | None = None,
                resumed: bool = False) -> str:
    """The startup prompt of a polecat with work on its hook (GUPP: run it)."""
    again = "You are resuming after a restart; your worktree keeps what you did. " if resumed else ""
    instructions = (
        f"{again}Work is on your hook: {bead_id} \"{title}\". Run it now, without asking: "
        "your context (from 'vermas prime') lists the steps; if it is missing run 'vermas prime'. "
        "Work in this directory, commit your changes, then run 'vermas done'."
    )
    topic = f"{bead_id}:{molecule}" if molecule else bead_id
    return instructions + "\n" + beacon_line(recipient, sender, topic)


def role_prompt(recipient: str, sender: str, role: str) -> str:
    """The startup prompt of a role without hooked work (mayor, crew)."""
    instructions = (f"You are the {role}. Your role context comes from 'vermas prime' (run it if it is not in "
                    "your context). Check your hook ('vermas hook') and mail ('vermas mail inbox'), then proceed.")
    return instructions + "\n" + beacon_line(recipient, sender, "startup")
