"""Real parts the suite drives: the pinned agent CLIs, redis-server, chromium, bubblewrap.

``tools/test-deps`` installs them (``make test`` and ``.ci/run`` call it first). A test that
needs one asks here; when the part is missing the test **fails** with the command that
installs it — it never skips, so a CI run cannot pass by not testing a real part.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALL_HINT = "run tools/test-deps (make test does) to install it"


@functools.cache
def cli_bin_dir() -> str | None:
    """The cache's bin directory holding the pinned agent CLIs (installs them if needed)."""
    explicit = os.environ.get("VERMAS_CLI_BIN")
    if explicit:
        return explicit
    try:
        out = subprocess.run([os.path.join(ROOT, "tools", "test-deps")], capture_output=True, text=True,
                             timeout=900)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[-1] if out.returncode == 0 and lines and os.path.isdir(lines[-1]) else None


def agent_cli(name: str) -> str:
    """Absolute path of the pinned real agent CLI ``name`` (claude, codex, gemini, opencode)."""
    bindir = cli_bin_dir()
    path = os.path.join(bindir, name) if bindir else None
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"real agent CLI {name!r} is missing: {INSTALL_HINT}", pytrace=False)
    return path


def system_binary(name: str) -> str:
    """Absolute path of a system binary (redis-server, chromium, bwrap, tmux, git)."""
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: {INSTALL_HINT}", pytrace=False)
    return path
