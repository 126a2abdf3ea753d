"""The ``fail`` provider: refuses every operation with a typed error.

Higher layers (sling, witness, refinery, Inspector) run their tests against it to prove
that a provider failure is handled and reported, never mistaken for success
(``VERMAS_PROVIDER=fail``, as Gas City's ``GC_SESSION=fail``).
"""

from __future__ import annotations

from vermas.runtime.errors import ProviderRefusedError
from vermas.runtime.providers.base import Provider


class FailProvider(Provider):
    name = "fail"

    def _refuse(self, operation: str, session: str | None = None) -> ProviderRefusedError:
        target = f" for {session}" if session else ""
        return ProviderRefusedError(f"the 'fail' provider refuses {operation}{target}",
                                    hint="this provider exists to test failure handling; use the tmux provider "
                                         "(VERMAS_PROVIDER=tmux)")

    def start(self, request, *, wait=True, timeout=60.0):
        raise self._refuse("start", request.session)

    def stop(self, session):
        raise self._refuse("stop", session)

    def interrupt(self, session):
        raise self._refuse("interrupt", session)

    def nudge(self, session, message, *, mode="wait-idle", sender=None, priority="normal", wait=None):
        raise self._refuse("nudge", session)

    def peek(self, session, lines=50):
        raise self._refuse("peek", session)

    def is_running(self, session):
        raise self._refuse("is_running", session)

    def status(self, session):
        raise self._refuse("status", session)

    def state(self, session):
        raise self._refuse("state", session)

    def is_idle(self, session):
        raise self._refuse("is_idle", session)

    def wait_ready(self, session, timeout=60.0):
        raise self._refuse("wait_ready", session)

    def wait_idle(self, session, timeout=60.0):
        raise self._refuse("wait_idle", session)

    def last_activity(self, session):
        raise self._refuse("last_activity", session)

    def list_sessions(self, prefix="vm-"):
        raise self._refuse("list_sessions")

    def run_headless(self, prompt, *, cwd, timeout=300.0, runtime=None):
        raise self._refuse("run_headless")
