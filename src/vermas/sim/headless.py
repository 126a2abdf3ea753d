"""``vermas-sim -p "<prompt>"``: one deterministic Inspector answer, in Claude Code's headless format.

``--output-format json`` prints Claude's result envelope::

    {"type": "result", "subtype": "success", "is_error": false, "duration_ms": 3,
     "num_turns": 1, "result": "<the answer: a JSON object as text>", "session_id": "…",
     "total_cost_usd": 0.0, "usage": {"input_tokens": …, "output_tokens": …}}

``--output-format text`` (default) prints the answer alone. With ``--settings`` the
SessionStart, UserPromptSubmit and Stop hooks fire as in interactive mode (a
UserPromptSubmit hook exiting 2 makes the run fail with its reason).
"""

from __future__ import annotations

import json
import sys
import time

GARBAGE_VERDICT = ("Honestly this looks fine to me?? VERDICT: probably PASS-ish, confidence: vibes. "
                   "(no JSON today, sorry)")
GARBAGE_OUTPUT = "ʘ‿ʘ <<<not json at all>>> \x00 garbage"


def run(prompt: str, *, output_format: str, faults, hooks=None, session_id: str = "", transcript=None) -> int:
    from vermas.sim import inspector

    started = time.monotonic()
    if transcript is not None:
        transcript.event("prompt", text=prompt, headless=True)
    if faults.hang:
        while True:
            time.sleep(3600)
    if faults.slow:
        time.sleep(faults.slow)
    if faults.crash_after is not None:
        sys.stderr.write("vermas-sim: simulated crash (fault 'crash')\n")
        return 1
    if hooks is not None:
        hooks.fire("SessionStart", {"source": "startup"}, match_value="startup")
        outcome = hooks.fire("UserPromptSubmit", {"prompt": prompt})
        if outcome.blocked:
            reasons = "; ".join(outcome.reasons)
            sys.stderr.write(f"vermas-sim: prompt blocked by UserPromptSubmit hook: {reasons}\n")
            return 1
    if faults.garbage_output:
        sys.stdout.write(GARBAGE_OUTPUT + "\n")
        return 0
    answer = GARBAGE_VERDICT if faults.garbage_verdict else json.dumps(inspector.respond(prompt), ensure_ascii=False)
    if hooks is not None:
        hooks.fire("Stop", {"stop_hook_active": False})
    if transcript is not None:
        transcript.event("answer", text=answer)
    if output_format == "json":
        envelope = {"type": "result", "subtype": "success", "is_error": False,
                    "duration_ms": int((time.monotonic() - started) * 1000), "num_turns": 1, "result": answer,
                    "session_id": session_id, "total_cost_usd": 0.0,
                    "usage": {"input_tokens": len(prompt.split()), "output_tokens": len(answer.split())}}
        sys.stdout.write(json.dumps(envelope, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(answer + "\n")
    return 0
