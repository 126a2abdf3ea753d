"""``vermas runtime check``: is a runtime usable here? Binary, version, hooks installable, headless form."""

from __future__ import annotations

import os
import subprocess
import tempfile

from vermas.runtime import claude_settings
from vermas.runtime.presets import resolve_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.spec import RuntimeSpec


def check_runtime(spec: RuntimeSpec, *, environ: dict | None = None, timeout: float = 10.0) -> dict:
    """``{"name", "command", "path", "version", "hooks", "headless", "ok", "problems"}``."""
    problems: list[str] = []
    path = resolve_command(spec.command, environ)
    version = None
    if path is None:
        problems.append(f"{spec.command!r} is not on PATH")
    elif spec.version_args:
        try:
            proc = subprocess.run([path, *spec.version_args], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
            lines = (proc.stdout or proc.stderr).strip().splitlines()
            version = lines[0].strip() if lines else None
            if proc.returncode != 0:
                problems.append(f"{spec.command} {' '.join(spec.version_args)} exited {proc.returncode}")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{spec.command} {' '.join(spec.version_args)} failed: {exc}")
    hooks = _hooks_status(spec, problems)
    headless = "none"
    if spec.headless is not None:
        headless = " ".join([spec.headless.command or spec.command, *spec.headless.args]) + \
            f"  [{spec.headless.output}]"
    return {"name": spec.name, "command": spec.command, "path": path, "version": version, "hooks": hooks,
            "headless": headless, "ok": not problems, "problems": problems}


def _hooks_status(spec: RuntimeSpec, problems: list[str]) -> str:
    if spec.hooks != "claude":
        return "none (runtime has no hooks: queued nudges are typed in when idle)"
    vermas = claude_settings.vermas_command()
    if os.sep in vermas and not os.access(vermas, os.X_OK):
        problems.append(f"hook commands call {vermas}, which is not executable")
    with tempfile.TemporaryDirectory(prefix="vermas-check-") as tmp:
        path = claude_settings.settings_path(tmp)
        try:
            claude_settings.write_settings(path, claude_settings.build_settings("polecat"))
            import json

            with open(path, encoding="utf-8") as fh:
                errors = claude_settings.validate_settings(json.load(fh))
        except OSError as exc:
            errors = [f"cannot write settings: {exc}"]
    if errors:
        problems.extend(errors)
        return "claude settings: INVALID"
    return f"installable (claude settings via {spec.settings_flag}; hooks call {vermas})"
