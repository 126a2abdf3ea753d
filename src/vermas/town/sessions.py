"""The town's view of agent sessions, through the runtime layer (tmux server, providers).

One place decides the tmux socket of a town (config ``tmux.socket`` → ``$VERMAS_TMUX_SOCKET``
→ the user's default server) and how the town starts, stops and observes an agent's session.
"""

from __future__ import annotations

import os

from vermas.town.config import Config
from vermas.town.layout import Town


def town_config(town: Town, rig: str | None = None, *, environ: dict | None = None,
                flags: dict | None = None) -> Config:
    rig_settings = town.rig(rig).settings_path if rig else None
    return Config(town_settings=town.settings_path, rig_settings=rig_settings, environ=environ, flags=flags)


def socket_for(town: Town, environ: dict | None = None) -> str | None:
    """The tmux socket name of this town's agents (None = the user's default server)."""
    value = town_config(town, environ=environ).str("tmux.socket")
    return value or None


def server(town: Town, environ: dict | None = None):
    from vermas.runtime.tmux import Server

    return Server(socket_for(town, environ), environ=environ)


def live_sessions(town: Town, environ: dict | None = None) -> set[str]:
    """Names of the town's running sessions (``vm-…``) whose pane is still alive."""
    srv = server(town, environ)
    names = set(srv.list_sessions("vm-"))
    if not names:
        return set()
    dead = set()
    for pane in srv.list_panes(("session_name", "pane_dead")):
        if pane.get("pane_dead") in ("1", 1, True) and pane.get("session_name") in names:
            dead.add(pane["session_name"])
    return names - dead


def runtime_dir(town: Town, environ: dict | None = None) -> str:
    env = os.environ if environ is None else environ
    return os.path.abspath(env.get("VERMAS_RUNTIME_DIR") or town.runtime_dir)


def attach_command(town: Town, session: str, environ: dict | None = None) -> list[str]:
    """The argv a human runs to watch a session."""
    socket = socket_for(town, environ)
    return ["tmux", *(["-L", socket] if socket else []), "attach", "-t", session]


def provider(town: Town, environ: dict | None = None, rig: str | None = None):
    """The runtime provider for this town's agents (tmux on the town's socket, runtime dir, user runtimes)."""
    from vermas.runtime.providers import get_provider

    config = town_config(town, rig, environ=environ)
    return get_provider(None, socket=socket_for(town, environ), runtime_dir=runtime_dir(town, environ),
                        runtimes=config.user_runtimes(), environ=dict(os.environ if environ is None else environ),
                        town=town.root)


def runtime_spec(town: Town, name: str, rig: str | None = None, environ: dict | None = None):
    """The :class:`RuntimeSpec` called ``name`` (presets + user-defined); exit 3 when unknown."""
    from vermas.runtime.presets import get_runtime

    return get_runtime(name, town_config(town, rig, environ=environ).user_runtimes())


def start_agent(town: Town, agent, *, runtime: str, workdir: str, prompt: str | None, env: dict,
                environ: dict | None = None, wait_ready: bool = True, timeout: float = 60.0,
                role_text: str | None = None, using: object | None = None, spec: object | None = None) -> dict:
    """Start ``agent``'s session through the runtime provider (a dead leftover session is cleared first)."""
    from vermas.runtime.errors import SessionExistsError
    from vermas.runtime.providers import StartRequest

    prov = using or provider(town, environ, agent.rig)
    spec = spec or runtime_spec(town, runtime, agent.rig, environ)
    request = StartRequest(session=agent.session, workdir=workdir, runtime=spec, address=agent.address,
                           town=town.root, bead=env.get("BEAD_ID"), env=env, initial_prompt=prompt, role=agent.role,
                           role_text=role_text)
    try:
        return prov.start(request, wait=wait_ready, timeout=timeout)
    except SessionExistsError:
        if prov.status(agent.session)["alive"]:
            raise SessionExistsError(f"{agent.address} already has a running session ({agent.session})",
                                     hint=f"attach: {' '.join(attach_command(town, agent.session, environ))}") \
                from None
        prov.stop(agent.session)  # a dead leftover (remain-on-exit): clear it and start again
        return prov.start(request, wait=wait_ready, timeout=timeout)


def stop_agent(town: Town, session: str, environ: dict | None = None) -> bool:
    """Stop a session (and its process group); False when it was not there."""
    return provider(town, environ).stop(session)


def is_running(town: Town, session: str, environ: dict | None = None) -> bool:
    return provider(town, environ).is_running(session)
