from __future__ import annotations

import json
import os


def test_every_cli_call_from_a_session_touches_its_activity_record(cli, tmp_path):
    runtime = tmp_path / "rt"
    path = runtime / "activity" / "vm-app-nux.json"
    env = {"VERMAS_SESSION": "vm-app-nux", "VERMAS_RUNTIME_DIR": str(runtime)}
    cli("--version", env=env)
    first = json.loads(path.read_text())
    assert first["session"] == "vm-app-nux" and first["state"] == "unknown" and first["cli_calls"] == 1
    path.write_text(json.dumps({**first, "state": "busy", "event": "UserPromptSubmit", "prompts": 4, "ts": 1.0}))
    cli("status", env=env)  # within a second of the last write: nothing to do
    assert json.loads(path.read_text())["cli_calls"] == 1
    os.utime(path, (1.0, 1.0))  # the last write is old: the next call writes again
    cli("status", env=env)  # fails (no town) but still counts as a sign of life
    second = json.loads(path.read_text())
    assert (second["state"], second["event"], second["prompts"]) == ("busy", "UserPromptSubmit", 4)
    assert second["ts"] > 1.0 and second["cli_calls"] == 2 and second["last_cli"] == "status"
    os.utime(path, (1.0, 1.0))
    cli("--version")  # not an agent session: no record written
    cli("prime", "--hook", env=env)  # a hook command that records activity itself
    assert json.loads(path.read_text())["cli_calls"] == 2
    assert not [f for f in os.listdir(path.parent) if ".tmp." in f]
