"""Claude Code settings generation in Claude Code's documented format."""

from __future__ import annotations

import json

import pytest

from vermas.errors import UsageError
from vermas.runtime import claude_settings as cs


def test_default_settings_use_the_real_hook_format():
    settings = cs.build_settings("polecat", vermas="/opt/bin/vermas")
    hooks = settings["hooks"]
    assert settings["skipDangerousModePermissionPrompt"] is True
    assert hooks["SessionStart"] == [{"matcher": "", "hooks": [
        {"type": "command", "command": "/opt/bin/vermas prime --hook", "timeout": 60}]}]
    assert hooks["PreCompact"][0]["hooks"][0]["command"] == "/opt/bin/vermas prime --hook"
    assert hooks["UserPromptSubmit"] == [{"hooks": [
        {"type": "command", "command": "/opt/bin/vermas mail check --inject", "timeout": 30}]}]
    assert hooks["Stop"][0]["hooks"][0]["command"] == "/opt/bin/vermas signal stop"
    assert "matcher" not in hooks["Stop"][0]
    assert hooks["PreToolUse"] == [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "/opt/bin/vermas signal guard", "timeout": 10}]}]
    assert cs.validate_settings(settings) == []


def test_overrides_replace_or_remove_events_and_paths_are_quoted():
    settings = cs.build_settings(vermas="/path with space/vermas", guard=False,
                                 overrides={"PreCompact": [("", "vermas handoff --cycle", 60)], "SessionStart": []},
                                 extra={"env": {"X": "1"}})
    assert "SessionStart" not in settings["hooks"] and "PreToolUse" not in settings["hooks"]
    assert settings["hooks"]["PreCompact"][0]["hooks"][0]["command"] == "vermas handoff --cycle"
    assert settings["hooks"]["Stop"][0]["hooks"][0]["command"] == "'/path with space/vermas' signal stop"
    assert settings["env"] == {"X": "1"}
    with pytest.raises(UsageError):
        cs.build_settings(overrides={"OnFire": []})


def test_write_settings_and_role_instructions(tmp_path):
    path = cs.write_settings(cs.settings_path(str(tmp_path)), cs.build_settings("witness"))
    assert path == str(tmp_path / ".claude" / "settings.json")
    with open(path) as fh:
        assert cs.validate_settings(json.load(fh)) == []
    md = cs.write_role_instructions(str(tmp_path), "# Witness\nWatch the polecats.")
    with open(md) as fh:
        assert fh.read() == "# Witness\nWatch the polecats.\n"


def test_validate_settings_names_problems():
    assert cs.validate_settings([]) == ["settings must be a JSON object"]
    problems = cs.validate_settings({"hooks": {"Stopp": [], "Stop": [{"hooks": [{"type": "shell"}]}],
                                               "PreToolUse": [{"matcher": 3, "hooks": []}]}})
    assert any("unknown hook event 'Stopp'" in p for p in problems)
    assert any("Stop[0].hooks[0]" in p for p in problems)
    assert any("'matcher' must be a string" in p for p in problems)
