"""What `start` does with a StartRequest: argv (settings, resume, first prompt), files, env, the session record."""

from __future__ import annotations

import json
import os
import sys

from tests.runtime.helpers import events, prompts, sim_request, wait_for
from vermas.runtime import sessions
from vermas.runtime.presets import get_runtime
from vermas.runtime.providers import StartRequest
from vermas.runtime.providers.tmux import TmuxProvider


def argv_for(runtime: str, **kw) -> list[str]:
    spec = get_runtime(runtime)
    req = StartRequest(session="vm-x", workdir="/w", runtime=spec, **kw)
    return TmuxProvider._argv(spec, "/bin/" + spec.command, req, "/s.json" if spec.hooks == "claude" else None)


def test_argv_for_settings_resume_and_first_prompt():
    assert argv_for("claude", initial_prompt="go") == [
        "/bin/claude", "--dangerously-skip-permissions", "--settings", "/s.json", "go"]
    assert argv_for("claude", resume="abc-1") == [
        "/bin/claude", "--dangerously-skip-permissions", "--settings", "/s.json", "--resume", "abc-1"]
    assert argv_for("claude", resume="last")[-1] == "--continue"
    assert argv_for("codex", resume="t-9", initial_prompt="hi") == [
        "/bin/codex", "resume", "t-9", "--dangerously-bypass-approvals-and-sandbox", "hi"]
    assert argv_for("gemini", initial_prompt="typed later") == ["/bin/gemini", "--approval-mode", "yolo"]


def test_start_writes_settings_role_text_record_and_env(provider, runtime_dir, workdir, tmp_path):
    settings_path = str(tmp_path / "polecats" / ".claude" / "settings.json")
    req = sim_request("vm-app-opts", workdir, address="app/polecats/opts", bead="app-b1", town=str(tmp_path),
                      settings=None, env={"GT_RIG": "override-wins", "EXTRA": "1"})
    req.settings = None
    req.role = "polecat"
    req.settings_path = settings_path
    req.role_text = "# Polecat\nDo the hooked work.\n"
    result = provider.start(req)
    assert result["settings"] == settings_path and "--settings" in result["argv"]
    with open(settings_path) as fh:
        assert "UserPromptSubmit" in json.load(fh)["hooks"]
    with open(os.path.join(workdir, "CLAUDE.md")) as fh:
        assert fh.read() == "# Polecat\nDo the hooked work.\n"
    record = sessions.read(runtime_dir, "vm-app-opts")
    assert record["address"] == "app/polecats/opts" and record["runtime"] == "sim" and record["bead"] == "app-b1"
    assert record["pid"] == provider.status("vm-app-opts")["pid"] and record["workdir"] == workdir
    assert sessions.spec_of(record) == get_runtime("sim").with_overrides(source="session record")
    env = provider.server.session("vm-app-opts").show_environment()
    assert env["GT_RIG"] == "override-wins" and env["EXTRA"] == "1" and env["BEAD_ID"] == "app-b1"
    assert env["VERMAS_RUNTIME_DIR"] == runtime_dir and env["VERMAS_SESSION"] == "vm-app-opts"
    assert env["VERMAS_TMUX_SOCKET"] == provider.server.socket and len(env["VERMAS_SESSION_ID"]) == 32
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)  # agents find `vermas`


def test_first_prompt_as_argument_and_typed_once_ready(provider, runtime_dir, tmp_path):
    for mode in ("arg", "none"):
        wd = tmp_path / mode
        wd.mkdir()
        req = sim_request(f"vm-app-first-{mode}", str(wd), initial_prompt=f"[VERMAS] beacon via {mode}")
        req.runtime = req.runtime.with_overrides(prompt_mode=mode)
        provider.start(req)
        wait_for(lambda m=mode: prompts(runtime_dir, f"vm-app-first-{m}") == [f"[VERMAS] beacon via {m}"],
                 message=f"first prompt ({mode})")
    assert sessions.read(runtime_dir, "vm-app-first-none")["pending_prompt"] is None  # delivered exactly once


def test_resume_reaches_the_agent(provider, runtime_dir, workdir):
    provider.start(sim_request("vm-app-res", workdir, resume="conv-42"))
    start = wait_for(lambda: events(runtime_dir, "vm-app-res", "start"), message="start")[0]
    assert start["resumed"] is True and start["session_id"] == "conv-42"
