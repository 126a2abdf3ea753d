"""Claude Code hooks, fired by the simulated agent exactly the way Claude Code fires them.

Settings come from ``--settings <file or JSON>``. For an event, every matcher group whose
``matcher`` matches runs its ``command`` hooks (through ``bash -c``, with the event's JSON on
stdin and ``CLAUDE_PROJECT_DIR`` set). Matching: a missing, empty or ``*`` matcher matches
everything; a matcher of letters, digits, ``_`` and ``|`` is a list of exact names
(``Edit|Write``); anything else is a regular expression searched in the name (tool name for
``PreToolUse``/``PostToolUse``, source for ``SessionStart``, trigger for ``PreCompact``).

Outcomes, per Claude Code's contract:

- exit 0: stdout is added to the agent's context for ``SessionStart`` and
  ``UserPromptSubmit`` (plain text, or ``hookSpecificOutput.additionalContext`` of a JSON
  object); a JSON object may also carry ``"decision": "block"`` + ``"reason"`` (Stop,
  UserPromptSubmit, PostToolUse), ``"continue": false`` + ``"stopReason"``, or
  ``hookSpecificOutput.permissionDecision`` ``"deny"`` (PreToolUse);
- exit 2: a blocking error; stderr is the reason (blocks the tool for PreToolUse, erases the
  prompt for UserPromptSubmit, keeps the agent working for Stop);
- any other exit: a non-blocking error, shown to the user, nothing blocked.

Hooks of one event run one after the other (Claude Code runs them in parallel; order is
irrelevant to their contract).
"""

from __future__ import annotations

import json
import os
import re
import subprocess

BLOCKING_EVENTS = ("PreToolUse", "UserPromptSubmit", "Stop", "SubagentStop", "PostToolUse")
CONTEXT_EVENTS = ("SessionStart", "UserPromptSubmit")


class Outcome:
    """What the hooks of one event decided."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.blocked = False
        self.reasons: list[str] = []      # why it was blocked (shown to the agent)
        self.contexts: list[str] = []     # text added to the agent's context
        self.errors: list[str] = []       # non-blocking errors (shown to the user)
        self.stop_agent: str | None = None  # "continue": false
        self.ran: list[dict] = []         # {"command", "exit", "stdout", "stderr"} per hook

    def as_dict(self) -> dict:
        return {"event": self.event, "blocked": self.blocked, "reasons": self.reasons, "contexts": self.contexts,
                "errors": self.errors, "stop_agent": self.stop_agent, "ran": self.ran}


def load_settings(value: str | None) -> dict:
    """``--settings`` accepts a path or a JSON string, like Claude Code."""
    if not value:
        return {}
    text = value
    if not value.lstrip().startswith(("{", "[")):
        with open(value, encoding="utf-8") as fh:
            text = fh.read()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("settings must be a JSON object")
    return data


def matches(matcher: object, value: str | None) -> bool:
    if matcher in (None, "", "*"):
        return True
    if not isinstance(matcher, str):
        return False
    if re.fullmatch(r"[A-Za-z0-9_|]+", matcher):
        return (value or "") in matcher.split("|")
    try:
        return re.search(matcher, value or "") is not None
    except re.error:
        return False


class HookRunner:
    def __init__(self, settings: dict, *, cwd: str, session_id: str, transcript_path: str = "",
                 permission_mode: str = "default", env: dict | None = None) -> None:
        hooks = settings.get("hooks") if isinstance(settings, dict) else None
        self.hooks = hooks if isinstance(hooks, dict) else {}
        self.cwd = cwd
        self.session_id = session_id
        self.transcript_path = transcript_path
        self.permission_mode = permission_mode
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("CLAUDE_PROJECT_DIR", cwd)

    def commands_for(self, event: str, match_value: str | None = None) -> list[dict]:
        out = []
        for group in self.hooks.get(event) or []:
            if not isinstance(group, dict) or not matches(group.get("matcher"), match_value):
                continue
            for hook in group.get("hooks") or []:
                if isinstance(hook, dict) and hook.get("type") == "command" and isinstance(hook.get("command"), str):
                    out.append(hook)
        return out

    def fire(self, event: str, fields: dict | None = None, *, match_value: str | None = None) -> Outcome:
        outcome = Outcome(event)
        hooks = self.commands_for(event, match_value)
        if not hooks:
            return outcome
        payload = {"session_id": self.session_id, "transcript_path": self.transcript_path, "cwd": self.cwd,
                   "permission_mode": self.permission_mode, "hook_event_name": event, **(fields or {})}
        data = json.dumps(payload, ensure_ascii=False)
        for hook in hooks:
            self._run_one(hook, data, outcome)
        return outcome

    def _run_one(self, hook: dict, data: str, outcome: Outcome) -> None:
        timeout = hook.get("timeout") if isinstance(hook.get("timeout"), int | float) else 60
        try:
            proc = subprocess.run(["bash", "-c", hook["command"]], input=data, capture_output=True, text=True,
                                  cwd=self.cwd, env=self.env, timeout=timeout)
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired:
            code, stdout, stderr = None, "", f"hook timed out after {timeout}s"
        except OSError as exc:
            code, stdout, stderr = None, "", f"hook could not run: {exc}"
        outcome.ran.append({"command": hook["command"], "exit": code, "stdout": stdout, "stderr": stderr})
        event = outcome.event
        if code == 2:
            if event in BLOCKING_EVENTS:
                outcome.blocked = True
                outcome.reasons.append(stderr.strip() or f"blocked by hook: {hook['command']}")
            else:
                outcome.errors.append(stderr.strip())
            return
        if code != 0:
            outcome.errors.append(f"{event} hook error ({hook['command']}): {stderr.strip() or code}")
            return
        parsed = _json_object(stdout)
        if parsed is None:
            if event in CONTEXT_EVENTS and stdout.strip():
                outcome.contexts.append(stdout.rstrip("\n"))
            return
        specific = parsed.get("hookSpecificOutput") if isinstance(parsed.get("hookSpecificOutput"), dict) else {}
        if parsed.get("continue") is False:
            outcome.stop_agent = str(parsed.get("stopReason") or "stopped by hook")
        if parsed.get("decision") == "block" and event in BLOCKING_EVENTS:
            outcome.blocked = True
            outcome.reasons.append(str(parsed.get("reason") or "blocked by hook"))
        if event == "PreToolUse" and specific.get("permissionDecision") == "deny":
            outcome.blocked = True
            outcome.reasons.append(str(specific.get("permissionDecisionReason") or "denied by hook"))
        extra = specific.get("additionalContext")
        if event in CONTEXT_EVENTS and isinstance(extra, str) and extra:
            outcome.contexts.append(extra)


def _json_object(text: str) -> dict | None:
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
