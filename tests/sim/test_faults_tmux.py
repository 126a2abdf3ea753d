"""Fault modes as a supervisor sees them over tmux: hang (stuck busy), slow (busy for a while), crash (dead pane)."""

from __future__ import annotations

import json

import pytest

from tests.runtime.helpers import sim_request, wait_for

BEAD = {"id": "app-fau1t", "title": "faulty", "description": "```sim\necho one > one.txt\necho two > two.txt\n```"}


@pytest.fixture
def provider(tmp_path, tmux_socket, monkeypatch):
    from vermas.runtime.providers.tmux import TmuxProvider

    runtime_dir = tmp_path / "runtime"
    monkeypatch.setenv("VERMAS_RUNTIME_DIR", str(runtime_dir))
    p = TmuxProvider(runtime_dir=str(runtime_dir))
    yield p
    for name in p.list_sessions(""):
        p.stop(name)


def start(provider, tmp_path, name, faults, bead=None, wait=True):
    wd = tmp_path / name
    wd.mkdir()
    hook = tmp_path / f"{name}.hook.json"
    hook.write_text(json.dumps({"bead": bead}))
    provider.start(sim_request(f"vm-f-{name}", str(wd), faults=faults, hook_cmd=f"cat {hook}"), wait=wait)
    return f"vm-f-{name}", wd


def test_hang_stays_busy_ignores_interrupts_and_is_stopped(provider, tmp_path):
    session, wd = start(provider, tmp_path, "hang", "hang", BEAD)
    wait_for(lambda: provider.state(session)["state"] == "busy", message="stuck busy")
    provider.interrupt(session)
    assert provider.state(session)["state"] == "busy"
    assert not provider.wait_idle(session, timeout=1.0)
    assert not (wd / "one.txt").exists()
    assert provider.stop(session) is True and not provider.is_running(session)


def test_slow_is_busy_for_a_while_then_idle(provider, tmp_path):
    session, _ = start(provider, tmp_path, "slow", "slow=1")
    provider.nudge(session, "take your time", mode="immediate")
    wait_for(lambda: provider.state(session)["state"] == "busy", message="busy while slow")
    assert provider.wait_idle(session, timeout=15)


def test_crash_mid_work_leaves_a_dead_pane_with_evidence(provider, tmp_path):
    session, wd = start(provider, tmp_path, "crash", "crash", BEAD, wait=False)  # may crash before it looks ready
    wait_for(lambda: not provider.is_running(session), message="crashed")
    from vermas.runtime.errors import AgentExitedError

    with pytest.raises(AgentExitedError):
        provider.wait_ready(session, timeout=5)
    status = provider.status(session)
    assert status["exists"] and status["exit_status"] == 3
    assert "simulated crash" in provider.peek(session, 20)
    assert provider.state(session)["state"] == "dead"
    assert (wd / "one.txt").exists() and not (wd / "two.txt").exists()
