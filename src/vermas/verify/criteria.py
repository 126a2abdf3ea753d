"""Acceptance criteria and the success threshold of a test spec.

A criterion is ``{id: AC-n, description, verify_command, expected_exit_code (0),
timeout_seconds (60), objective (true), hint}``:

* **objective** criteria are decided by their command alone: the verifier runs
  ``verify_command`` and the criterion passes when it exits with ``expected_exit_code``
  within ``timeout_seconds``;
* **subjective** ones (``objective: false``) are decided by the auditor (an LLM) from the
  evidence; their command, if any, only gathers evidence for it;
* ``hint`` is what to do when the criterion fails ("check 15 first"): shown to the panel and
  carried into the rework request.

The threshold is ``"all"`` (default) or a percentage such as ``"80%"``: the fraction of
criteria that must pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vermas.errors import DataError, UsageError

ID_PATTERN = re.compile(r"^AC-([1-9][0-9]*)$")
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 24 * 3600.0
ALL = "all"


@dataclass
class Criterion:
    """One acceptance criterion (see the module docstring)."""

    id: str
    description: str
    verify_command: str = ""
    expected_exit_code: int = 0
    timeout_seconds: float = DEFAULT_TIMEOUT
    objective: bool = True
    hint: str = ""

    @property
    def number(self) -> int:
        match = ID_PATTERN.match(self.id)
        return int(match.group(1)) if match else 0

    def to_dict(self) -> dict:
        out = {"id": self.id, "description": self.description, "verify_command": self.verify_command,
               "expected_exit_code": self.expected_exit_code, "timeout_seconds": _number(self.timeout_seconds),
               "objective": self.objective}
        if self.hint:
            out["hint"] = self.hint
        return out

    @classmethod
    def from_dict(cls, data: object, where: str = "criterion") -> Criterion:
        """Validate a criterion read from a spec; :class:`DataError` naming ``where`` otherwise."""
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected an object, got {type(data).__name__}")
        try:
            return build(str(data.get("id", "")), str(data.get("description", "")),
                         str(data.get("verify_command") or data.get("test_command") or ""),
                         expected=data.get("expected_exit_code", 0),
                         timeout=data.get("timeout_seconds", data.get("timeout", DEFAULT_TIMEOUT)),
                         objective=data.get("objective", True), hint=str(data.get("hint") or ""))
        except UsageError as exc:
            raise DataError(f"{where}: {exc.message}") from None


def build(cid: str, description: str, command: str, *, expected: object = 0, timeout: object = DEFAULT_TIMEOUT,
          objective: object = True, hint: str = "") -> Criterion:
    """A validated criterion; :class:`UsageError` naming the bad field."""
    if not ID_PATTERN.match(cid):
        raise UsageError(f"criterion id {cid!r} is not of the form AC-<n>")
    if not description.strip():
        raise UsageError(f"{cid}: a criterion needs a description")
    if not isinstance(objective, bool):
        raise UsageError(f"{cid}: objective must be true or false, got {objective!r}")
    if objective and not command.strip():
        raise UsageError(f"{cid}: an objective criterion needs a verify command",
                         hint="give --verify 'CMD' (exit code decides), or mark it --subjective for the auditor")
    if isinstance(expected, bool) or not isinstance(expected, int | str):
        raise UsageError(f"{cid}: expected_exit_code must be an integer, got {expected!r}")
    try:
        code = int(expected)
    except ValueError:
        raise UsageError(f"{cid}: expected_exit_code must be an integer, got {expected!r}") from None
    if not 0 <= code <= 255:
        raise UsageError(f"{cid}: expected_exit_code must be between 0 and 255, got {code}")
    if isinstance(timeout, bool):
        raise UsageError(f"{cid}: timeout_seconds must be a number, got {timeout!r}")
    try:
        seconds = float(timeout)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"{cid}: timeout_seconds must be a number, got {timeout!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise UsageError(f"{cid}: timeout_seconds must be > 0 and at most {MAX_TIMEOUT:.0f}, got {seconds:g}")
    return Criterion(cid, description.strip(), command.strip(), code, seconds, objective, hint.strip())


def next_id(criteria: list[Criterion]) -> str:
    """The next free ``AC-n`` (one past the highest used)."""
    return f"AC-{max((c.number for c in criteria), default=0) + 1}"


def parse_threshold(value: object) -> str:
    """Canonical threshold text: ``"all"`` or ``"NN%"`` (also accepts 0.8, "0.8", 80, "80")."""
    if value is None:
        return ALL
    if isinstance(value, bool):
        raise UsageError(f"threshold must be 'all' or a percentage, got {value!r}")
    text = str(value).strip().lower()
    if text in ("", ALL, "100%"):
        return ALL
    try:
        number = float(text[:-1]) if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"threshold must be 'all' or a percentage such as 80%, got {value!r}") from None
    percent = number if (text.endswith("%") or number > 1) else number * 100
    if not 0 < percent <= 100:
        raise UsageError(f"threshold must be between 0% and 100%, got {value!r}")
    if percent >= 100:
        return ALL
    return f"{_number(percent)}%"


def fraction(threshold: str) -> float:
    """The pass fraction a threshold asks for (1.0 for ``all``)."""
    text = parse_threshold(threshold)
    return 1.0 if text == ALL else float(text[:-1]) / 100.0


def meets(passed: int, total: int, threshold: str) -> bool:
    """Do ``passed`` of ``total`` criteria meet ``threshold``? (No criteria never meets it.)"""
    if total <= 0:
        return False
    return passed / total >= fraction(threshold) - 1e-9


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 3)
