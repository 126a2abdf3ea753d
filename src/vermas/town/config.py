"""Layered configuration: flags → env → rig settings → town settings → user config → defaults.

Keys are dotted (``gates.test``, ``polecats.max``). Settings files are JSON with nested
tables (``{"type": "town-settings", "version": 1, "gates": {"test": "pytest -q"}}``); the
user config is TOML (``~/.config/vermas/config.toml``). The environment variable of a key
is ``VERMAS_`` + the key upper-cased with dots as underscores (``tmux.socket`` →
``VERMAS_TMUX_SOCKET``). Every lookup reports where its value came from.
"""

from __future__ import annotations

import json
import os

from vermas.errors import DataError, UsageError
from vermas.fileops import FileLock, atomic_write_text

# key -> (type, default, description)
KEYS: dict[str, tuple[type, object, str]] = {
    "tmux.socket": (str, "", "tmux server socket name (tmux -L); empty = your default server"),
    "runtime.default": (str, "claude", "agent runtime for every role unless overridden"),
    "runtime.mayor": (str, "", "runtime of the mayor (empty = runtime.default)"),
    "runtime.polecat": (str, "", "runtime of polecats (empty = runtime.default)"),
    "runtime.crew": (str, "", "runtime of crew sessions (empty = runtime.default)"),
    "polecats.max": (int, 5, "maximum concurrent polecats per rig"),
    "polecats.names": (str, "mad-max", "polecat name pool theme"),
    "polecats.formula": (str, "mol-polecat-work", "work formula poured on a slung bead"),
    "merge.strategy": (str, "ff", "how the target moves: ff (fast-forward), merge, squash"),
    "merge.batch_size": (int, 1, "merge requests tested together (>1 enables batch-then-bisect)"),
    "merge.mode": (str, "direct", "direct (move the branch) or pr (open a pull request)"),
    "merge.pr_command": (str, "gh pr create --fill --head {branch} --base {target}", "command for pr mode"),
    "merge.push_upstream": (bool, False, "after a merge, also push the target branch to the rig's source URL"),
    "merge.poll_interval": (float, 5.0, "seconds between refinery queue scans"),
    "gates.setup": (str, "", "rig gate: setup command (run before the others)"),
    "gates.lint": (str, "", "rig gate: lint command"),
    "gates.build": (str, "", "rig gate: build command"),
    "gates.test": (str, "", "rig gate: test command"),
    "gates.timeout": (float, 900.0, "seconds each gate may run"),
    "witness.patrol_interval": (float, 30.0, "seconds between witness patrols"),
    "witness.idle_after": (float, 300.0, "idle seconds with hooked work before a nudge"),
    "witness.stuck_after": (float, 900.0, "seconds without activity before a restart"),
    "witness.max_respawns": (int, 3, "respawns per bead before SPAWN_BLOCKED"),
    "deacon.patrol_interval": (float, 60.0, "seconds between deacon patrols"),
    "deacon.heartbeat_stale": (float, 300.0, "seconds before boot restarts a silent deacon"),
    "verify.enabled": (bool, True, "run the Inspector pipeline as the refinery's last gate"),
    "verify.spec_gate": (bool, True, "sling refuses task/feature/bug beads without an approved spec"),
    "verify.objective_only": (bool, False, "skip the LLM panel (auditor, advocate, critic, judge)"),
    "verify.confidence_threshold": (float, 0.7, "a PASS below this confidence becomes NEEDS_HUMAN"),
    "verify.timeout": (float, 300.0, "seconds each LLM panel role may take"),
    "verify.runtime.default": (str, "", "runtime for the LLM panel (empty = runtime.default); alias verify.runtime"),
    "verify.resling": (bool, True, "after a FAIL verdict, re-sling the reworked bead to its polecat automatically"),
    "verify.max_reworks": (int, 3, "FAIL verdicts of one bead before it goes to the mayor instead of back to work"),
}
# Old or shorter spellings of keys. ``verify.runtime`` cannot be a leaf beside the per-role
# ``verify.runtime.<role>`` keys in a nested settings file, so its value lives at ``.default``.
ALIASES: dict[str, str] = {"verify.runtime": "verify.runtime.default"}
# Families of keys whose last part is free-form (per-role runtimes, user-defined runtimes).
KEY_FAMILIES: dict[str, tuple[type, str]] = {
    "verify.runtime.": (str, "runtime of one Inspector role (designer, strategist, auditor, advocate, critic, judge)"),
    "runtimes.": (str, "a user-defined runtime (JSON object; see docs/RUNTIME.md)"),
    "runtime.": (str, "runtime of a role"),
}

SOURCE_FLAG, SOURCE_ENV, SOURCE_RIG, SOURCE_TOWN, SOURCE_USER, SOURCE_DEFAULT = (
    "flag", "env", "rig", "town", "user", "default")


def canonical_key(key: str) -> str:
    return ALIASES.get(key, key)


def key_type(key: str) -> type:
    key = canonical_key(key)
    if key in KEYS:
        return KEYS[key][0]
    for prefix, (kind, _doc) in KEY_FAMILIES.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return kind
    known = ", ".join(sorted(KEYS))
    raise UsageError(f"unknown config key {key!r}", hint=f"known keys: {known}")


