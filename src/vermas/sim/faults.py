"""Fault modes of the simulated agent, chosen by ``--fault NAME[=VALUE]`` or ``$VERMAS_SIM_FAULTS``.

``$VERMAS_SIM_FAULTS`` is a comma-separated list, e.g. ``slow=1.5,swallow-enter=2``.

============== ============================================================================
fault          effect
============== ============================================================================
slow[=S]       sleep S seconds (default 2) before each step and before every answer
hang           get stuck on hooked work (busy marker forever, ignores Escape); headless: never answers
crash[=N]      exit with status 3 after N steps of hooked work (default 1); headless: exit 1
swallow-enter  ignore the first N Enter presses of every prompt (``=N``, default 1), ``=always``
               ignores them all, ``=p0.3`` ignores each with probability 0.3 (seeded)
ignore-hook    never run hooked work (answers "ok" and idles)
claim-done     run the done command without doing the steps or committing
wrong-solution run the bead's ```sim-wrong block instead of ```sim (no such block: skip the last step);
               ``=first``: only on the first attempt — not on a bead carrying the ``rework`` label
garbage-verdict headless answers are prose, not JSON (the envelope stays valid)
garbage-output  headless stdout is not even JSON
============== ============================================================================
"""

from __future__ import annotations

import random

KNOWN = ("slow", "hang", "crash", "swallow-enter", "ignore-hook", "claim-done", "wrong-solution",
         "garbage-verdict", "garbage-output")


class Faults:
    def __init__(self, spec: dict[str, str] | None = None) -> None:
        self.spec = dict(spec or {})
        unknown = sorted(set(self.spec) - set(KNOWN))
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r} (known: {', '.join(KNOWN)})")
        self.slow = float(self.spec["slow"] or 2) if "slow" in self.spec else 0.0
        self.hang = "hang" in self.spec
        self.crash_after = int(self.spec["crash"] or 1) if "crash" in self.spec else None
        self.ignore_hook = "ignore-hook" in self.spec
        self.claim_done = "claim-done" in self.spec
        self._wrong = self.spec.get("wrong-solution") if "wrong-solution" in self.spec else None
        if self._wrong not in (None, "", "first"):
            raise ValueError(f"wrong-solution takes no value or 'first', got {self._wrong!r}")
        self.garbage_verdict = "garbage-verdict" in self.spec
        self.garbage_output = "garbage-output" in self.spec
        self._swallow = self.spec.get("swallow-enter") if "swallow-enter" in self.spec else None
        self._rng = random.Random(1234)

    @classmethod
    def parse(cls, env_value: str | None, flags: list[str] | None = None) -> Faults:
        spec: dict[str, str] = {}
        items = [p for p in (env_value or "").split(",") if p.strip()] + list(flags or [])
        for item in items:
            name, _, value = item.strip().partition("=")
            spec[name.strip()] = value.strip()
        return cls(spec)

    def wrong_for(self, bead: dict | None) -> bool:
        """Should the work on ``bead`` be the wrong solution? (``=first``: not once it is rework.)"""
        if self._wrong is None:
            return False
        return self._wrong != "first" or "rework" not in ((bead or {}).get("labels") or ())

    def swallow_enter(self, presses_so_far: int) -> bool:
        """Should this Enter press (0-based count for the current prompt) be ignored?"""
        value = self._swallow
        if value is None:
            return False
        if value == "always":
            return True
        if value.startswith("p"):
            return self._rng.random() < float(value[1:] or 0.5)
        return presses_so_far < int(value or 1)

    def active(self) -> list[str]:
        return sorted(self.spec)
