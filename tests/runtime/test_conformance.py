"""Run the provider contract (tests/runtime/conformance.py) against every provider that runs here."""

from __future__ import annotations

import pytest

from tests.runtime.conformance import ProviderCase, ProviderContract
from tests.runtime.helpers import events, sim_request


@pytest.fixture
def sim_case(provider, runtime_dir, tmp_path):
    counter = iter(range(1000))

    def request(name: str, **kw):
        workdir = tmp_path / f"wd-{name}-{next(counter)}"
        workdir.mkdir()
        return sim_request(f"vm-conf-{name}", str(workdir), **kw)

    return ProviderCase(provider=provider, request=request, refuses=False,
                        received=lambda session, kind: events(runtime_dir, session, kind))


class TestSimOverTmux(ProviderContract):
    """The tmux provider driving the simulated agent (claude-compatible) on a private socket."""

    @pytest.fixture
    def case(self, sim_case):
        return sim_case


class TestFailProvider(ProviderContract):
    """The provider that refuses everything, as higher layers' failure-handling tests use it."""

    @pytest.fixture
    def case(self, tmp_path):
        from vermas.runtime.providers import get_provider

        def request(name: str, **kw):
            return sim_request(f"vm-conf-{name}", str(tmp_path), **kw)

        return ProviderCase(provider=get_provider("fail"), request=request, refuses=True, received=None)


def test_provider_choice_follows_environment(monkeypatch):
    from vermas.errors import UsageError
    from vermas.runtime.providers import get_provider
    from vermas.runtime.providers.fail import FailProvider
    from vermas.runtime.providers.tmux import TmuxProvider

    monkeypatch.setenv("VERMAS_PROVIDER", "fail")
    assert isinstance(get_provider(), FailProvider)
    monkeypatch.setenv("VERMAS_PROVIDER", "tmux")
    assert isinstance(get_provider(), TmuxProvider)
    with pytest.raises(UsageError):
        get_provider("nope")
