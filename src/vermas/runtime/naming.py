"""Agent addresses <-> tmux session names, and the identity environment of a session.

Addresses follow Gas Town's mail addresses; session names are ``vm-`` plus a slug:

==============================  ==============================  =================
address                         session                         role
==============================  ==============================  =================
``mayor``                       ``vm-mayor``                    mayor
``deacon``                      ``vm-deacon``                   deacon
``deacon/boot``                 ``vm-boot``                     boot
``deacon/dogs/<name>``          ``vm-dog-<name>``               dog
``<rig>/witness``               ``vm-<rig>-witness``            witness
``<rig>/refinery``              ``vm-<rig>-refinery``           refinery
``<rig>/polecats/<name>``       ``vm-<rig>-<name>``             polecat
``<rig>/crew/<name>``           ``vm-<rig>-crew-<name>``        crew
``<rig>/inspector/<role>``      ``vm-<rig>-inspector-<role>``   inspector
==============================  ==============================  =================

``<rig>/<name>`` is accepted as shorthand for a polecat. In session names the rig is
slugged to ``[A-Za-z0-9_]`` (so the first ``-`` after ``vm-`` always ends it) and names to
``[A-Za-z0-9_-]`` (tmux forbids ``.`` and ``:``). Polecats may not be named like a role
word (``witness``, ``refinery``, ``crew``, ``inspector``), and rigs may not be named
``mayor``, ``deacon``, ``boot`` or ``dog``: either would make two addresses share a session.

Hot path (mail check maps ``$BD_ACTOR`` to its session): standard library only.
"""

from __future__ import annotations

PREFIX = "vm-"
TOWN_ROLES = ("mayor", "deacon")
RIG_ROLE_WORDS = ("witness", "refinery", "crew", "inspector", "polecats")
RESERVED_RIGS = ("mayor", "deacon", "boot", "dog", "overseer")


def _usage(message: str, hint: str | None = None) -> Exception:
    from vermas.errors import UsageError

    return UsageError(message, hint=hint or "addresses look like mayor, <rig>/witness, <rig>/polecats/<name>")


def _slug(text: str, *, allow_dash: bool) -> str:
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch == "_" or (allow_dash and ch == "-")):
            out.append(ch)
        else:
            out.append("_")
    return "".join(out)


def parse_address(address: str) -> dict:
    """``{"role", "rig", "name", "address"}`` for an agent address (canonical form in ``address``)."""
    text = address.strip().strip("/")
    if not text:
        raise _usage("empty agent address")
    parts = text.split("/")
    if len(parts) == 1:
        if parts[0] in TOWN_ROLES:
            return {"role": parts[0], "rig": None, "name": None, "address": parts[0]}
        raise _usage(f"unknown agent address {address!r}")
    if parts[0] == "deacon":
        if parts[1:] == ["boot"]:
            return {"role": "boot", "rig": None, "name": None, "address": "deacon/boot"}
        if len(parts) == 3 and parts[1] == "dogs" and parts[2]:
            return {"role": "dog", "rig": None, "name": parts[2], "address": text}
        raise _usage(f"unknown agent address {address!r}")
    rig = parts[0]
    if rig in RESERVED_RIGS:
        raise _usage(f"{rig!r} cannot be a rig name in an agent address")
    if len(parts) == 2:
        what = parts[1]
        if what in ("witness", "refinery"):
            return {"role": what, "rig": rig, "name": None, "address": text}
        if what in RIG_ROLE_WORDS:
            raise _usage(f"incomplete agent address {address!r}", hint=f"use {rig}/{what}/<name>")
        _check_polecat_name(what)
        return {"role": "polecat", "rig": rig, "name": what, "address": f"{rig}/polecats/{what}"}
    if len(parts) == 3 and parts[2]:
        kind, name = parts[1], parts[2]
        if kind == "polecats":
            _check_polecat_name(name)
            return {"role": "polecat", "rig": rig, "name": name, "address": text}
        if kind == "crew":
            return {"role": "crew", "rig": rig, "name": name, "address": text}
        if kind == "inspector":
            return {"role": "inspector", "rig": rig, "name": name, "address": text}
    raise _usage(f"unknown agent address {address!r}")


