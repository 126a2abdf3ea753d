"""Mail recipients: validate an address against the town, expand patterns, map identities back.

Addresses: ``mayor``, ``deacon``, ``overseer``, ``<rig>/witness``, ``<rig>/refinery``,
``<rig>/polecats/<name>``, ``<rig>/crew/<name>``. Patterns use ``*`` in any part:
``<rig>/polecats/*``, ``*/witness``, ``<rig>/crew/*``, ``*/polecats/*``; ``@town`` is every
town-level agent and ``@witnesses`` every witness. A pattern matching nobody, an unknown rig,
polecat or crew member is a :class:`NotFoundError` (exit 3): mail is never dropped silently.
"""

from __future__ import annotations

import fnmatch
import os

from vermas.errors import NotFoundError, UsageError
from vermas.town.identity import Agent, try_parse_address

_HINT = ("addresses: mayor, deacon, overseer, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>, "
         "<rig>/crew/<name>; patterns like <rig>/polecats/* ('vermas agents' lists everyone)")


def rig_names(town_root: str) -> list[str]:
    from vermas.town.layout import Town
    from vermas.town.rigs import rig_names as names

    return names(Town(town_root))


def members(town_root: str, rig: str, group: str) -> list[str]:
    """Names of the polecats (``group="polecats"``) or crew members of a rig."""
    base = os.path.join(town_root, rig, group)
    try:
        entries = sorted(os.listdir(base))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [e for e in entries if not e.startswith(".") and os.path.isdir(os.path.join(base, e))]


def every_agent(town_root: str) -> list[Agent]:
    """Every addressable agent of the town, town roles first."""
    agents = [Agent("mayor"), Agent("deacon"), Agent("overseer")]
    for rig in rig_names(town_root):
        agents.append(Agent("witness", rig))
        agents.append(Agent("refinery", rig))
        agents.extend(Agent("polecat", rig, name) for name in members(town_root, rig, "polecats"))
        agents.extend(Agent("crew", rig, name) for name in members(town_root, rig, "crew"))
    return agents


def exists(town_root: str, agent: Agent) -> bool:
    if agent.role in ("mayor", "deacon", "overseer"):
        return True
    if agent.rig not in rig_names(town_root):
        return False
    if agent.role in ("witness", "refinery"):
        return True
    group = "polecats" if agent.role == "polecat" else "crew"
    return os.path.isdir(os.path.join(town_root, str(agent.rig), group, str(agent.name)))


def resolve(town_root: str, text: str) -> list[Agent]:
    """The agents an address or pattern names; NotFoundError when none, UsageError when malformed."""
    raw = (text or "").strip()
    if not raw:
        raise UsageError("empty recipient address", hint=_HINT)
    if raw == "@town":
        return [Agent("mayor"), Agent("deacon")]
    if raw == "@witnesses":
        return _require([Agent("witness", r) for r in rig_names(town_root)], raw)
    if "*" in raw or "?" in raw:
        pattern = raw.rstrip("/")
        matched = [a for a in every_agent(town_root) if a.role != "overseer"
                   and fnmatch.fnmatchcase(a.address, pattern)]
        return _require(matched, raw)
    agent = try_parse_address(raw)
    if agent is None:
        raise UsageError(f"not a mail address: {raw!r}", hint=_HINT)
    if agent.rig and agent.rig not in rig_names(town_root):
        known = ", ".join(rig_names(town_root)) or "none"
        raise NotFoundError(f"unknown recipient {raw!r}: no rig named {agent.rig!r} (rigs: {known})", hint=_HINT)
    if not exists(town_root, agent):
        group = "polecats" if agent.role == "polecat" else "crew"
        known = ", ".join(members(town_root, str(agent.rig), group)) or "none"
        raise NotFoundError(f"unknown recipient {raw!r}: rig {agent.rig} has no {agent.role} named "
                            f"{agent.name!r} ({group}: {known})", hint=_HINT)
    return [agent]


def _require(agents: list[Agent], pattern: str) -> list[Agent]:
    if not agents:
        raise NotFoundError(f"no recipient matches {pattern!r}", hint=_HINT)
    return agents


def identity_variants(agent: Agent) -> tuple[str, ...]:
    """Assignee values that mean this agent (gt's identity form first, then the full address)."""
    variants = [agent.mail_identity, agent.address]
    if agent.role in ("mayor", "deacon"):
        variants.append(agent.role)
    return tuple(dict.fromkeys(variants))


def from_identity(town_root: str, identity: str) -> str:
    """Turn a stored assignee/sender (gt identity or address) into our address form."""
    text = (identity or "").strip()
    agent = try_parse_address(text)
    if agent is not None:
        return agent.address
    parts = text.strip("/").split("/")
    if len(parts) == 2:
        rig, name = parts
        if os.path.isdir(os.path.join(town_root, rig, "crew", name)):
            return f"{rig}/crew/{name}"
        return f"{rig}/polecats/{name}"
    return text
