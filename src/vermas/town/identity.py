"""Who an agent is: its address, role, rig and name; how to tell from env or cwd.

Addresses (Gas Town's, also the ``BD_ACTOR`` of a session):

====================  ==========================  =====================
role                  address                     mail identity (gt)
====================  ==========================  =====================
mayor                 ``mayor``                   ``mayor/``
deacon                ``deacon``                  ``deacon/``
witness               ``<rig>/witness``           ``<rig>/witness``
refinery              ``<rig>/refinery``          ``<rig>/refinery``
polecat               ``<rig>/polecats/<name>``   ``<rig>/<name>``
crew                  ``<rig>/crew/<name>``       ``<rig>/<name>``
overseer (a human)    ``overseer``                ``overseer``
====================  ==========================  =====================

On the hook path: standard library only, no dataclasses.
"""

from __future__ import annotations

import os

from vermas.errors import UsageError

TOWN_ROLES = ("mayor", "deacon", "overseer")
RIG_SINGLETONS = ("witness", "refinery")
RIG_GROUPS = {"polecats": "polecat", "crew": "crew"}
ROLES = ("mayor", "deacon", "witness", "refinery", "polecat", "crew", "overseer")
SESSION_PREFIX = "vm-"


def _valid_part(part: str) -> bool:
    return bool(part) and all(c.isalnum() or c in "-_." for c in part) and not part.startswith(".")


class Agent:
    """One agent identity. Cheap; touches no files."""

    __slots__ = ("name", "rig", "role")

    def __init__(self, role: str, rig: str | None = None, name: str | None = None) -> None:
        self.role = role
        self.rig = rig
        self.name = name

    # ------------------------------------------------------------- naming
    @property
    def address(self) -> str:
        if self.role in TOWN_ROLES:
            return self.role
        if self.role in RIG_SINGLETONS:
            return f"{self.rig}/{self.role}"
        group = "polecats" if self.role == "polecat" else "crew"
        return f"{self.rig}/{group}/{self.name}"

    @property
    def mail_identity(self) -> str:
        """The assignee Gas Town's mail router writes for this recipient."""
        if self.role in ("mayor", "deacon"):
            return self.role + "/"
        if self.role == "overseer":
            return "overseer"
        if self.role in RIG_SINGLETONS:
            return f"{self.rig}/{self.role}"
        return f"{self.rig}/{self.name}"

    @property
    def hook_file(self) -> str:
        """The seed's hook file name: ``.hook-<address with / replaced by ->``."""
        return ".hook-" + self.address.replace("/", "-")

    @property
    def session(self) -> str:
        """The tmux session name (``vm-<rig>-<name>`` for polecats; see :mod:`vermas.runtime.naming`)."""
        if self.role == "overseer":
            return SESSION_PREFIX + "overseer"
        from vermas.runtime.naming import session_for_address

        return session_for_address(self.address)

    @property
    def git_author(self) -> str:
        return self.name or self.role

    # -------------------------------------------------------------- paths
    def beads_dir(self, town_root: str) -> str:
        """The ledger that holds this agent's work (and hook file): its rig's, else the town's."""
        if self.rig:
            return os.path.join(town_root, self.rig, ".beads")
        return os.path.join(town_root, ".beads")

    def hook_path(self, town_root: str) -> str:
        return os.path.join(self.beads_dir(town_root), self.hook_file)

    def home(self, town_root: str) -> str:
        """The agent's home directory (where its settings and notes live)."""
        if self.role == "mayor":
            return os.path.join(town_root, "mayor")
        if self.role == "deacon":
            return os.path.join(town_root, "deacon")
        if self.role == "overseer":
            return town_root
        if self.role in RIG_SINGLETONS:
            return os.path.join(town_root, str(self.rig), self.role)
        group = "polecats" if self.role == "polecat" else "crew"
        return os.path.join(town_root, str(self.rig), group, str(self.name))

    def workdir(self, town_root: str) -> str:
        """Where the agent's session runs: a polecat's worktree, a crew clone, else its home."""
        if self.role == "polecat":
            return os.path.join(self.home(town_root), str(self.rig))
        return self.home(town_root)

    # ------------------------------------------------------------- values
    def as_dict(self) -> dict:
        return {"address": self.address, "role": self.role, "rig": self.rig, "name": self.name,
                "session": self.session}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Agent) and (self.role, self.rig, self.name) == (other.role, other.rig, other.name)

    def __hash__(self) -> int:
        return hash((self.role, self.rig, self.name))

    def __repr__(self) -> str:
        return f"Agent({self.address!r})"


