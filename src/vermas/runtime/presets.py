"""The built-in runtimes (claude, codex, gemini, opencode, aider, sim) and runtime lookup.

Presets are tables in the same shape users write (see :mod:`vermas.runtime.spec`), parsed
by the same code. User-defined runtimes come from config: the town loads
``{name: table}`` from town/rig settings and passes it as ``user``; a user table may
``extends`` a preset or another user runtime and may shadow a preset by name.
"""

from __future__ import annotations

import os
import sys

from vermas.runtime.errors import RuntimeConfigError, UnknownRuntimeError
from vermas.runtime.spec import RuntimeSpec, parse_runtime

DEFAULT_RUNTIME = "claude"

_CLAUDE_HEADLESS = {"args": ["-p", "{prompt}", "--output-format", "json"],
                    "stdin_args": ["-p", "--output-format", "json"], "output": "claude-json"}

PRESETS: dict[str, dict] = {
    "claude": {
        "description": "Anthropic Claude Code (hooks via --settings, role text in CLAUDE.md)",
        "command": "claude",
        "args": ["--dangerously-skip-permissions"],
        "prompt_mode": "arg",
        "ready_prompt_prefix": "❯ ",
        "ready_delay_ms": 10000,
        "busy_markers": ["esc to interrupt"],
        "process_names": ["claude", "node"],
        "hooks": "claude",
        "settings_flag": "--settings",
        "instructions_file": "CLAUDE.md",
        "resume_flag": "--resume",
        "continue_flag": "--continue",
        "resume_style": "flag",
        "paste": "bracketed",
        "settle_ms": 500,
        "interrupt_keys": ["Escape"],
        "clear_input_keys": ["C-u"],
        "dialogs": ["workspace-trust", "bypass-permissions"],
        "headless": _CLAUDE_HEADLESS,
    },
    "codex": {
        "description": "OpenAI Codex CLI (no hooks: nudges are typed when idle; AGENTS.md)",
        "command": "codex",
        "args": ["--dangerously-bypass-approvals-and-sandbox"],
        "prompt_mode": "arg",
        "ready_prompt_prefix": "› ",
        "ready_delay_ms": 3000,
        "busy_markers": ["esc to interrupt"],
        "process_names": ["codex", "node"],
        "instructions_file": "AGENTS.md",
        "resume_flag": "resume",
        "continue_flag": "--last",
        "resume_style": "subcommand",
        "settle_ms": 500,
        "interrupt_keys": ["Escape"],
        "dialogs": ["workspace-trust"],
        "headless": {"args": ["exec", "--json", "--skip-git-repo-check", "{prompt}"],
                     "stdin_args": ["exec", "--json", "--skip-git-repo-check", "-"], "output": "codex-jsonl"},
    },
    "gemini": {
        "description": "Google Gemini CLI (GEMINI.md; fixed ready delay)",
        "command": "gemini",
        "args": ["--approval-mode", "yolo"],
        "prompt_mode": "none",
        "ready_delay_ms": 5000,
        "busy_markers": ["esc to cancel"],
        "process_names": ["gemini", "node"],
        "instructions_file": "GEMINI.md",
        "resume_flag": "--resume",
        "settle_ms": 500,
        "interrupt_keys": ["Escape"],
        "headless": {"args": ["-p", "{prompt}", "--output-format", "json"],
                     "stdin_args": ["--output-format", "json"], "output": "gemini-json"},
    },
    "opencode": {
        "description": "OpenCode (AGENTS.md; all permissions allowed by env)",
        "command": "opencode",
        "env": {"OPENCODE_PERMISSION": '{"*":"allow"}'},
        "prompt_mode": "none",
        "ready_delay_ms": 8000,
        "process_names": ["opencode", "node", "bun"],
        "instructions_file": "AGENTS.md",
        "resume_flag": "--session",
        "continue_flag": "--continue",
        "interrupt_keys": ["Escape"],
        "headless": {"args": ["run", "{prompt}"], "output": "text"},
    },
    "aider": {
        "description": "Aider (prompt_toolkit TUI; one-shot with --message)",
        "command": "aider",
        "args": ["--yes-always"],
        "prompt_mode": "none",
        "ready_delay_ms": 5000,
        "process_names": ["aider", "python", "python3"],
        "headless": {"args": ["--message", "{prompt}", "--yes-always", "--no-auto-commits", "--no-pretty"],
                     "output": "text"},
    },
    "sim": {
        "description": "VerMAS simulated agent (claude-compatible: same settings, hooks, dialogs, headless JSON)",
        "command": "vermas-sim",
        "args": ["--dangerously-skip-permissions"],
        "prompt_mode": "arg",
        "ready_prompt_prefix": "❯ ",
        "ready_delay_ms": 0,
        "busy_markers": ["esc to interrupt"],
        "process_names": ["vermas-sim", "python", "python3"],
        "hooks": "claude",
        "settings_flag": "--settings",
        "instructions_file": "CLAUDE.md",
        "resume_flag": "--resume",
        "continue_flag": "--continue",
        "resume_style": "flag",
        "paste": "bracketed",
        "settle_ms": 0,
        "interrupt_keys": ["Escape"],
        "clear_input_keys": ["C-u"],
        "dialogs": ["workspace-trust", "bypass-permissions"],
        "headless": _CLAUDE_HEADLESS,
    },
}


