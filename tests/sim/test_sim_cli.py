"""`vermas-sim` as a program: headless answers, flags, errors, line-mode prompts and slash commands."""

from __future__ import annotations

import json
import subprocess

from tests.sim.conftest import SIM

JUDGE = 'ROLE: judge\n```evidence\n{"criteria": [{"id": "AC-1", "passed": true}]}\n```'


def run(*args, stdin=None, env=None, cwd=None):
    import os

    return subprocess.run([SIM, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**os.environ, "VERMAS_SIM_HOOK_CMD": "none", **(env or {})})


def test_headless_text_and_json(tmp_path):
    r = run("-p", JUDGE)
    assert r.returncode == 0 and json.loads(r.stdout)["verdict"] == "PASS"
    r = run("-p", JUDGE, "--output-format", "json", "--session-id", "s-1")
    envelope = json.loads(r.stdout)
    assert envelope["type"] == "result" and envelope["subtype"] == "success" and envelope["session_id"] == "s-1"
    assert json.loads(envelope["result"])["verdict"] == "PASS"
    r = run("-p", stdin=JUDGE)
    assert json.loads(r.stdout)["verdict"] == "PASS"


def test_headless_faults(tmp_path):
    r = run("-p", JUDGE, "--fault", "garbage-verdict", "--output-format", "json")
    assert r.returncode == 0
    result = json.loads(r.stdout)["result"]
    try:
        json.loads(result)
        raise AssertionError("a garbage verdict must not be JSON")
    except ValueError:
        pass
    r = run("-p", JUDGE, env={"VERMAS_SIM_FAULTS": "crash"})
    assert r.returncode == 1 and "simulated crash" in r.stderr


def test_headless_fires_hooks_from_settings(tmp_path):
    log = tmp_path / "log"
    settings = {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"cat >> {log}"}]}],
                          "Stop": [{"hooks": [{"type": "command", "command": f"echo STOP >> {log}"}]}]}}
    r = run("-p", JUDGE, "--settings", json.dumps(settings))
    assert r.returncode == 0
    text = log.read_text()
    assert '"hook_event_name": "UserPromptSubmit"' in text and "ROLE: judge" in text and text.endswith("STOP\n")
    settings["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"] = "echo no >&2; exit 2"
    r = run("-p", JUDGE, "--settings", json.dumps(settings))
    assert r.returncode == 1 and "blocked by UserPromptSubmit hook: no" in r.stderr


def test_bad_flags_and_settings(tmp_path):
    r = run("--fault", "explode")
    assert r.returncode == 2 and "unknown fault 'explode'" in r.stderr
    r = run("--settings", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read --settings" in r.stderr
    r = run("--help")
    assert r.returncode == 0 and "docs/SIM_AGENT.md" in r.stdout
    assert run("--version").stdout.startswith("vermas-sim")


def test_line_mode_prompts_and_slash_commands(tmp_path):
    transcript = tmp_path / "t.jsonl"
    r = run(stdin="hello\n/bash echo from-bash\n/status\n/nonsense\n/exit\nnever read\n", cwd=str(tmp_path),
            env={"VERMAS_SIM_TRANSCRIPT": str(transcript)})
    assert r.returncode == 0
    assert "from-bash" in r.stdout and "Unknown command /nonsense" in r.stdout and "faults none" in r.stdout
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [e["text"] for e in events if e["event"] == "prompt"] == ["hello", "/bash echo from-bash", "/status",
                                                                     "/nonsense", "/exit"]
    assert events[-1] == {**events[-1], "event": "exit", "code": 0}


def test_resume_fires_session_start_with_source_resume(tmp_path):
    log = tmp_path / "log"
    settings = {"hooks": {"SessionStart": [{"matcher": "resume", "hooks": [
        {"type": "command", "command": f"cat > {log}; echo resumed-context"}]}]}}
    r = run("--resume", "abc", "--settings", json.dumps(settings), stdin="")
    assert r.returncode == 0 and "resumed-context" in r.stdout
    payload = json.loads(log.read_text())
    assert payload["source"] == "resume" and payload["session_id"] == "abc"
