"""The LLM panel: each Inspector role is one headless prompt through the runtime layer.

``ask(role, evidence, …)`` runs the role's runtime (``verify.runtime.<role>`` >
``verify.runtime`` > ``runtime.default``) headless in the snapshot directory, parses the
answer and checks its shape. It never raises for a bad answer: the :class:`Answer` says what
went wrong (``timeout``, ``exit``, ``garbage``, ``invalid``, ``unavailable``) and the rules
turn any of those into NEEDS_HUMAN. ``ask_parallel`` runs several roles at once (advocate ∥
critic).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vermas.errors import VermasError
from vermas.verify import prompts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.verify.settings import VerifySettings

VERDICTS = ("PASS", "FAIL", "NEEDS_HUMAN")


@dataclass
class Answer:
    role: str
    runtime: str
    ok: bool
    data: dict | None = None
    error_kind: str = ""  # timeout | exit | garbage | invalid | unavailable
    error: str = ""
    duration_ms: float = 0.0
    prompt_chars: int = 0
    raw: str = ""
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {"role": self.role, "runtime": self.runtime, "ok": self.ok, "answer": self.data,
               "duration_ms": round(self.duration_ms, 1), "prompt_chars": self.prompt_chars}
        if not self.ok:
            out.update({"error_kind": self.error_kind, "error": self.error, "raw": self.raw[-2000:]})
        return out


class Interrupted(Exception):
    """Stopped while waiting for the panel."""


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number:  # NaN
        return None
    if 1.0 < number <= 100.0:  # "95" meant 95%
        number /= 100.0
    return min(1.0, max(0.0, number))


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []


def check_shape(role: str, data: dict) -> tuple[dict | None, list[str]]:
    """The answer normalised, or None with the reasons it is unusable."""
    if "error" in data and len(data) <= 2:
        return None, [f"the runtime answered with an error: {data.get('error')}"]
    if role == "judge":
        verdict = str(data.get("verdict", "")).strip().upper().replace(" ", "_").replace("-", "_")
        confidence = _confidence(data.get("confidence"))
        problems = []
        if verdict not in VERDICTS:
            problems.append(f"verdict {data.get('verdict')!r} is not one of {', '.join(VERDICTS)}")
        if confidence is None:
            problems.append(f"confidence {data.get('confidence')!r} is not a number between 0 and 1")
        if problems:
            return None, problems
        return {"verdict": verdict, "confidence": round(confidence, 4),  # type: ignore[arg-type]
                "reasoning": str(data.get("reasoning") or "").strip(),
                "required_fixes": _strings(data.get("required_fixes"))}, []
    if role in ("advocate", "critic"):
        arguments = _strings(data.get("arguments"))
        if not arguments and not str(data.get("summary") or "").strip():
            return None, [f"the {role} gave neither arguments nor a summary"]
        return {"role": role, "position": data.get("position") or ("FOR" if role == "advocate" else "AGAINST"),
                "arguments": arguments, "evidence_cited": _strings(data.get("evidence_cited")),
                "confidence": _confidence(data.get("confidence")), "summary": str(data.get("summary") or "")}, []
    if role == "auditor":
        findings = data.get("findings")
        if not isinstance(findings, list):
            return None, ["the auditor's answer has no findings list"]
        clean = []
        for f in findings:
            if not isinstance(f, dict) or not f.get("criterion_id"):
                return None, [f"auditor finding without a criterion_id: {f!r}"[:200]]
            verdict = str(f.get("verdict", "")).strip().upper()
            if verdict not in ("PASS", "FAIL"):
                return None, [f"auditor finding for {f.get('criterion_id')} has verdict {f.get('verdict')!r}"]
            clean.append({"criterion_id": str(f["criterion_id"]).upper(), "verdict": verdict,
                          "evidence": str(f.get("evidence") or ""), "reasoning": str(f.get("reasoning") or "")})
        return {"role": "auditor", "findings": clean, "verdict": str(data.get("verdict") or ""),
                "confidence": _confidence(data.get("confidence"))}, []
    if role == "designer":
        if not isinstance(data.get("requirements"), dict):
            return None, ["the designer's answer has no requirements object"]
        return data, []
    if role == "strategist":
        if not isinstance(data.get("criteria"), list):
            return None, ["the strategist's answer has no criteria list"]
        return data, []
    return None, [f"unknown role {role!r}"]


def ask(role: str, evidence: dict, *, settings: VerifySettings, town, rig: str | None, cwd: str,
        environ: dict | None = None) -> Answer:
    """One role's answer (never raises for a runtime or answer failure)."""
    from vermas.runtime.errors import (
        HeadlessExitError,
        HeadlessNotInstalledError,
        HeadlessOutputError,
        HeadlessTimeoutError,
    )
    from vermas.runtime.headless import run_headless
    from vermas.town.sessions import runtime_spec

    name = settings.runtime_for(role)
    prompt = prompts.build(role, evidence)
    answer = Answer(role=role, runtime=name, ok=False, prompt_chars=len(prompt))
    started = time.monotonic()
    try:
        spec = runtime_spec(town, name, rig, environ)
        identity = {"BD_ACTOR": f"{rig}/inspector/{role}" if rig else f"inspector/{role}", "VERMAS_ROLE": role}
        result = run_headless(spec, prompt, cwd=cwd, timeout=settings.timeout, env=identity)
        answer.raw = result.text
        data = result.json()
    except HeadlessTimeoutError as exc:
        answer.error_kind, answer.error = "timeout", exc.message
    except HeadlessExitError as exc:
        answer.error_kind, answer.error = "exit", exc.message
    except HeadlessOutputError as exc:
        answer.error_kind, answer.error = "garbage", exc.message
    except HeadlessNotInstalledError as exc:
        answer.error_kind, answer.error = "unavailable", exc.message
    except VermasError as exc:  # unknown runtime, bad runtime config
        answer.error_kind, answer.error = "unavailable", exc.message
    else:
        clean, problems = check_shape(role, data)
        if clean is None:
            answer.error_kind, answer.error, answer.problems = "invalid", "; ".join(problems), problems
        else:
            answer.ok, answer.data = True, clean
    answer.duration_ms = (time.monotonic() - started) * 1000
    return answer


def ask_parallel(roles: list[str], evidence: dict, *, settings: VerifySettings, town, rig: str | None, cwd: str,
                 environ: dict | None = None, should_stop: Callable[[], bool] = lambda: False) -> dict[str, Answer]:
    """Several roles at once (each in its own thread; the runtimes run as separate processes)."""
    answers: dict[str, Answer] = {}

    def work(role: str) -> None:
        try:
            answers[role] = ask(role, evidence, settings=settings, town=town, rig=rig, cwd=cwd, environ=environ)
        except Exception as exc:  # a bug must still end as an answer, never a hang
            answers[role] = Answer(role=role, runtime=settings.runtime_for(role), ok=False, error_kind="exit",
                                   error=f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(role,), daemon=True, name=f"inspector-{role}") for role in roles]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=0.05)
        if should_stop():
            raise Interrupted("stopped while the panel was answering")
    return answers
