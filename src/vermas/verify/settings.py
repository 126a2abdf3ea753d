"""The ``verify.*`` settings of a rig, resolved through the town's layered configuration.

| key | default | meaning |
|---|---|---|
| ``verify.enabled`` | true | the refinery runs the Inspector as its last stage |
| ``verify.spec_gate`` | true | sling refuses task/feature/bug beads without an approved spec |
| ``verify.objective_only`` | false | skip the LLM panel (auditor, advocate, critic, judge) |
| ``verify.confidence_threshold`` | 0.7 | a PASS below this confidence becomes NEEDS_HUMAN |
| ``verify.timeout`` | 300 | seconds each panel role may take |
| ``verify.runtime.default`` (alias ``verify.runtime``) | "" | runtime of the panel (empty: ``runtime.default``) |
| ``verify.runtime.<role>`` | "" | runtime of one role (designer, strategist, auditor, advocate, critic, judge) |

``verify.resling`` (default true) and ``verify.max_reworks`` (default 3) steer what happens
after a FAIL verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vermas.errors import DataError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.town.layout import Town

ROLES = ("designer", "strategist", "auditor", "advocate", "critic", "judge")


@dataclass(frozen=True)
class VerifySettings:
    enabled: bool = True
    spec_gate: bool = True
    objective_only: bool = False
    confidence_threshold: float = 0.7
    timeout: float = 300.0
    runtimes: dict[str, str] = field(default_factory=dict)  # role -> runtime name
    sources: dict[str, str] = field(default_factory=dict)  # role -> where its runtime came from
    resling: bool = True  # re-sling a bead after a FAIL verdict
    max_reworks: int = 3  # FAIL verdicts of one bead before the mayor is asked instead

    def runtime_for(self, role: str) -> str:
        return self.runtimes.get(role) or self.runtimes.get("default") or "claude"

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "spec_gate": self.spec_gate, "objective_only": self.objective_only,
                "confidence_threshold": self.confidence_threshold, "timeout": self.timeout,
                "runtimes": {role: self.runtime_for(role) for role in ROLES},
                "runtime_sources": dict(self.sources)}


def load(town: Town, rig: str | None, environ: dict | None = None, *,
         objective_only: bool | None = None) -> VerifySettings:
    """The rig's settings (``rig`` None: the town's); ``objective_only`` overrides the config."""
    from vermas.town.sessions import town_config

    config = town_config(town, rig, environ=environ)
    threshold, source = config.lookup("verify.confidence_threshold")
    threshold = float(threshold)  # type: ignore[arg-type]
    if not 0.0 <= threshold <= 1.0:
        raise DataError(f"config verify.confidence_threshold = {threshold} (from {source}) must be between 0 and 1",
                        hint=f"vermas config set{' --rig ' + rig if rig else ''} verify.confidence_threshold 0.7")
    timeout, source = config.lookup("verify.timeout")
    timeout = float(timeout)  # type: ignore[arg-type]
    if timeout <= 0:
        raise DataError(f"config verify.timeout = {timeout} (from {source}) must be positive",
                        hint=f"vermas config set{' --rig ' + rig if rig else ''} verify.timeout 300")
    panel, panel_source = config.lookup("verify.runtime.default")  # alias: verify.runtime
    panel_source = f"verify.runtime.default ({panel_source})"
    default, default_source = config.lookup("runtime.default")
    runtimes: dict[str, str] = {"default": str(panel or default)}
    sources: dict[str, str] = {}
    for role in ROLES:
        value, where = config.lookup(f"verify.runtime.{role}")
        if value:
            runtimes[role], sources[role] = str(value), f"verify.runtime.{role} ({where})"
        elif panel:
            runtimes[role], sources[role] = str(panel), panel_source
        else:
            runtimes[role], sources[role] = str(default), f"runtime.default ({default_source})"
    return VerifySettings(
        enabled=config.bool("verify.enabled"), spec_gate=config.bool("verify.spec_gate"),
        objective_only=config.bool("verify.objective_only") if objective_only is None else objective_only,
        confidence_threshold=threshold, timeout=timeout, runtimes=runtimes, sources=sources,
        resling=config.bool("verify.resling"), max_reworks=max(1, config.int("verify.max_reworks")))
