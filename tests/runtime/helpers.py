"""Helpers shared by the runtime and sim tests (polling, transcripts, sim sessions)."""

from __future__ import annotations

import os

from tests.support import poll
from vermas.sim.transcript import read as read_transcript


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.02, message: str = "condition"):
    return poll(predicate, timeout=timeout, interval=interval, what=message)


def transcript(runtime_dir: str, session: str) -> list[dict]:
    return read_transcript(os.path.join(runtime_dir, "sim", session + ".jsonl"))


def prompts(runtime_dir: str, session: str) -> list[str]:
    return [e["text"] for e in transcript(runtime_dir, session) if e["event"] == "prompt"]


def events(runtime_dir: str, session: str, name: str) -> list[dict]:
    return [e for e in transcript(runtime_dir, session) if e["event"] == name]


def sim_request(session: str, workdir: str, *, address: str | None = None, faults: str = "", hook_cmd: str = "none",
                done_cmd: str = "none", settings: dict | None = None, env: dict | None = None, **kw):
    """A StartRequest for the sim runtime (no settings → no hooks unless ``settings`` is given)."""
    from vermas.runtime.presets import get_runtime
    from vermas.runtime.providers import StartRequest

    extra = {"VERMAS_SIM_HOOK_CMD": hook_cmd, "VERMAS_SIM_DONE_CMD": done_cmd}
    if faults:
        extra["VERMAS_SIM_FAULTS"] = faults
    extra.update(env or {})
    return StartRequest(session=session, workdir=workdir, runtime=get_runtime("sim"), address=address,
                        settings=settings if settings is not None else {"skipDangerousModePermissionPrompt": True},
                        env=extra, **kw)
