"""Startup dialogs answered for real: the sim shows Claude's workspace-trust and bypass-permissions dialogs."""

from __future__ import annotations

import pytest

from tests.runtime.helpers import events, sim_request, wait_for
from vermas.runtime.errors import AgentExitedError, ReadyTimeoutError


def test_trust_and_bypass_dialogs_are_answered(provider, runtime_dir, workdir):
    req = sim_request("vm-app-dlg", workdir, settings={}, env={"VERMAS_SIM_TRUST_DIALOG": "1"})
    result = provider.start(req)
    assert result["ready"]
    dialogs = [(e["kind"], e["choice"]) for e in events(runtime_dir, "vm-app-dlg", "dialog")]
    assert dialogs == [("workspace-trust", 0), ("bypass-permissions", 1)]  # yes, proceed / yes, I accept
    assert provider.is_idle("vm-app-dlg")


def test_enter_on_the_bypass_dialog_exits_and_is_reported_with_evidence(provider, workdir):
    provider.start(sim_request("vm-app-no", workdir, settings={}), wait=False)
    pane = provider._pane("vm-app-no")
    wait_for(lambda: "Bypass Permissions mode" in pane.capture(), message="dialog")
    pane.send_keys("Enter")  # "No, exit" is pre-selected, as in Claude Code
    with pytest.raises(AgentExitedError) as err:
        provider.wait_ready("vm-app-no", timeout=15)
    assert err.value.exit_status == 1 and "Bypass Permissions mode" in err.value.evidence


def test_a_runtime_that_does_not_know_the_dialog_times_out_with_the_screen(provider, workdir):
    req = sim_request("vm-app-stuck", workdir, settings={})
    req.runtime = req.runtime.with_overrides(dialogs=())
    with pytest.raises(ReadyTimeoutError) as err:
        provider.start(req, timeout=1.5)
    assert "Bypass Permissions mode" in err.value.evidence and "not ready" in err.value.message
