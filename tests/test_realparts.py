"""The real parts the suite relies on are installed: a missing one fails CI here, by name."""

from __future__ import annotations

import subprocess

import pytest

from tests.realparts import agent_cli, system_binary

PINNED = {"claude": "2.1.197", "codex": "0.171.0", "gemini": "0.61.0", "opencode": "1.18.33"}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_agent_cli_installed(name):
    out = subprocess.run([agent_cli(name), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert PINNED[name] in out.stdout


@pytest.mark.parametrize("name", ["tmux", "git", "redis-server", "chromium", "bwrap"])
def test_system_part_installed(name):
    assert system_binary(name)
