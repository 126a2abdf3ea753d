"""The hook acceptance test: the sim started from a generated Claude settings file fires the real hooks.

SessionStart (a hook of the test's own, as ``vermas prime --hook`` belongs to the town) and
UserPromptSubmit fire with JSON on stdin and their stdout reaches the agent; a queued nudge
is drained exactly once (by ``vermas mail check --inject``, and at a turn boundary by
``vermas signal stop``); the PreToolUse guard (``vermas signal guard``) exiting 2 blocks the
tool, which provably never ran.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.runtime.helpers import events, prompts, sim_request, transcript, wait_for
from vermas.runtime import activity, claude_settings, nudge_queue

SESSION_START = (
    f"{shlex.quote(sys.executable)} -c 'import json,sys; d=json.load(sys.stdin); "
    "print(\"SESSION-START-CONTEXT source=%s event=%s cwd=%s\" % (d[\"source\"], d[\"hook_event_name\"], d[\"cwd\"]))'"
)


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    work = tmp_path / "work"
    git("init", "-q", str(work), cwd=tmp_path)
    (work / "README").write_text("v1\n")
    git("add", "README", cwd=work)
    git("commit", "-q", "-m", "v1", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=work)
    (work / "README").write_text("v2, never to be force-pushed\n")
    git("commit", "-q", "-am", "v2", cwd=work)
    return work, remote


@pytest.mark.slow
def test_claude_settings_hooks_fire_in_the_sim(provider, runtime_dir, repo, tmp_path):
    work, remote = repo
    remote_main = git("rev-parse", "refs/heads/main", cwd=remote)
    hook_file = tmp_path / "hook.json"
    bead = {"id": "app-h00k", "title": "guarded work", "status": "hooked",
            "description": "Steps:\n\n```sim\necho built > out.txt\ngit push --force origin HEAD:refs/heads/main\n"
                           "echo after > after.txt\n```\n"}
    hook_file.write_text(json.dumps({"bead": bead}))
    settings = claude_settings.build_settings("polecat", overrides={"SessionStart": [("", SESSION_START, 30)]})
    assert settings["hooks"]["PreToolUse"][0]["matcher"] == "Bash"
    session = "vm-app-hooks"
    provider.start(sim_request(session, str(work), address="app/polecats/hooks", settings=settings,
                               hook_cmd=f"cat {hook_file}"))

    # SessionStart: JSON on stdin, stdout into the agent's context.
    context = wait_for(lambda: [e for e in events(runtime_dir, session, "context") if e["source"] == "SessionStart"],
                       message="SessionStart context")
    assert context[0]["text"] == f"SESSION-START-CONTEXT source=startup event=SessionStart cwd={work}"

    # PreToolUse: the real guard blocks the force push; the step never ran, the work stopped there.
    blocked = wait_for(lambda: [e for e in events(runtime_dir, session, "tool") if e["blocked"]], message="blocked")
    assert blocked[0]["command"] == "git push --force origin HEAD:refs/heads/main"
    assert "BLOCKED by vermas signal guard" in blocked[0]["reason"]
    assert (work / "out.txt").read_text() == "built\n"
    assert not (work / "after.txt").exists()
    assert git("rev-parse", "refs/heads/main", cwd=remote) == remote_main
    wait_for(lambda: (activity.read(runtime_dir, session) or {}).get("state") == "idle", message="Stop → idle")

    # UserPromptSubmit: a queued nudge reaches the context once, and only once.
    hook_file.write_text(json.dumps({"bead": None}))
    provider.nudge(session, "first queued nudge", mode="queue", sender="mayor")
    assert provider.nudge(session, "go on")["status"] == "delivered"
    ups = wait_for(lambda: [e for e in events(runtime_dir, session, "context") if e["source"] == "UserPromptSubmit"],
                   message="UserPromptSubmit context")
    assert "<system-reminder>" in ups[0]["text"] and "from mayor" in ups[0]["text"]
    assert "first queued nudge" in ups[0]["text"]
    assert nudge_queue.count(runtime_dir, session) == 0
    record = activity.read(runtime_dir, session)
    start = events(runtime_dir, session, "start")[0]
    assert record["agent_session_id"] == start["session_id"]  # the hook read Claude's JSON from stdin
    wait_for(lambda: provider.is_idle(session), message="idle after the turn")
    assert provider.nudge(session, "and again")["status"] == "delivered"
    wait_for(lambda: prompts(runtime_dir, session)[-1:] == ["and again"], message="third prompt")
    wait_for(lambda: (activity.read(runtime_dir, session) or {}).get("turns", 0) >= 3, message="turn ended")
    texts = [e["text"] for e in events(runtime_dir, session, "context")]
    assert sum("first queued nudge" in t for t in texts) == 1

    # Stop: a nudge queued while the agent is busy is delivered at the turn boundary, once.
    before = activity.prompt_count(runtime_dir, session)
    provider.nudge(session, "/busy 2", mode="immediate")
    wait_for(lambda: activity.prompt_count(runtime_dir, session) > before, message="UserPromptSubmit of /busy")
    assert provider.state(session)["state"] == "busy"
    queued = provider.nudge(session, "second queued nudge", sender="witness", wait=0.2)
    assert queued["status"] == "queued"  # wait-idle never types into a busy agent
    stop_ctx = wait_for(lambda: [e for e in events(runtime_dir, session, "context")
                                 if e["source"] == "Stop" and "second queued nudge" in e["text"]],
                        timeout=20, message="Stop hook delivery\n" + "\n".join(
                            json.dumps(e)[:200] for e in transcript(runtime_dir, session)) + provider.peek(session, 30))
    assert "from witness" in stop_ctx[0]["text"]
    wait_for(lambda: any(e.get("stop_hook_active") for e in events(runtime_dir, session, "stop")), message="re-stop")
    wait_for(lambda: provider.is_idle(session), message="idle again")
    texts = [e["text"] for e in events(runtime_dir, session, "context")]
    assert sum("second queued nudge" in t for t in texts) == 1
    assert nudge_queue.count(runtime_dir, session) == 0
    assert os.listdir(os.path.join(runtime_dir, "nudge_queue", session)) == [".lock"]  # no file, no claim left
