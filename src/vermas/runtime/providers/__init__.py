"""Runtime providers: the interface (:mod:`.base`), ``tmux`` (real agents) and ``fail`` (refuses all).

``get_provider()`` picks one by name, or by ``$VERMAS_PROVIDER`` (default ``tmux``).
"""

from __future__ import annotations

import os

from vermas.runtime.providers.base import NUDGE_MODES, Provider, StartRequest

PROVIDERS = ("tmux", "fail")


def get_provider(name: str | None = None, **options: object) -> Provider:
    """A provider by name (``tmux`` takes ``socket``, ``runtime_dir``, ``runtimes``, ``environ``)."""
    environ = options.get("environ") or os.environ
    name = name or environ.get("VERMAS_PROVIDER") or "tmux"
    if name == "tmux":
        from vermas.runtime.providers.tmux import TmuxProvider

        return TmuxProvider(**options)
    if name == "fail":
        from vermas.runtime.providers.fail import FailProvider

        return FailProvider()
    from vermas.errors import UsageError

    raise UsageError(f"unknown runtime provider {name!r}", hint="providers: " + ", ".join(PROVIDERS))


__all__ = ["NUDGE_MODES", "PROVIDERS", "Provider", "StartRequest", "get_provider"]