def coerce(key: str, value: object) -> object:
    """Convert a CLI/env string (or JSON value) to the key's type; UsageError if impossible."""
    key = canonical_key(key)
    kind = key_type(key)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise UsageError(f"config {key} expects {kind.__name__}, got {text!r}") from None
    return text


def env_name(key: str) -> str:
    return "VERMAS_" + key.upper().replace(".", "_").replace("-", "_")


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """``{"gates": {"test": "x"}}`` → ``{"gates.test": "x"}`` (skips type/version headers)."""
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if not prefix and key in ("type", "version"):
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not dotted.startswith("runtimes."):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[canonical_key(dotted)] = value
    return flat


def read_settings(path: str) -> dict[str, object]:
    """A settings JSON file, flattened; empty when absent; DataError when malformed."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise DataError(f"{path}: malformed JSON: {exc}", hint="fix or remove the file") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object")
    return flatten(data)


def read_user_config(environ: dict[str, str]) -> dict[str, object]:
    """``$XDG_CONFIG_HOME/vermas/config.toml`` (or ``~/.config/...``), flattened."""
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".config")
    path = os.path.join(base, "vermas", "config.toml")
    if not os.path.exists(path):
        return {}
    import tomllib

    try:
        with open(path, "rb") as fh:
            return flatten(tomllib.load(fh))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: malformed TOML: {exc}") from None


def write_setting(path: str, kind: str, key: str, value: object | None) -> None:
    """Set (or with ``None`` remove) ``key`` in a settings JSON file, atomically under a lock."""
    key = canonical_key(key)
    with FileLock(path + ".lock"):
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            data = {"type": kind, "version": 1}
        except ValueError as exc:
            raise DataError(f"{path}: malformed JSON: {exc}") from None
        node = data
        parts = key.split(".") if not key.startswith("runtimes.") else ["runtimes", key[len("runtimes."):]]
        for depth, part in enumerate(parts[:-1], 1):
            child = node.get(part)
            if not isinstance(child, dict) and ".".join(parts[:depth]) in ALIASES:
                # an aliased leaf (e.g. an old "verify": {"runtime": "x"}) becomes its table form
                target = ALIASES[".".join(parts[:depth])].rsplit(".", 1)[1]
                child = {} if child is None else {target: child}
                node[part] = child
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError(f"{path}: {part} is not a table")
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


class Config:
    """Resolved settings for a town (and optionally one rig)."""

    def __init__(self, *, town_settings: str | None, rig_settings: str | None = None,
                 environ: dict[str, str] | None = None, flags: dict[str, object] | None = None) -> None:
        self.environ = dict(os.environ) if environ is None else environ
        self.flags = {canonical_key(k): v for k, v in (flags or {}).items() if v is not None}
        self._layers: list[tuple[str, dict[str, object]]] = [
            (SOURCE_RIG, read_settings(rig_settings) if rig_settings else {}),
            (SOURCE_TOWN, read_settings(town_settings) if town_settings else {}),
            (SOURCE_USER, read_user_config(self.environ)),
        ]

    def lookup(self, key: str) -> tuple[object, str]:
        """``(value, source)`` for ``key``."""
        key = canonical_key(key)
        key_type(key)
        if key in self.flags:
            return coerce(key, self.flags[key]), SOURCE_FLAG
        for alias in (key, *[a for a, k in ALIASES.items() if k == key]):
            env_value = self.environ.get(env_name(alias))
            if env_value:
                return coerce(key, env_value), SOURCE_ENV
        for source, layer in self._layers:
            if key in layer:
                return coerce(key, layer[key]), source
        default = KEYS[key][1] if key in KEYS else ""
        return default, SOURCE_DEFAULT

    def get(self, key: str) -> object:
        return self.lookup(key)[0]

    def str(self, key: str) -> str:
        return str(self.get(key))

    def int(self, key: str) -> int:
        return int(self.get(key))  # type: ignore[call-overload]

    def float(self, key: str) -> float:
        return float(self.get(key))  # type: ignore[arg-type]

    def bool(self, key: str) -> bool:
        return bool(self.get(key))

    def keys(self) -> list[str]:
        """Every known key plus every family key that is set somewhere."""
        seen = set(KEYS) | set(self.flags)
        for _source, layer in self._layers:
            seen.update(k for k in layer if _known(k))
        return sorted(seen)

    def runtime_for(self, role: str) -> str:
        """Runtime name for a role: ``runtime.<role>`` else ``runtime.default``."""
        specific = self.get(f"runtime.{role}")
        return str(specific) if specific else self.str("runtime.default")

    def user_runtimes(self) -> dict[str, dict]:
        """User-defined runtimes (``runtimes.<name>`` = JSON object) from every layer."""
        out: dict[str, dict] = {}
        for _source, layer in reversed(self._layers):
            for key, value in layer.items():
                if key.startswith("runtimes."):
                    spec = value
                    if isinstance(spec, str):
                        try:
                            spec = json.loads(spec)
                        except ValueError:
                            raise DataError(f"config {key}: not a JSON object") from None
                    if isinstance(spec, dict):
                        out[key[len("runtimes."):]] = spec
        return out


def _known(key: str) -> bool:
    try:
        key_type(key)
    except UsageError:
        return False
    return True
