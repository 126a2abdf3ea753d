"""verify.runtime is an alias of verify.runtime.default, so per-role runtime keys coexist with it."""

import json

from vermas.town import config


def test_alias_and_role_keys_coexist_in_one_settings_file(tmp_path):
    path = str(tmp_path / "settings" / "config.json")
    config.write_setting(path, "rig-settings", "verify.runtime", "sim")
    config.write_setting(path, "rig-settings", "verify.runtime.judge", "claude")
    cfg = config.Config(town_settings=None, rig_settings=path, environ={"HOME": str(tmp_path)})
    assert cfg.lookup("verify.runtime") == ("sim", "rig")
    assert cfg.lookup("verify.runtime.default") == ("sim", "rig")
    assert cfg.lookup("verify.runtime.judge") == ("claude", "rig")
    with open(path, encoding="utf-8") as fh:
        assert json.load(fh)["verify"]["runtime"] == {"default": "sim", "judge": "claude"}


def test_an_old_leaf_value_is_migrated_to_its_table_form(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"type": "rig-settings", "version": 1, "verify": {"runtime": "codex"}}))
    cfg = config.Config(town_settings=None, rig_settings=str(path), environ={"HOME": str(tmp_path)})
    assert cfg.get("verify.runtime.default") == "codex"
    config.write_setting(str(path), "rig-settings", "verify.runtime.critic", "sim")
    data = json.loads(path.read_text())
    assert data["verify"]["runtime"] == {"default": "codex", "critic": "sim"}


def test_env_names_of_keys_keep_working():
    cfg = config.Config(town_settings=None, environ={"VERMAS_VERIFY_RUNTIME": "gemini", "VERMAS_VERIFY_RESLING": "0",
                                                     "VERMAS_VERIFY_MAX_REWORKS": "5", "HOME": "/nonexistent"})
    assert cfg.lookup("verify.runtime.default") == ("gemini", "env")
    assert cfg.get("verify.resling") is False
    assert cfg.get("verify.max_reworks") == 5
