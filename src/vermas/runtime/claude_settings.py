"""Claude Code settings and hooks for a role, in Claude Code's real format; role text in CLAUDE.md.

The generated file is passed with ``--settings <file>`` (Claude Code and the simulated
agent both read it). Format, as documented by Claude Code::

    {"hooks": {"<Event>": [{"matcher": "<regex on tool name or source>",
                             "hooks": [{"type": "command", "command": "<shell command>", "timeout": <s>}]}]}}

Hooks receive one JSON object on stdin (``session_id``, ``transcript_path``, ``cwd``,
``hook_event_name`` and the event's fields); stdout of ``SessionStart`` and
``UserPromptSubmit`` hooks is added to the agent's context; exit code 2 from a
``PreToolUse`` hook blocks the tool call (stderr is shown to the agent).

Default hooks per role:

==================  ========  ==============================================
event               matcher   command
==================  ========  ==============================================
SessionStart        ""        ``vermas prime --hook``
PreCompact          ""        ``vermas prime --hook``
UserPromptSubmit    (none)    ``vermas mail check --inject`` (drains the nudge queue)
Stop                (none)    ``vermas signal stop`` (turn boundary: idle + queued nudges)
PreToolUse          ``Bash``  ``vermas signal guard`` (exit 2 blocks dangerous commands)
==================  ========  ==============================================
"""

from __future__ import annotations

import json
import os
import shlex
import sys

HOOK_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SubagentStop",
               "PreCompact", "SessionEnd", "Notification")
# Events whose matcher Claude Code ignores (the key may be omitted).
MATCHERLESS = ("UserPromptSubmit", "Stop", "SubagentStop", "Notification", "SessionEnd")
SETTINGS_DIRNAME = ".claude"
SETTINGS_FILENAME = "settings.json"


def vermas_command() -> str:
    """How hooks should call ``vermas``: the absolute path beside this Python when it exists."""
    beside = os.path.join(os.path.dirname(sys.executable), "vermas")
    return beside if os.access(beside, os.X_OK) else "vermas"


def default_hooks(role: str | None = None, *, vermas: str | None = None, guard: bool = True) -> dict:
    """The default hook table ``{event: [(matcher, command, timeout)]}`` for a role."""
    v = shlex.quote(vermas or vermas_command())
    hooks: dict[str, list[tuple[str | None, str, int]]] = {
        "SessionStart": [("", f"{v} prime --hook", 60)],
        "PreCompact": [("", f"{v} prime --hook", 60)],
        "UserPromptSubmit": [(None, f"{v} mail check --inject", 30)],
        "Stop": [(None, f"{v} signal stop", 30)],
    }
    if guard:
        hooks["PreToolUse"] = [("Bash", f"{v} signal guard", 10)]
    return hooks


def build_settings(role: str | None = None, *, vermas: str | None = None, guard: bool = True,
                   overrides: dict | None = None, extra: dict | None = None) -> dict:
    """A Claude Code settings object for ``role``.

    ``overrides`` replaces whole events: ``{"PreCompact": [("", "vermas handoff --cycle", 60)]}``
    (an empty list removes the event). ``extra`` is merged into the top level (e.g. ``env``,
    ``permissions``). ``skipDangerousModePermissionPrompt`` is set so
    ``--dangerously-skip-permissions`` starts without its warning dialog.
    """
    table = default_hooks(role, vermas=vermas, guard=guard)
    for event, entries in (overrides or {}).items():
        if event not in HOOK_EVENTS:
            from vermas.errors import UsageError

            raise UsageError(f"unknown Claude Code hook event {event!r}", hint="events: " + ", ".join(HOOK_EVENTS))
        table[event] = list(entries)
    hooks: dict[str, list] = {}
    for event in HOOK_EVENTS:
        entries = table.get(event)
        if not entries:
            continue
        groups: dict[str | None, list] = {}
        for matcher, command, timeout in entries:
            hook = {"type": "command", "command": command}
            if timeout:
                hook["timeout"] = timeout
            groups.setdefault(matcher, []).append(hook)
        out = []
        for matcher, hook_list in groups.items():
            group: dict = {}
            if matcher is not None and event not in MATCHERLESS:
                group["matcher"] = matcher
            group["hooks"] = hook_list
            out.append(group)
        hooks[event] = out
    settings: dict = {"skipDangerousModePermissionPrompt": True, "hooks": hooks}
    if extra:
        settings.update(extra)
    return settings


def settings_path(directory: str) -> str:
    """Where a role's settings file lives: ``<directory>/.claude/settings.json``."""
    return os.path.join(directory, SETTINGS_DIRNAME, SETTINGS_FILENAME)


def write_settings(path: str, settings: dict) -> str:
    """Write ``settings`` atomically (creating the directory); return the path."""
    from vermas.fileops import atomic_write_text

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return path


def write_role_instructions(workdir: str, text: str, filename: str = "CLAUDE.md") -> str:
    """Write the role text to ``<workdir>/<filename>`` (Claude Code reads it as project memory)."""
    from vermas.fileops import atomic_write_text

    path = os.path.join(workdir, filename)
    atomic_write_text(path, text if text.endswith("\n") else text + "\n")
    return path


def validate_settings(settings: object) -> list[str]:
    """Problems with a settings object's ``hooks`` (empty list = valid); used by ``runtime check``."""
    problems: list[str] = []
    if not isinstance(settings, dict):
        return ["settings must be a JSON object"]
    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        return ["'hooks' must be an object"]
    for event, groups in hooks.items():
        if event not in HOOK_EVENTS:
            problems.append(f"unknown hook event {event!r}")
        if not isinstance(groups, list):
            problems.append(f"{event}: must be a list of matcher groups")
            continue
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                problems.append(f"{event}[{i}]: needs a 'hooks' list")
                continue
            if "matcher" in group and not isinstance(group["matcher"], str):
                problems.append(f"{event}[{i}]: 'matcher' must be a string")
            for j, hook in enumerate(group["hooks"]):
                ok = isinstance(hook, dict) and hook.get("type") == "command" and isinstance(hook.get("command"), str)
                if not ok:
                    problems.append(f"{event}[{i}].hooks[{j}]: needs type 'command' and a command string")
    return problems
