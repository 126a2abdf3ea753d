"""The hook commands: `vermas mail check [--inject]`, `vermas signal stop`, `vermas signal guard`."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import run_vermas
from vermas.runtime import activity
from vermas.runtime import nudge_queue as q

HOOK_ENV = {"VERMAS_SESSION": "vm-app-nux"}


@pytest.fixture
def hook_env(runtime_dir):
    return {**HOOK_ENV, "VERMAS_RUNTIME_DIR": runtime_dir}


def test_mail_check_inject_drains_once_and_records_the_prompt(cli, runtime_dir, hook_env):
    q.enqueue(runtime_dir, "vm-app-nux", "look at app-x1", sender="witness")
    stdin = json.dumps({"session_id": "abc-123", "hook_event_name": "UserPromptSubmit", "prompt": "hi"})
    r = cli("mail", "check", "--inject", stdin=stdin, env=hook_env)
    assert r.exit_code == 0
    assert r.stdout.startswith("<system-reminder>") and "look at app-x1" in r.stdout and "from witness" in r.stdout
    record = activity.read(runtime_dir, "vm-app-nux")
    assert record["state"] == "busy" and record["prompts"] == 1 and record["agent_session_id"] == "abc-123"
    r = cli("mail", "check", "--inject", stdin=stdin, env=hook_env)
    assert r.exit_code == 0 and r.stdout == ""  # exactly once
    assert activity.read(runtime_dir, "vm-app-nux")["prompts"] == 2


def test_mail_check_inject_never_fails_a_hook(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("VERMAS_RUNTIME_DIR", raising=False)
    r = cli("mail", "check", "--inject", stdin="not json", cwd=str(tmp_path))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    r = cli("mail", "check", cwd=str(tmp_path), env=HOOK_ENV)
    assert r.exit_code == 3 and "no runtime dir" in r.stderr and "hint:" in r.stderr


def test_mail_check_reports_without_consuming(cli, runtime_dir, hook_env):
    q.enqueue(runtime_dir, "vm-app-nux", "pending one", sender="mayor")
    r = cli("mail", "check", "--json", env=hook_env)
    assert r.exit_code == 0
    data = r.json()
    assert data["queued_nudges"] == 1 and data["nudges"][0]["message"] == "pending one"
    r = cli("mail", "check", "--session", "vm-app-nux", env={"VERMAS_RUNTIME_DIR": runtime_dir})
    assert "1 queued nudge(s)" in r.stdout and "pending one" in r.stdout
    assert q.count(runtime_dir, "vm-app-nux") == 1
    r = cli("mail", "check", env={"VERMAS_RUNTIME_DIR": runtime_dir})
    assert r.exit_code == 2 and "which agent" in r.stderr


def test_session_is_derived_from_bd_actor(cli, runtime_dir):
    q.enqueue(runtime_dir, "vm-app-witness", "for the witness")
    r = cli("mail", "check", "--inject", env={"BD_ACTOR": "app/witness", "VERMAS_RUNTIME_DIR": runtime_dir})
    assert "for the witness" in r.stdout


def test_signal_stop_records_idle_and_blocks_with_queued_nudges(cli, runtime_dir, hook_env):
    r = cli("signal", "stop", stdin=json.dumps({"session_id": "s1", "stop_hook_active": False}), env=hook_env)
    assert (r.exit_code, r.stdout) == (0, "")
    record = activity.read(runtime_dir, "vm-app-nux")
    assert record["state"] == "idle" and record["turns"] == 1 and record["event"] == "Stop"
    q.enqueue(runtime_dir, "vm-app-nux", "queued while busy", sender="refinery")
    r = cli("signal", "stop", stdin="{}", env=hook_env)
    decision = json.loads(r.stdout)
    assert decision["decision"] == "block" and "queued while busy" in decision["reason"]
    assert activity.read(runtime_dir, "vm-app-nux")["state"] == "busy"  # the agent keeps going
    assert q.count(runtime_dir, "vm-app-nux") == 0
    q.enqueue(runtime_dir, "vm-app-nux", "kept")
    r = cli("signal", "stop", "--no-drain", stdin="{}", env=hook_env)
    assert r.stdout == "" and q.count(runtime_dir, "vm-app-nux") == 1


def test_signal_guard_blocks_with_exit_2(cli):
    danger = json.dumps({"tool_name": "Bash", "tool_input": {"command": "git push --force origin main"}})
    r = cli("signal", "guard", stdin=danger)
    assert r.exit_code == 2 and "BLOCKED by vermas signal guard" in r.stderr and r.stdout == ""
    safe = json.dumps({"tool_name": "Bash", "tool_input": {"command": "pytest -q"}})
    assert cli("signal", "guard", stdin=safe).exit_code == 0
    other_tool = json.dumps({"tool_name": "Write", "tool_input": {"file_path": "/etc/passwd"}})
    assert cli("signal", "guard", stdin=other_tool).exit_code == 0
    assert cli("signal", "guard", stdin="garbage").exit_code == 1
    assert cli("signal", "guard", "--command", "sudo rm x").exit_code == 2
    assert cli("signal", "guard", "--help").exit_code == 0


def test_real_console_scripts_read_hook_json_from_stdin(runtime_dir, tmp_path):
    env = {**HOOK_ENV, "VERMAS_RUNTIME_DIR": runtime_dir}
    q.enqueue(runtime_dir, "vm-app-nux", "via the real script")
    r = run_vermas("mail", "check", "--inject", cwd=str(tmp_path), env=env,
                   input=json.dumps({"session_id": "real", "hook_event_name": "UserPromptSubmit"}))
    assert r.returncode == 0 and "via the real script" in r.stdout
    r = run_vermas("signal", "guard", cwd=str(tmp_path), env=env,
                   input=json.dumps({"tool_name": "Bash", "tool_input": {"command": "rm -rf /"}}))
    assert r.returncode == 2 and "rm -r /" in r.stderr
    r = run_vermas("signal", "stop", cwd=str(tmp_path), env=env, input="{}")
    assert r.returncode == 0
    assert activity.read(runtime_dir, "vm-app-nux")["agent_session_id"] == "real"
    assert os.path.isfile(os.path.join(runtime_dir, "activity", "vm-app-nux.json"))