def _check_polecat_name(name: str) -> None:
    if name in ("witness", "refinery", "crew", "inspector") or name.startswith(("crew-", "inspector-")):
        raise _usage(f"{name!r} cannot be a polecat name: it would collide with a role's session name")


def session_for_address(address: str) -> str:
    """The tmux session name of an agent address (see the module table)."""
    info = parse_address(address)
    role, rig, name = info["role"], info["rig"], info["name"]
    if role in ("mayor", "deacon"):
        return PREFIX + role
    if role == "boot":
        return PREFIX + "boot"
    if role == "dog":
        return PREFIX + "dog-" + _slug(name, allow_dash=True)
    r = _slug(rig, allow_dash=False)
    if role in ("witness", "refinery"):
        return f"{PREFIX}{r}-{role}"
    n = _slug(name, allow_dash=True)
    if role == "polecat":
        return f"{PREFIX}{r}-{n}"
    return f"{PREFIX}{r}-{role}-{n}"


def address_for_session(session: str) -> str | None:
    """The agent address a session name stands for (rig and names as slugged), or None if not ours."""
    if not session.startswith(PREFIX) or len(session) <= len(PREFIX):
        return None
    rest = session[len(PREFIX):]
    if rest in ("mayor", "deacon"):
        return rest
    if rest == "boot":
        return "deacon/boot"
    if rest.startswith("dog-") and len(rest) > 4:
        return "deacon/dogs/" + rest[4:]
    rig, sep, tail = rest.partition("-")
    if not sep or not rig or not tail:
        return None
    if tail in ("witness", "refinery"):
        return f"{rig}/{tail}"
    for kind in ("crew", "inspector"):
        if tail.startswith(kind + "-") and len(tail) > len(kind) + 1:
            return f"{rig}/{kind}/{tail[len(kind) + 1:]}"
    return f"{rig}/polecats/{tail}"


def resolve_target(target: str) -> str:
    """A session name from either a session name (``vm-…``) or an agent address."""
    target = target.strip()
    if target.startswith(PREFIX) and "/" not in target:
        return target
    return session_for_address(target)


def identity_env(address: str, *, town: str | None = None, bead: str | None = None) -> dict:
    """The identity variables of an agent's session (Gas Town compatible, see docs/RUNTIME.md).

    ``BD_ACTOR`` and ``GT_ROLE`` are the canonical address (``GT_ROLE`` is ``dog`` for dogs,
    as in Gas Town); ``VERMAS_ROLE`` is the bare role type; ``GT_RIG``, ``GT_POLECAT``,
    ``GT_CREW``, ``GT_DOG_NAME`` when they apply; ``BEAD_ID`` the hooked bead; the town
    root as ``VERMAS_TOWN`` and ``GT_ROOT``.
    """
    info = parse_address(address)
    addr, role = info["address"], info["role"]
    env = {"BD_ACTOR": addr, "GT_ROLE": "dog" if role == "dog" else addr, "VERMAS_ROLE": role}
    if info["rig"]:
        env["GT_RIG"] = info["rig"]
    if role == "polecat":
        env["GT_POLECAT"] = info["name"]
    elif role == "crew":
        env["GT_CREW"] = info["name"]
    elif role == "dog":
        env["GT_DOG_NAME"] = info["name"]
    if bead:
        env["BEAD_ID"] = bead
    if town:
        env["VERMAS_TOWN"] = town
        env["GT_ROOT"] = town
    return env


def session_from_environment(environ: dict) -> str | None:
    """This process's agent session: ``$VERMAS_SESSION``, else derived from ``$BD_ACTOR``."""
    session = environ.get("VERMAS_SESSION")
    if session:
        return session
    actor = environ.get("BD_ACTOR")
    if actor:
        try:
            return session_for_address(actor)
        except Exception:  # an actor that is not an agent address (a human): no session
            return None
    return None
