"""The provider contract: one suite every runtime provider must pass (documented in docs/RUNTIME.md).

A provider joins by subclassing :class:`ProviderContract` in a test module and defining a
``case`` fixture that returns a :class:`ProviderCase`:

- ``provider``: the provider under test;
- ``request(name, **kw)``: a StartRequest for a fresh session of a claude-compatible agent
  (the sim runtime here) whose ``workdir`` exists;
- ``received(session)``: the prompts the agent actually received, in order (from the agent's
  side: the sim's transcript), or None when the provider cannot show that;
- ``refuses``: True for a provider that refuses every operation (the ``fail`` provider).

Every operation must either do what it says (checked from the outside) or raise a typed
:class:`~vermas.runtime.errors.ProviderError`. A refusing provider must refuse *every*
operation with :class:`ProviderRefusedError` naming the operation; a working one must
refuse none. Neither may report a success it did not achieve.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.runtime.helpers import wait_for
from vermas.errors import NotFoundError, VermasError
from vermas.runtime.errors import (
    AgentExitedError,
    HeadlessTimeoutError,
    ProviderError,
    ProviderRefusedError,
    RuntimeNotInstalledError,
    SessionExistsError,
)


@dataclass
class ProviderCase:
    provider: Any
    request: Any
    received: Any
    refuses: bool


def attempt(fn, *args, **kwargs):
    """The call's result, or the typed error it raised (any other exception fails the test)."""
    try:
        return fn(*args, **kwargs)
    except VermasError as exc:
        return exc


def refused(case: ProviderCase, result, operation: str, *, error_expected: bool = False) -> bool:
    """True when the provider refused (and did so properly); asserts a working provider did not.

    With ``error_expected`` a working provider's result is left for the caller to check.
    """
    if case.refuses:
        assert isinstance(result, ProviderRefusedError), f"{operation}: expected a refusal, got {result!r}"
        assert operation in result.message and result.hint
        return True
    assert not isinstance(result, ProviderRefusedError), f"{operation}: a working provider refused: {result!r}"
    if not error_expected:
        assert not isinstance(result, ProviderError | VermasError), f"{operation} failed: {result!r}"
    return False


