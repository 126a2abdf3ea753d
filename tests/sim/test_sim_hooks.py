"""The sim's hook runner follows Claude Code's hook contract (matchers, stdin JSON, exit codes, JSON output)."""

from __future__ import annotations

import json
import sys

import pytest

from vermas.sim.hooks import HookRunner, load_settings, matches

PY = sys.executable


def runner(tmp_path, hooks: dict) -> HookRunner:
    return HookRunner({"hooks": hooks}, cwd=str(tmp_path), session_id="sess-1", transcript_path="/t.jsonl",
                      env={"PATH": "/usr/bin:/bin"})


_scripts = iter(range(10_000))


def cmd(code: str, tmp_path) -> dict:
    """A hook command running ``code`` with Python (written to a file: no shell quoting games)."""
    path = tmp_path / f"hook{next(_scripts)}.py"
    path.write_text(code)
    return {"type": "command", "command": f"{PY} {path}"}


@pytest.mark.parametrize(("matcher", "value", "expected"), [
    (None, "Bash", True), ("", "Bash", True), ("*", "Write", True), ("Bash", "Bash", True), ("Bash", "BashX", False),
    ("Edit|Write", "Write", True), ("Edit|Write", "MultiEdit", False), ("Notebook.*", "NotebookEdit", True),
    ("^mcp__", "mcp__github__x", True), ("startup|resume", "compact", False), ("[", "x", False),
])
def test_matcher_semantics(matcher, value, expected):
    assert matches(matcher, value) is expected


def test_stdin_payload_and_context_output(tmp_path):
    out = tmp_path / "payload.json"
    hooks = {"SessionStart": [{"matcher": "startup", "hooks": [
        {"type": "command", "command": f"cat > {out}; echo plain context"}]}],
        "UserPromptSubmit": [{"hooks": [cmd(
            'import json; print(json.dumps({"hookSpecificOutput": {"additionalContext": "json ctx"}}))', tmp_path)]}]}
    r = runner(tmp_path, hooks)
    start = r.fire("SessionStart", {"source": "startup"}, match_value="startup")
    assert start.contexts == ["plain context"] and not start.blocked
    payload = json.loads(out.read_text())
    assert payload == {"session_id": "sess-1", "transcript_path": "/t.jsonl", "cwd": str(tmp_path),
                       "permission_mode": "default", "hook_event_name": "SessionStart", "source": "startup"}
    assert r.fire("SessionStart", {"source": "resume"}, match_value="resume").ran == []
    assert r.fire("UserPromptSubmit", {"prompt": "x"}).contexts == ["json ctx"]


def test_exit_2_blocks_and_other_errors_do_not(tmp_path):
    hooks = {"PreToolUse": [
        {"matcher": "Bash", "hooks": [cmd("import sys; sys.stderr.write('nope'); sys.exit(2)", tmp_path)]},
        {"matcher": "Write", "hooks": [cmd("import sys; sys.exit(1)", tmp_path)]}],
        "SessionStart": [{"hooks": [cmd("import sys; sys.exit(2)", tmp_path)]}]}
    r = runner(tmp_path, hooks)
    bash = r.fire("PreToolUse", {"tool_name": "Bash"}, match_value="Bash")
    assert bash.blocked and bash.reasons == ["nope"]
    write = r.fire("PreToolUse", {"tool_name": "Write"}, match_value="Write")
    assert not write.blocked and write.errors and "hook error" in write.errors[0]
    assert not r.fire("SessionStart", {}).blocked  # exit 2 cannot block a SessionStart


def test_json_decisions(tmp_path):
    deny = ('import json; print(json.dumps({"hookSpecificOutput": {"permissionDecision": "deny", '
            '"permissionDecisionReason": "policy"}}))')
    block = 'import json; print(json.dumps({"decision": "block", "reason": "keep going"}))'
    stop = 'import json; print(json.dumps({"continue": False, "stopReason": "enough"}))'
    r = runner(tmp_path, {"PreToolUse": [{"hooks": [cmd(deny, tmp_path)]}],
                          "Stop": [{"hooks": [cmd(block, tmp_path), cmd(stop, tmp_path)]}]})
    pre = r.fire("PreToolUse", {}, match_value="Bash")
    assert pre.blocked and pre.reasons == ["policy"]
    st = r.fire("Stop", {"stop_hook_active": False})
    assert st.blocked and st.reasons == ["keep going"] and st.stop_agent == "enough"


def test_hook_timeout_is_a_non_blocking_error(tmp_path):
    r = runner(tmp_path, {"Stop": [{"hooks": [{"type": "command", "command": "sleep 5", "timeout": 0.3}]}]})
    outcome = r.fire("Stop", {})
    assert not outcome.blocked and "timed out" in outcome.errors[0]


def test_load_settings_from_path_or_json(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"hooks": {}}')
    assert load_settings(str(path)) == {"hooks": {}}
    assert load_settings('{"skipDangerousModePermissionPrompt": true}') == {"skipDangerousModePermissionPrompt": True}
    assert load_settings(None) == {}
    with pytest.raises(ValueError):
        load_settings("[1]")
