"""Headless one-shot prompts through a runtime's non-interactive form, with typed failures.

``run_headless(spec, prompt, cwd=…, timeout=…)`` runs e.g. ``claude -p "<prompt>" --output-format
json`` (or ``codex exec --json …``, ``gemini -p … --output-format json``, ``vermas-sim -p …``)
in its own process group, captures stdout and stderr, and returns a :class:`HeadlessResult`,
or raises:

- :class:`HeadlessNotInstalledError` - no binary, or the runtime has no headless form;
- :class:`HeadlessTimeoutError` - past ``timeout``: the whole process group is killed;
- :class:`HeadlessExitError` - non-zero exit, or the output reports an error (``is_error``,
  a gemini ``error`` object, a codex ``turn.failed``);
- :class:`HeadlessOutputError` - the output is empty or cannot be parsed in the runtime's format.

Never a silent success. Prompts over 100 KB go on stdin when the runtime supports it
(``stdin_args``), as argv has a per-argument size limit.

Output formats: ``claude-json`` (one object; ``result`` is the answer, ``is_error``,
``session_id``), ``gemini-json`` (``response``, optional ``error``), ``codex-jsonl`` (events;
the answer is the last completed agent message), ``text`` (stdout is the answer).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from vermas.runtime.errors import (
    HeadlessExitError,
    HeadlessNotInstalledError,
    HeadlessOutputError,
    HeadlessTimeoutError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.spec import RuntimeSpec

ARGV_PROMPT_LIMIT = 100_000
TAIL = 4000


class HeadlessResult:
    """The answer of one headless run: ``text`` (the answer), plus the raw run."""

    def __init__(self, *, text: str, argv: list[str], stdout: str, stderr: str, returncode: int,
                 duration_ms: float, data: object = None, session_id: str | None = None) -> None:
        self.text = text
        self.argv = argv
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.duration_ms = duration_ms
        self.data = data
        self.session_id = session_id

    def json(self) -> dict:
        """The answer parsed as a JSON object (``` fences tolerated); :class:`HeadlessOutputError` otherwise."""
        return parse_answer_json(self.text, argv=self.argv, stdout=self.stdout, stderr=self.stderr)

    def to_dict(self) -> dict:
        return {"text": self.text, "argv": self.argv, "returncode": self.returncode,
                "duration_ms": self.duration_ms, "session_id": self.session_id, "stderr": self.stderr[-TAIL:]}


def build_argv(spec: RuntimeSpec, prompt: str, *, environ: dict | None = None) -> tuple[list[str], bytes | None]:
    """``(argv, stdin)`` for one headless prompt."""
    from vermas.runtime.presets import resolve_command

    form = spec.headless
    if form is None:
        raise HeadlessNotInstalledError(f"runtime {spec.name!r} has no headless (non-interactive) form",
                                        hint="pick a runtime with a [headless] table (vermas runtime show <name>)")
    command = form.command or spec.command
    binary = resolve_command(command, environ)
    if binary is None:
        raise HeadlessNotInstalledError(f"runtime {spec.name!r}: {command!r} is not installed (not on PATH)",
                                        hint=f"install {command}, or choose another runtime (vermas runtime check)")
    use_stdin = not form.args or (len(prompt.encode("utf-8")) > ARGV_PROMPT_LIMIT and form.stdin_args)
    if use_stdin:
        return [binary, *form.stdin_args], prompt.encode("utf-8")
    return [binary, *[prompt if a == "{prompt}" else a for a in form.args]], None


def run_headless(spec: RuntimeSpec, prompt: str, *, cwd: str, timeout: float = 300.0, env: dict | None = None,
                 extra_args: list[str] | tuple[str, ...] = ()) -> HeadlessResult:
    """Run one prompt; the answer, or a typed :class:`~vermas.runtime.errors.HeadlessError`."""
    environ = dict(os.environ)
    bin_dir = os.path.dirname(sys.executable)
    environ["PATH"] = bin_dir + os.pathsep + environ.get("PATH", "")
    environ.update(spec.env)
    if spec.headless is not None:
        environ.update(spec.headless.env)
    environ.update(env or {})
    argv, stdin = build_argv(spec, prompt, environ=environ)
    argv += list(extra_args)
    shown = [a if len(a) < 200 else a[:200] + "…" for a in argv]
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=environ, stdin=subprocess.PIPE if stdin is not None else
                                subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        raise HeadlessNotInstalledError(f"runtime {spec.name!r}: cannot run {argv[0]}: {exc}", argv=shown) from exc
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = _kill_group(proc)
        elapsed = (time.monotonic() - started) * 1000
        raise HeadlessTimeoutError(
            f"runtime {spec.name!r}: headless prompt timed out after {timeout:g}s (process group killed)",
            hint="raise the timeout, or check the agent CLI by hand", argv=shown, returncode=proc.returncode,
            stdout=_text(out)[-TAIL:], stderr=_text(err)[-TAIL:], duration_ms=elapsed) from None
    elapsed = (time.monotonic() - started) * 1000
    stdout, stderr = _text(out), _text(err)
    if proc.returncode != 0:
        detail = (stderr.strip() or stdout.strip())[-500:]
        raise HeadlessExitError(f"runtime {spec.name!r}: headless prompt exited {proc.returncode}: {detail}",
                                hint="the stderr tail is attached to this error", argv=shown,
                                returncode=proc.returncode, stdout=stdout[-TAIL:], stderr=stderr[-TAIL:],
                                duration_ms=elapsed)
    fmt = spec.headless.output if spec.headless else "text"
    text, data, session_id = parse_output(fmt, stdout, spec_name=spec.name, argv=shown, stderr=stderr)
    return HeadlessResult(text=text, argv=shown, stdout=stdout, stderr=stderr, returncode=proc.returncode,
                          duration_ms=round(elapsed, 2), data=data, session_id=session_id)


def _kill_group(proc: subprocess.Popen) -> tuple[bytes, bytes]:
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            return proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return b"", b""


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def parse_output(fmt: str, stdout: str, *, spec_name: str = "?", argv: list[str] | None = None,
                 stderr: str = "") -> tuple[str, object, str | None]:
    """``(answer text, parsed data, session id)`` from a runtime's headless stdout."""
    def bad(reason: str) -> HeadlessOutputError:
        return HeadlessOutputError(f"runtime {spec_name!r}: unparseable {fmt} output: {reason}",
                                   hint="the raw stdout is attached to this error", argv=argv,
                                   stdout=stdout[-TAIL:], stderr=stderr[-TAIL:], returncode=0)

    if not stdout.strip():
        raise bad("empty output")
    if fmt == "text":
        return stdout.strip(), None, None
    if fmt == "codex-jsonl":
        return _parse_codex(stdout, bad, spec_name, argv, stderr)
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise bad("expected a JSON object")
    if fmt == "claude-json":
        if data.get("is_error") or (data.get("subtype") not in (None, "success")):
            raise HeadlessExitError(f"runtime {spec_name!r}: headless run reported an error "
                                    f"({data.get('subtype')}): {str(data.get('result', ''))[:300]}",
                                    argv=argv, stdout=stdout[-TAIL:], stderr=stderr[-TAIL:], returncode=0)
        result = data.get("result")
        if not isinstance(result, str):
            raise bad("no string 'result' member")
        return result, data, data.get("session_id")
    if fmt == "gemini-json":
        if data.get("error"):
            raise HeadlessExitError(f"runtime {spec_name!r}: headless run reported an error: "
                                    f"{json.dumps(data['error'])[:300]}", argv=argv, stdout=stdout[-TAIL:],
                                    stderr=stderr[-TAIL:], returncode=0)
        response = data.get("response")
        if not isinstance(response, str):
            raise bad("no string 'response' member")
        return response, data, None
    raise bad(f"unknown output format {fmt!r}")


def _parse_codex(stdout: str, bad, spec_name: str, argv: list[str] | None, stderr: str):
    answer, session_id, events = None, None, []
    for line in stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        events.append(event)
        kind = event.get("type") or event.get("method")
        if kind in ("thread.started", "session.created"):
            session_id = event.get("thread_id") or event.get("session_id")
        if kind in ("turn.failed", "error"):
            message = (event.get("error") or {}).get("message") if isinstance(event.get("error"), dict) \
                else event.get("message")
            raise HeadlessExitError(f"runtime {spec_name!r}: codex reported {kind}: {str(message)[:300]}",
                                    argv=argv, stdout=stdout[-TAIL:], stderr=stderr[-TAIL:], returncode=0)
        item = event.get("item") if isinstance(event.get("item"), dict) else None
        if kind == "item.completed" and item:
            item_type = item.get("type") or item.get("item_type")
            if item_type in ("agent_message", "assistant_message") and isinstance(item.get("text"), str):
                answer = item["text"]
    if not events:
        raise bad("no JSON events")
    if answer is None:
        raise bad("no completed agent message")
    return answer, events, session_id


def parse_answer_json(text: str, *, argv: list[str] | None = None, stdout: str = "", stderr: str = "") -> dict:
    """A JSON object from an answer text: the whole text, a fenced ```json block, or the outermost {…}."""
    import re

    candidates = [text.strip()]
    fence = re.search(r"```(?:json)?\s*\n(.*?)\n\s*```", text, re.S)
    if fence:
        candidates.append(fence.group(1))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise HeadlessOutputError(f"the answer is not a JSON object: {text.strip()[:200]!r}",
                              hint="treat as no verdict (NEEDS_HUMAN), never as success", argv=argv,
                              stdout=stdout[-TAIL:], stderr=stderr[-TAIL:], returncode=0)