class ProviderContract:
    # ------------------------------------------------------------------ lifecycle
    def test_start_returns_a_ready_running_session(self, case):
        req = case.request("life")
        result = attempt(case.provider.start, req)
        if refused(case, result, "start"):
            return
        assert result["session"] == req.session and result["ready"] is True
        assert case.provider.is_running(req.session)
        assert req.session in case.provider.list_sessions("vm-")
        status = case.provider.status(req.session)
        assert status["exists"] and status["alive"] and status["pid"]

    def test_duplicate_start_is_a_conflict(self, case):
        req = case.request("dup")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        with pytest.raises(SessionExistsError):
            case.provider.start(case.request("dup"))
        assert case.provider.is_running(req.session)

    def test_stop_is_idempotent(self, case):
        result = attempt(case.provider.stop, "vm-never-started")
        if refused(case, result, "stop"):
            return
        assert result is False
        req = case.request("stop")
        case.provider.start(req)
        assert case.provider.stop(req.session) is True
        assert not case.provider.is_running(req.session)
        assert req.session not in case.provider.list_sessions("vm-")
        assert case.provider.stop(req.session) is False

    def test_missing_binary_and_workdir_are_typed_errors(self, case, tmp_path):
        req = case.request("nobin")
        req.runtime = req.runtime.with_overrides(command="vermas-no-such-agent-binary")
        result = attempt(case.provider.start, req)
        if refused(case, result, "start", error_expected=True):
            return
        assert isinstance(result, RuntimeNotInstalledError)
        assert "vermas-no-such-agent-binary" in result.message
        req = case.request("nodir")
        req.workdir = str(tmp_path / "does-not-exist")
        assert isinstance(attempt(case.provider.start, req), NotFoundError)
        assert not case.provider.is_running(req.session)

    def test_identity_environment_reaches_the_agent(self, case):
        req = case.request("ident", address="app/polecats/nux", bead="app-x1y", town="/srv/town")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        if case.received is None:
            pytest.skip("this provider cannot show what the agent sees")
        start = wait_for(lambda: [e for e in case.received(req.session, "start")], message="start event")[0]
        assert start["env"]["BD_ACTOR"] == "app/polecats/nux"
        assert start["env"]["GT_ROLE"] == "app/polecats/nux"
        assert start["env"]["GT_RIG"] == "app"
        assert start["env"]["BEAD_ID"] == "app-x1y"
        assert start["env"]["VERMAS_TOWN"] == "/srv/town"
        assert start["env"]["VERMAS_SESSION"] == req.session
        assert start["cwd"] == req.workdir

    # ------------------------------------------------------------------ observation
    def test_peek_shows_the_agent_screen(self, case):
        req = case.request("peek")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        text = case.provider.peek(req.session, 20)
        assert "❯" in text
        assert len(text.split("\n")) <= 20

    def test_unknown_sessions_are_not_found(self, case):
        result = attempt(case.provider.peek, "vm-nobody-here")
        if refused(case, result, "peek", error_expected=True):
            return
        assert isinstance(result, NotFoundError)
        assert isinstance(attempt(case.provider.nudge, "vm-nobody-here", "hi", mode="immediate"), NotFoundError)
        assert isinstance(attempt(case.provider.wait_ready, "vm-nobody-here", 1), NotFoundError)
        assert isinstance(attempt(case.provider.interrupt, "vm-nobody-here"), NotFoundError)
        assert case.provider.is_running("vm-nobody-here") is False

    def test_idle_busy_interrupt_and_last_activity(self, case):
        req = case.request("state")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        p = case.provider
        assert wait_for(lambda: p.is_idle(req.session), message="idle after start")
        before = p.last_activity(req.session)
        assert before is not None and before <= time.time() + 1
        p.nudge(req.session, "/busy 30", mode="immediate")
        wait_for(lambda: p.state(req.session)["state"] == "busy", message="busy while working")
        assert not p.is_idle(req.session)
        p.interrupt(req.session)
        assert p.wait_idle(req.session, timeout=15), p.peek(req.session)
        assert p.last_activity(req.session) >= before

    # ------------------------------------------------------------------ messages
    def test_nudge_delivers_literally(self, case):
        req = case.request("lit")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        message = "it's \"quoted\" $(touch pwned) `id`; rm -rf nothing; -t Enter C-c ✓"
        report = case.provider.nudge(req.session, message, mode="immediate")
        assert report["status"] == "delivered" and report["attempts"] >= 1
        if case.received is not None:
            wait_for(lambda: [e["text"] for e in case.received(req.session, "prompt")] == [message],
                     message="the exact message at the agent")

    def test_nudge_wait_idle_delivers_to_an_idle_agent(self, case):
        req = case.request("wait")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        report = case.provider.nudge(req.session, "hello from the contract", sender="mayor")
        assert report["status"] == "delivered"
        if case.received is not None:
            wait_for(lambda: [e["text"] for e in case.received(req.session, "prompt")]
                     == ["[from mayor] hello from the contract"], message="prompt at the agent")

    def test_nudge_to_a_busy_agent_is_queued_not_typed(self, case):
        req = case.request("busyq")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        p = case.provider
        p.nudge(req.session, "/busy 30", mode="immediate")
        wait_for(lambda: p.state(req.session)["state"] == "busy", message="busy")
        report = p.nudge(req.session, "later please", wait=0.3)
        assert report["status"] == "queued" and report["pending"] == 1
        if case.received is not None:
            assert [e["text"] for e in case.received(req.session, "prompt")] == ["/busy 30"]
        p.interrupt(req.session)

    def test_nudge_to_a_dead_agent_is_a_typed_error(self, case):
        req = case.request("dead")
        if refused(case, attempt(case.provider.start, req), "start"):
            return
        p = case.provider
        result = attempt(p.nudge, req.session, "/exit", mode="immediate")
        # the agent may be gone before any reaction shows: then the nudge itself reports the exit
        assert isinstance(result, AgentExitedError) or result["status"] == "delivered", result
        wait_for(lambda: not p.is_running(req.session), message="agent exited")
        status = p.status(req.session)
        assert status["exists"] and not status["alive"] and status["exit_status"] == 0  # remain-on-exit evidence
        assert "❯ /exit" in p.peek(req.session, 30)
        assert isinstance(attempt(p.nudge, req.session, "anyone?", mode="immediate"), AgentExitedError)
        assert isinstance(attempt(p.nudge, req.session, "anyone?"), AgentExitedError)

    # ------------------------------------------------------------------ headless
    def test_run_headless_answers_or_fails_typed(self, case, tmp_path):
        from vermas.runtime.presets import get_runtime

        sim = get_runtime("sim")
        prompt = 'ROLE: judge\n```evidence\n{"criteria": [{"id": "AC-1", "passed": true}]}\n```'
        result = attempt(case.provider.run_headless, prompt, cwd=str(tmp_path), timeout=60, runtime=sim)
        if refused(case, result, "run_headless"):
            return
        assert result.json()["verdict"] == "PASS"
        hang = sim.with_overrides(env={"VERMAS_SIM_FAULTS": "hang"})
        assert isinstance(attempt(case.provider.run_headless, prompt, cwd=str(tmp_path), timeout=1, runtime=hang),
                          HeadlessTimeoutError)
