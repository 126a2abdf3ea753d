"""Headless one-shot prompts: answers, and typed errors for timeouts, exits and garbage (never silent success).

The real agent CLIs are not installed here, so the claude/gemini/codex output parsers run
against small stand-in executables that print those CLIs' documented output formats.
"""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from vermas.runtime.errors import (
    HeadlessExitError,
    HeadlessNotInstalledError,
    HeadlessOutputError,
    HeadlessTimeoutError,
)
from vermas.runtime.headless import parse_answer_json, parse_output, run_headless
from vermas.runtime.presets import get_runtime

JUDGE = ('ROLE: judge\n```evidence\n{"criteria": [{"id": "AC-1", "description": "prints 100 lines", '
         '"result": {"status": "pass", "exit_code": 0}}, {"id": "AC-2", "description": "line 15 is FizzBuzz", '
         '"fix_hint": "check 15 first", "result": {"status": "fail", "exit_code": 1}}]}\n```')


def sim(**env):
    spec = get_runtime("sim")
    return spec.with_overrides(env=env) if env else spec


def fake_cli(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_sim_judge_answers_through_the_claude_envelope(tmp_path):
    result = run_headless(sim(), JUDGE, cwd=str(tmp_path), timeout=60)
    assert result.data["type"] == "result" and result.data["is_error"] is False and result.session_id
    verdict = result.json()
    assert verdict["verdict"] == "FAIL" and "check 15 first" in verdict["required_fixes"][0]
    assert result.returncode == 0 and result.duration_ms > 0 and result.argv[1] == "-p"


def test_long_prompts_go_through_stdin(tmp_path):
    filler = "x" * 150_000
    result = run_headless(sim(), JUDGE.replace("ROLE: judge", "ROLE: judge\n" + filler), cwd=str(tmp_path), timeout=60)
    assert filler not in " ".join(result.argv)
    assert result.json()["verdict"] == "FAIL"


def test_timeout_kills_the_process_group_and_is_typed(tmp_path):
    started = time.monotonic()
    with pytest.raises(HeadlessTimeoutError) as err:
        run_headless(sim(VERMAS_SIM_FAULTS="hang"), JUDGE, cwd=str(tmp_path), timeout=1)
    assert time.monotonic() - started < 20
    assert "timed out after 1s" in err.value.message and err.value.argv


def test_non_zero_exit_is_typed_with_stderr(tmp_path):
    with pytest.raises(HeadlessExitError) as err:
        run_headless(sim(VERMAS_SIM_FAULTS="crash"), JUDGE, cwd=str(tmp_path), timeout=30)
    assert err.value.returncode == 1 and "simulated crash" in err.value.stderr and "exited 1" in err.value.message


def test_garbage_output_and_garbage_verdicts_are_typed(tmp_path):
    with pytest.raises(HeadlessOutputError) as err:
        run_headless(sim(VERMAS_SIM_FAULTS="garbage-output"), JUDGE, cwd=str(tmp_path), timeout=30)
    assert "not JSON" in err.value.message and "garbage" in err.value.stdout
    result = run_headless(sim(VERMAS_SIM_FAULTS="garbage-verdict"), JUDGE, cwd=str(tmp_path), timeout=30)
    with pytest.raises(HeadlessOutputError):
        result.json()  # the envelope is fine, the verdict is not: never read as success


def test_missing_binary_or_headless_form(tmp_path):
    with pytest.raises(HeadlessNotInstalledError) as err:
        run_headless(get_runtime("claude").with_overrides(command="no-such-claude"), "hi", cwd=str(tmp_path))
    assert "not installed" in err.value.message and err.value.exit_code == 3
    with pytest.raises(HeadlessNotInstalledError, match="no headless"):
        run_headless(sim().with_overrides(headless=None), "hi", cwd=str(tmp_path))


def test_claude_error_envelopes_are_errors(tmp_path):
    cli = fake_cli(tmp_path, "claude", 'echo \'{"type":"result","subtype":"error_max_turns","is_error":true,'
                                       '"result":"max turns"}\'\n')
    with pytest.raises(HeadlessExitError, match="error_max_turns"):
        run_headless(get_runtime("claude").with_overrides(command=cli), "hi", cwd=str(tmp_path))
    envelope = {"type": "result", "subtype": "success", "is_error": False,
                "result": '```json\n{"verdict": "PASS"}\n```', "session_id": "s9"}
    ok = fake_cli(tmp_path, "claude2", f"cat <<'EOF'\n{json.dumps(envelope)}\nEOF\n")
    result = run_headless(get_runtime("claude").with_overrides(command=ok), "hi", cwd=str(tmp_path))
    assert result.session_id == "s9" and result.json() == {"verdict": "PASS"}


def test_gemini_and_codex_formats(tmp_path):
    gem = fake_cli(tmp_path, "gemini", 'echo \'{"response": "{\\"verdict\\": \\"FAIL\\"}", "stats": {}}\'\n')
    result = run_headless(get_runtime("gemini").with_overrides(command=gem), "hi", cwd=str(tmp_path))
    assert result.json() == {"verdict": "FAIL"}
    gem_err = fake_cli(tmp_path, "gemini2", 'echo \'{"response": "", "error": {"message": "quota"}}\'\n')
    with pytest.raises(HeadlessExitError, match="quota"):
        run_headless(get_runtime("gemini").with_overrides(command=gem_err), "hi", cwd=str(tmp_path))
    events = [{"type": "thread.started", "thread_id": "t1"}, {"type": "turn.started"},
              {"type": "item.completed", "item": {"id": "i0", "type": "reasoning", "text": "hmm"}},
              {"type": "item.completed", "item": {"id": "i1", "type": "agent_message", "text": "final answer"}},
              {"type": "turn.completed"}]
    lines = "\n".join(json.dumps(e) for e in events)
    codex = fake_cli(tmp_path, "codex", f"cat <<'EOF'\n{lines}\nEOF\n")
    result = run_headless(get_runtime("codex").with_overrides(command=codex), "hi", cwd=str(tmp_path))
    assert result.text == "final answer" and result.session_id == "t1"
    failed = json.dumps({"type": "turn.failed", "error": {"message": "usage limit"}})
    codex_bad = fake_cli(tmp_path, "codex2", f"echo '{failed}'\n")
    with pytest.raises(HeadlessExitError, match="usage limit"):
        run_headless(get_runtime("codex").with_overrides(command=codex_bad), "hi", cwd=str(tmp_path))


def test_output_parsers_reject_wrong_shapes():
    with pytest.raises(HeadlessOutputError, match="empty"):
        parse_output("claude-json", "  \n")
    with pytest.raises(HeadlessOutputError, match="no string 'result'"):
        parse_output("claude-json", '{"type": "result", "subtype": "success"}')
    with pytest.raises(HeadlessOutputError, match="JSON object"):
        parse_output("gemini-json", "[1, 2]")
    with pytest.raises(HeadlessOutputError, match="no completed agent message"):
        parse_output("codex-jsonl", '{"type": "turn.started"}')
    assert parse_output("text", " plain answer \n") == ("plain answer", None, None)
    assert parse_answer_json('Here you go: {"a": 1} hope it helps') == {"a": 1}
    with pytest.raises(HeadlessOutputError):
        parse_answer_json("[1, 2, 3]")


def test_headless_env_does_not_leak_into_this_process(tmp_path):
    run_headless(sim(VERMAS_SIM_FAULTS="garbage-verdict"), JUDGE, cwd=str(tmp_path), timeout=30)
    assert "VERMAS_SIM_FAULTS" not in os.environ
