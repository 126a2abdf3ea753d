"""A rig's merge settings (``merge.*``, ``gates.*``) and where the refinery keeps its files.

Settings come from the layered town configuration (flags → env → rig settings → town settings
→ user config → defaults); set them with ``vermas config set --rig <rig> <key> <value>``.

Refinery files, all under ``<rig>/refinery/``:

| file | what |
|---|---|
| ``rig/`` | the refinery's own worktree of the rig's bare repository (detached HEAD) |
| ``target/`` | a second worktree, created when a gate fails, to re-run it on the target itself |
| ``state.json`` | the crash-recovery journal and the status shown by ``refinery status`` |
| ``refinery.pid`` | ``{"pid", "started_at", "session", "rig"}`` of the running daemon |
| ``refinery.lock`` | flock held by the running refinery (one per rig; released by the kernel on death) |
| ``refinery.log`` | the daemon's log (rotated to ``refinery.log.1`` above 10 MB) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from vermas.errors import DataError
from vermas.town.config import Config
from vermas.town.layout import RigPaths, Town

STRATEGIES = ("ff", "merge", "squash")
MODES = ("direct", "pr")
GATE_ORDER = ("setup", "lint", "build", "test")


@dataclass(frozen=True)
class RefinerySettings:
    """Everything the refinery reads from configuration, validated."""

    strategy: str = "ff"
    batch_size: int = 1
    mode: str = "direct"
    pr_command: str = "gh pr create --fill --head {branch} --base {target}"
    push_upstream: bool = False
    poll_interval: float = 5.0
    gates: tuple[tuple[str, str], ...] = ()
    gate_timeout: float = 900.0
    verify_enabled: bool = True

    @classmethod
    def load(cls, town: Town, rig: str, environ: dict[str, str] | None = None) -> RefinerySettings:
        paths = town.rig(rig)
        config = Config(town_settings=town.settings_path, rig_settings=paths.settings_path, environ=environ)

        def pick(key: str, allowed: tuple[str, ...]) -> str:
            value, source = config.lookup(key)
            text = str(value).strip().lower()
            if text not in allowed:
                raise DataError(f"config {key} = {value!r} (from {source}) is not one of {', '.join(allowed)}",
                                hint=f"vermas config set --rig {rig} {key} {allowed[0]}")
            return text

        batch_size, source = config.lookup("merge.batch_size")
        if int(batch_size) < 1:  # type: ignore[call-overload]
            raise DataError(f"config merge.batch_size = {batch_size} (from {source}) must be at least 1",
                            hint=f"vermas config set --rig {rig} merge.batch_size 1")
        gates = tuple((name, config.str(f"gates.{name}").strip()) for name in GATE_ORDER)
        timeout = config.float("gates.timeout")
        if timeout <= 0:
            raise DataError(f"config gates.timeout = {timeout} must be positive",
                            hint=f"vermas config set --rig {rig} gates.timeout 900")
        return cls(
            strategy=pick("merge.strategy", STRATEGIES),
            batch_size=int(batch_size),  # type: ignore[call-overload]
            mode=pick("merge.mode", MODES),
            pr_command=config.str("merge.pr_command"),
            push_upstream=config.bool("merge.push_upstream"),
            poll_interval=max(0.05, config.float("merge.poll_interval")),
            gates=tuple((name, cmd) for name, cmd in gates if cmd),
            gate_timeout=timeout,
            verify_enabled=config.bool("verify.enabled"),
        )


class RefineryHome:
    """Paths of one rig's refinery (see the module docstring)."""

    def __init__(self, town: Town, rig: str) -> None:
        self.town = town
        self.rig_name = rig
        self.rig: RigPaths = town.rig(rig)
        self.dir = self.rig.refinery_dir
        self.worktree = self.rig.refinery_worktree
        self.target_worktree = os.path.join(self.dir, "target")  # where gates re-run on the target itself
        self.state_path = os.path.join(self.dir, "state.json")
        self.pid_path = os.path.join(self.dir, "refinery.pid")
        self.lock_path = os.path.join(self.dir, "refinery.lock")
        self.log_path = os.path.join(self.dir, "refinery.log")
        self.repo = self.rig.repo
        self.evidence_root = os.path.join(self.rig.beads_dir, "evidence")

    @property
    def actor(self) -> str:
        """The refinery's agent address, used as ledger actor and mail sender."""
        return f"{self.rig_name}/refinery"

    @property
    def session(self) -> str:
        """The tmux session the daemon runs in."""
        return f"vm-{self.rig_name}-refinery"

    def gate_evidence_dir(self, source_issue: str, mr_id: str) -> str:
        """``<rig>/.beads/evidence/<source-bead>/gates/<mr>/``."""
        return os.path.join(self.evidence_root, _safe(source_issue or mr_id), "gates", _safe(mr_id))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
