"""Runtime-area fixtures: a runtime dir per test, a tmux provider on the test's private socket."""

from __future__ import annotations

import pytest


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch) -> str:
    path = tmp_path / "runtime"
    path.mkdir()
    monkeypatch.setenv("VERMAS_RUNTIME_DIR", str(path))
    return str(path)


@pytest.fixture
def workdir(tmp_path) -> str:
    path = tmp_path / "work"
    path.mkdir()
    return str(path)


@pytest.fixture
def provider(runtime_dir, tmux_socket):
    from vermas.runtime.providers.tmux import TmuxProvider

    p = TmuxProvider(runtime_dir=runtime_dir)
    assert p.server.socket == tmux_socket  # never the user's server
    yield p
    for name in p.list_sessions(""):
        p.stop(name)
