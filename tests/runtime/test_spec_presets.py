"""Runtimes as data: presets, user tables, validation errors, and `vermas runtime list|show|check`."""

from __future__ import annotations

import json

import pytest

from vermas.runtime.errors import RuntimeConfigError, UnknownRuntimeError
from vermas.runtime.presets import PRESETS, get_runtime, load_runtime_file, load_runtimes
from vermas.runtime.spec import parse_runtime


def test_every_preset_parses_and_has_the_documented_fields():
    specs = load_runtimes()
    assert set(specs) == {"claude", "codex", "gemini", "opencode", "aider", "sim"}
    claude = specs["claude"]
    assert claude.hooks == "claude" and claude.settings_flag == "--settings"
    assert claude.ready_prompt_prefix == "❯ " and "esc to interrupt" in claude.busy_markers
    assert claude.headless.args == ("-p", "{prompt}", "--output-format", "json")
    assert claude.headless.output == "claude-json" and claude.resume_flag == "--resume"
    assert claude.instructions_file == "CLAUDE.md"
    assert specs["codex"].headless.output == "codex-jsonl" and specs["codex"].resume_style == "subcommand"
    assert specs["gemini"].headless.output == "gemini-json"
    sim = specs["sim"]
    for key in ("hooks", "settings_flag", "ready_prompt_prefix", "busy_markers", "dialogs", "interrupt_keys"):
        assert getattr(sim, key) == getattr(claude, key), key  # the sim is claude-compatible
    assert all(spec.to_dict()["name"] == name for name, spec in specs.items())


def test_user_runtime_extends_a_preset_and_round_trips_through_to_dict():
    specs = load_runtimes({"mine": {"extends": "claude", "command": "my-claude", "args": ["--x"],
                                    "env": {"K": "v"}, "headless": {"output": "text", "args": ["q", "{prompt}"]}}})
    mine = specs["mine"]
    assert mine.command == "my-claude" and mine.args == ("--x",) and mine.env == {"K": "v"}
    assert mine.hooks == "claude" and mine.headless.output == "text"
    again = parse_runtime("mine", {k: v for k, v in mine.to_dict().items() if k not in ("name", "source")})
    assert again.to_dict() == {**mine.to_dict(), "source": "config"}


def test_user_runtimes_can_extend_each_other_and_shadow_presets():
    specs = load_runtimes({"b": {"extends": "a", "args": ["--b"]}, "a": {"command": "a-cli", "hooks": "none"},
                           "claude": {"extends": "claude", "args": []}})
    assert specs["b"].command == "a-cli" and specs["b"].args == ("--b",)
    assert specs["claude"].args == () and specs["claude"].source == "config"


@pytest.mark.parametrize(("table", "fragment"), [
    ({"command": "x", "hookz": "claude"}, "'hookz' unknown key"),
    ({"command": "x", "ready_delay_ms": "5s"}, "'ready_delay_ms' must be an integer"),
    ({"command": "x", "prompt_mode": "stdin"}, "'prompt_mode' must be one of"),
    ({"command": "x", "args": "--yolo"}, "'args' must be a list of strings"),
    ({"command": "x", "dialogs": ["login"]}, "unknown dialog 'login'"),
    ({"command": "x", "headless": {"args": ["-p"]}}, "must contain a \"{prompt}\""),
    ({"command": "x", "headless": {"output": "xml", "args": ["{prompt}"]}}, "'headless.output' must be one of"),
    ({"args": []}, "'command' is required"),
])
def test_invalid_tables_name_runtime_key_and_reason(table, fragment):
    with pytest.raises(RuntimeConfigError) as err:
        load_runtimes({"bad": table}, source="town settings")
    assert "runtime 'bad' (town settings)" in err.value.message and fragment in err.value.message


def test_extends_cycles_and_unknown_parents_are_reported():
    with pytest.raises(RuntimeConfigError, match="cycle"):
        load_runtimes({"a": {"extends": "b"}, "b": {"extends": "a"}})
    with pytest.raises(UnknownRuntimeError, match="extends unknown runtime 'nope'"):
        load_runtimes({"a": {"extends": "nope"}})
    with pytest.raises(UnknownRuntimeError):
        get_runtime("nope")


def test_runtime_files_toml_and_json(tmp_path):
    toml = tmp_path / "runtimes.toml"
    toml.write_text('[runtimes.fast]\nextends = "sim"\nargs = []\n')
    assert load_runtime_file(str(toml)) == {"fast": {"extends": "sim", "args": []}}
    js = tmp_path / "runtimes.json"
    js.write_text(json.dumps({"runtimes": {"j": {"command": "j"}}}))
    assert load_runtime_file(str(js)) == {"j": {"command": "j"}}
    broken = tmp_path / "broken.toml"
    broken.write_text("[runtimes.x\n")
    from vermas.errors import DataError

    with pytest.raises(DataError, match=r"broken\.toml"):
        load_runtime_file(str(broken))


def test_presets_are_plain_data():
    json.dumps(PRESETS)  # nothing but strings, numbers, lists and dicts


def test_runtime_list_show_check_cli(cli, tmp_path):
    r = cli("runtime", "list", "--json")
    assert r.exit_code == 0
    rows = {row["name"]: row for row in r.json()}
    assert rows["sim"]["installed"] is True and rows["sim"]["hooks"] == "claude"
    r = cli("runtime", "show", "sim", "--json")
    assert r.exit_code == 0 and r.json()["command"] == "vermas-sim"
    r = cli("runtime", "show", "nope")
    assert r.exit_code == 3 and "unknown runtime 'nope'" in r.stderr
    r = cli("runtime", "check", "sim", "--json")
    assert r.exit_code == 0
    (result,) = r.json()
    assert result["ok"] and result["version"].startswith("vermas-sim") and result["hooks"].startswith("installable")
    r = cli("runtime", "check", "sim", "claude")
    assert r.exit_code == 3 and "'claude' is not on PATH" in r.stdout
    config = tmp_path / "rt.toml"
    config.write_text('[runtimes.quiet]\nextends = "sim"\ndescription = "sim without args"\nargs = []\n')
    r = cli("runtime", "list", "--config", str(config))
    assert r.exit_code == 0 and "sim without args" in r.stdout
    r = cli("runtime", "--help")
    assert r.exit_code == 0 and "examples:" in r.stdout
