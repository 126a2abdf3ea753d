"""The mayor's session: the overseer's coordinator agent, in ``<town>/mayor``.

``start`` writes the role context (``CLAUDE.md`` in the mayor's home, via the runtime) and
starts the session (runtime ``runtime.mayor`` → ``runtime.default``) with a startup prompt;
``attach`` hands the terminal to ``tmux attach``; ``stop`` ends the session; ``status``
reports it. One mayor per town.
"""

from __future__ import annotations

import os

from vermas.errors import ConflictError
from vermas.town import beacon, prime, sessions, work
from vermas.town.identity import Agent, session_env
from vermas.town.layout import Town

MAYOR = Agent("mayor")


def start(town: Town, *, actor: str, runtime: str | None = None, environ: dict | None = None,
          wait_ready: bool = True, timeout: float = 60.0) -> dict:
    config = sessions.town_config(town, environ=environ)
    runtime_name = runtime or config.runtime_for("mayor")
    if sessions.is_running(town, MAYOR.session, environ):
        raise ConflictError("the mayor is already running",
                            hint=f"attach: {' '.join(sessions.attach_command(town, MAYOR.session, environ))}")
    home = MAYOR.home(town.root)
    os.makedirs(home, exist_ok=True)
    role_text = prime.render_template(prime.template("mayor"), prime.identity_values(town.root, MAYOR))
    record = sessions.start_agent(town, MAYOR, runtime=runtime_name, workdir=home,
                                  prompt=beacon.role_prompt(MAYOR.address, actor, "mayor"),
                                  env=session_env(town.root, MAYOR, runtime=runtime_name), environ=environ,
                                  wait_ready=wait_ready, timeout=timeout, role_text=role_text)
    work.emit(town.beads_dir, "agent.started", actor, {"agent": "mayor", "session_name": MAYOR.session,
                                                       "runtime": runtime_name, "workdir": home})
    return {"session": MAYOR.session, "runtime": runtime_name, "workdir": home, "ready": bool(record.get("ready")),
            "attach": " ".join(sessions.attach_command(town, MAYOR.session, environ))}


def stop(town: Town, *, actor: str, environ: dict | None = None) -> bool:
    stopped = sessions.stop_agent(town, MAYOR.session, environ)
    if stopped:
        work.emit(town.beads_dir, "agent.stopped", actor, {"agent": "mayor", "session_name": MAYOR.session})
    return stopped


def status(town: Town, environ: dict | None = None) -> dict:
    info = sessions.provider(town, environ).status(MAYOR.session)
    return {"session": MAYOR.session, "running": bool(info["alive"]), "exists": bool(info["exists"]),
            "pid": info.get("pid"), "command": info.get("command"),
            "attach": " ".join(sessions.attach_command(town, MAYOR.session, environ))}
