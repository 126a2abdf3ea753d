"""Helpers shared by the town commands: which town, which agent, small text formatting."""

from __future__ import annotations

import os

from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.cli.env import Environment
    from vermas.town.identity import Agent
    from vermas.town.layout import Town


def town_root(env: Environment) -> str:
    """The town root (``--town`` > ``$VERMAS_TOWN`` > search upward); exit 3 when none."""
    from vermas.town.layout import resolve_town

    return resolve_town(os.path.expanduser(env.town_flag) if env.town_flag else None,
                        env.environ, env.cwd)


def town(env: Environment) -> Town:
    from vermas.town.layout import Town

    return Town(town_root(env))


def current_agent(env: Environment, root: str | None, explicit: str | None = None) -> Agent | None:
    """The agent acting: an explicit address, else ``$BD_ACTOR``/``$GT_*``, else the cwd."""
    from vermas.town import identity

    if explicit:
        return identity.parse_address(explicit)
    if env.actor_flag:
        agent = identity.try_parse_address(env.actor_flag)
        if agent is not None:
            return agent
    return identity.current(env.environ, root, env.cwd)


def require_agent(env: Environment, root: str, explicit: str | None = None, *, what: str = "this command") -> Agent:
    agent = current_agent(env, root, explicit)
    if agent is None:
        raise UsageError(f"{what} needs to know which agent you are",
                         hint="run it inside an agent session ($BD_ACTOR set), from the agent's directory, "
                              "or name the agent (e.g. --agent app/polecats/nux)")
    return agent


def require_rig(root: str, name: str) -> dict:
    from vermas.town.layout import Town
    from vermas.town.rigs import rig_info

    return rig_info(Town(root), name)


def ago(timestamp: str | None) -> str:
    """``3m ago`` for an RFC 3339 timestamp ('' when unknown)."""
    if not timestamp:
        return ""
    import time

    from vermas.ledger import timefmt

    epoch = timefmt.parse_epoch(timestamp)
    if epoch is None:
        return ""
    seconds = max(0, int(time.time() - epoch))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def table(rows: list[list[str]], header: list[str] | None = None) -> list[str]:
    """Left-aligned columns separated by two spaces."""
    all_rows = ([header] if header else []) + rows
    if not all_rows:
        return []
    widths = [max(len(str(r[i])) for r in all_rows) for i in range(len(all_rows[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in all_rows]


def not_found(message: str, hint: str | None = None) -> NotFoundError:
    return NotFoundError(message, hint=hint)