def parse_address(text: str) -> Agent:
    """An :class:`Agent` from an address (``mayor``, ``mayor/``, ``app/polecats/nux``, ``app/witness``).

    Raises :class:`UsageError` for text that is not an agent address. Patterns (``*``) are
    not addresses; see :mod:`vermas.town.addresses`.
    """
    agent = try_parse_address(text)
    if agent is None:
        raise UsageError(
            f"not an agent address: {text!r}",
            hint="use mayor, deacon, <rig>/witness, <rig>/refinery, <rig>/polecats/<name> or <rig>/crew/<name>",
        )
    return agent


def try_parse_address(text: str) -> Agent | None:
    """Like :func:`parse_address` but None when ``text`` is not an address."""
    raw = (text or "").strip()
    if raw in ("mayor", "mayor/", "deacon", "deacon/", "overseer"):
        return Agent(raw.rstrip("/"))
    parts = raw.strip("/").split("/")
    if len(parts) == 2 and parts[1] in RIG_SINGLETONS and _valid_part(parts[0]):
        return Agent(parts[1], parts[0])
    if len(parts) == 3 and parts[1] in RIG_GROUPS and _valid_part(parts[0]) and _valid_part(parts[2]):
        return Agent(RIG_GROUPS[parts[1]], parts[0], parts[2])
    return None


def from_environ(environ: dict[str, str]) -> Agent | None:
    """The agent a session's environment names (``BD_ACTOR``, else ``GT_ROLE`` + ``GT_RIG`` + name)."""
    actor = environ.get("BD_ACTOR") or ""
    agent = try_parse_address(actor) if actor else None
    if agent is not None:
        return agent
    role = (environ.get("GT_ROLE") or "").strip()
    if not role:
        return None
    agent = try_parse_address(role)  # Gas Town writes the full address into GT_ROLE
    if agent is not None:
        return agent
    rig = environ.get("GT_RIG") or None
    if role in ("mayor", "deacon"):
        return Agent(role)
    if role in RIG_SINGLETONS and rig:
        return Agent(role, rig)
    if role == "polecat" and rig and environ.get("GT_POLECAT"):
        return Agent("polecat", rig, environ["GT_POLECAT"])
    if role == "crew" and rig and environ.get("GT_CREW"):
        return Agent("crew", rig, environ["GT_CREW"])
    return None


def from_cwd(town_root: str, cwd: str) -> Agent | None:
    """The agent whose directory contains ``cwd`` (Gas Town's ``gt role detect``)."""
    rel = os.path.relpath(os.path.abspath(cwd), town_root)
    if rel.startswith(".."):
        return None
    parts = [] if rel == "." else rel.split(os.sep)
    if not parts:
        return None
    if parts[0] in ("mayor", "deacon"):
        return Agent(parts[0])
    if len(parts) >= 2 and parts[1] in RIG_SINGLETONS:
        return Agent(parts[1], parts[0])
    if len(parts) >= 3 and parts[1] in RIG_GROUPS and _valid_part(parts[2]):
        return Agent(RIG_GROUPS[parts[1]], parts[0], parts[2])
    return None


def current(environ: dict[str, str], town_root: str | None, cwd: str) -> Agent | None:
    """The calling agent: from the environment first, else from the working directory."""
    agent = from_environ(environ)
    if agent is None and town_root:
        agent = from_cwd(town_root, cwd)
    return agent


def session_env(town_root: str, agent: Agent, *, bead: str | None = None, runtime: str | None = None,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    """The identity environment of an agent's session (seeds + Gas Town names)."""
    env = {
        "BD_ACTOR": agent.address,
        "GT_ROLE": agent.address,  # Gas Town's form; the bare role is VERMAS_ROLE
        "VERMAS_ROLE": agent.role,
        "VERMAS_TOWN": town_root,
        "GT_ROOT": town_root,
        "GT_SESSION": agent.session,
        "VERMAS_AGENT": agent.address,
        "GIT_AUTHOR_NAME": agent.git_author,
        "GIT_COMMITTER_NAME": agent.git_author,
        "GIT_AUTHOR_EMAIL": agent.git_author + "@vermas.local",
        "GIT_COMMITTER_EMAIL": agent.git_author + "@vermas.local",
        "GIT_CEILING_DIRECTORIES": town_root,
        "BEADS_AGENT_NAME": agent.address,
        "BEADS_DIR": agent.beads_dir(town_root),
    }
    if agent.rig:
        env["GT_RIG"] = agent.rig
    if agent.role == "polecat":
        env["GT_POLECAT"] = str(agent.name)
    if agent.role == "crew":
        env["GT_CREW"] = str(agent.name)
    if bead:
        env["BEAD_ID"] = bead
    if runtime:
        env["GT_AGENT"] = runtime
    if extra:
        env.update(extra)
    return env