def preset_names() -> list[str]:
    return list(PRESETS)


def load_runtimes(user: dict | None = None, *, source: str = "config") -> dict[str, RuntimeSpec]:
    """Every runtime: presets, then user tables (which may extend or shadow presets)."""
    specs = {name: parse_runtime(name, table, source="preset") for name, table in PRESETS.items()}
    user = dict(user or {})
    resolving: list[str] = []

    def build(name: str) -> RuntimeSpec:
        if name in resolving:
            chain = " -> ".join([*resolving, name])
            raise RuntimeConfigError(f"runtime {name!r}: 'extends' cycle ({chain})",
                                     hint="break the cycle in the runtimes config")
        table = user[name]
        if not isinstance(table, dict):
            raise RuntimeConfigError(f"runtime {name!r} ({source}): must be a table, got {type(table).__name__}")
        base = None
        parent = table.get("extends")
        if parent is not None:
            if not isinstance(parent, str):
                raise RuntimeConfigError(f"runtime {name!r} ({source}): key 'extends' must be a runtime name")
            resolving.append(name)
            try:
                if parent in user and parent != name:
                    base = built.get(parent) or build(parent)
                elif parent in specs:
                    base = specs[parent]
                else:
                    raise UnknownRuntimeError(f"runtime {name!r} ({source}) extends unknown runtime {parent!r}",
                                              hint="known: " + ", ".join(sorted(set(specs) | set(user))))
            finally:
                resolving.pop()
        spec = parse_runtime(name, {k: v for k, v in table.items() if k != "extends"}, base=base, source=source)
        built[name] = spec
        return spec

    built: dict[str, RuntimeSpec] = {}
    for name in user:
        if name not in built:
            build(name)
    specs.update(built)
    return specs


def get_runtime(name: str | None = None, user: dict | None = None, *, source: str = "config") -> RuntimeSpec:
    """One runtime by name (default ``claude``), user-defined ones included."""
    name = name or DEFAULT_RUNTIME
    specs = load_runtimes(user, source=source)
    spec = specs.get(name)
    if spec is None:
        raise UnknownRuntimeError(f"unknown runtime {name!r}",
                                  hint="known runtimes: " + ", ".join(sorted(specs)) + " (vermas runtime list)")
    return spec


def load_runtime_file(path: str) -> dict:
    """The ``{name: table}`` runtimes of a TOML (``[runtimes.<name>]``) or JSON (``{"runtimes": …}``) file."""
    from vermas.errors import DataError, NotFoundError

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise NotFoundError(f"runtimes config {path} does not exist") from None
    try:
        if path.endswith(".json"):
            import json

            data = json.loads(raw.decode("utf-8"))
        else:
            import tomllib

            data = tomllib.loads(raw.decode("utf-8"))
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors
        raise DataError(f"{path}: cannot parse runtimes config: {exc}") from None
    runtimes = data.get("runtimes", {}) if isinstance(data, dict) else None
    if not isinstance(runtimes, dict):
        raise DataError(f"{path}: 'runtimes' must be a table of runtime tables")
    return runtimes


def resolve_command(command: str, environ: dict | None = None) -> str | None:
    """Absolute path of a runtime's binary: PATH first, then beside this Python (the venv's bin)."""
    import shutil

    if os.sep in command:
        return command if os.access(command, os.X_OK) else None
    env = os.environ if environ is None else environ
    found = shutil.which(command, path=env.get("PATH"))
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), command)
    if os.access(beside, os.X_OK):
        return beside
    return None
