"""Byte-exact JSONL codec for ``issues.jsonl`` (Go ``encoding/json`` conventions).

Reading keeps every key and its order; writing a line that was read reproduces its bytes.
Issues are plain dicts in key order, so unknown fields and enum values survive round trips.
"""

from __future__ import annotations

import json

from vermas.errors import DataError
from vermas.ledger.schema import KEY_RANK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

_loads = json.loads
_scan_once = json.JSONDecoder().scan_once  # the C scanner: json.loads without its per-call Python layers


def _fast_loads(line: str) -> object:
    """``json.loads`` for a line that starts with a value (the common case), else the real thing."""
    try:
        obj, end = _scan_once(line, 0)
    except StopIteration:
        return _loads(line)  # raises the precise error
    if end != len(line) and line[end:].strip():
        return _loads(line)
    return obj


def _make_dumps():
    """Compact, non-ASCII-preserving ``json.dumps``; the C encoder built once (≈20% faster per call)."""
    from json.encoder import c_encode_basestring, c_make_encoder

    if c_make_encoder is None or c_encode_basestring is None:  # pure-Python json: use the public API
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def default(obj: object) -> object:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    encoder = c_make_encoder(None, default, c_encode_basestring, None, ":", ",", False, False, True)

    def dumps(obj: object) -> str:
        return "".join(encoder(obj, 0))

    return dumps


_dumps = _make_dumps()
_ordered_key_sets: dict[tuple[str, ...], bool] = {}


def encode(obj: dict) -> str:
    """One compact JSON line (no newline) escaped the way Go's encoder escapes HTML."""
    text = _dumps(obj)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text


def canonical(issue: dict) -> dict:
    """The issue with known keys in bd's struct order; unknown keys keep their neighbours."""
    keys = tuple(issue)
    known = _ordered_key_sets.get(keys)
    if known:
        return issue
    ranks: list[float] = []
    last = -1.0
    ordered = True
    for key in issue:
        rank = KEY_RANK.get(key)
        r = float(rank) if rank is not None else last + 0.001
        if r < last:
            ordered = False
        ranks.append(r)
        last = r
    if ordered:
        if len(_ordered_key_sets) < 4096:
            _ordered_key_sets[keys] = True
        return issue
    keyed = sorted(zip(ranks, range(len(ranks)), issue.items(), strict=True))
    return {k: v for _r, _i, (k, v) in keyed}


def encode_issue(issue: dict) -> str:
    """Canonical line for an issue (reordering keys only when they are out of order)."""
    return encode(canonical(issue))


def decode_line(line: str, path: str, lineno: int) -> dict:
    """Parse one line; a malformed line raises ``DataError('path:line: reason')``."""
    try:
        obj = _loads(line)
    except ValueError as exc:
        raise DataError(f"{path}:{lineno}: malformed JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    return obj


def is_issue_record(obj: dict) -> bool:
    """True for issue lines (bd ≤ v0.49 lines, or v1 lines with ``"_type":"issue"``)."""
    kind = obj.get("_type")
    return kind is None or kind == "issue"


def validate_record(obj: dict, path: str, lineno: int) -> None:
    """The minimum an issue line needs to be usable: a string id and title."""
    ident = obj.get("id")
    if not isinstance(ident, str) or not ident:
        raise DataError(f"{path}:{lineno}: issue has no string 'id'")
    if not isinstance(obj.get("title", ""), str):
        raise DataError(f"{path}:{lineno}: issue {ident}: 'title' is not a string")
    priority = obj.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise DataError(f"{path}:{lineno}: issue {ident}: 'priority' is not an integer")
    for key in ("dependencies", "labels", "comments"):
        if key in obj and not isinstance(obj[key], list):
            raise DataError(f"{path}:{lineno}: issue {ident}: '{key}' is not a list")


def read_records(path: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """Every issue in a JSONL file as ``(raw_line, obj)`` plus non-issue lines verbatim.

    Blank lines are skipped. Any malformed line aborts with ``path:line: reason`` before
    anything is changed anywhere.
    """
    with open(path, encoding="utf-8", newline="\n") as fh:
        return parse_lines(fh, path)


def parse_lines(lines: Iterable[str], path: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """:func:`read_records` over any iterable of lines (``path`` names them in errors)."""
    issues: list[tuple[str, dict]] = []
    foreign: list[str] = []
    for lineno, raw in enumerate(lines, 1):
        line = raw[:-1] if raw.endswith("\n") else raw
        if line.endswith("\r"):
            line = line[:-1]
        if not line or line.isspace():
            continue
        try:
            obj = _fast_loads(line)
        except ValueError:
            obj = decode_line(line, path, lineno)  # raises with the file:line message
        if type(obj) is not dict:
            decode_line(line, path, lineno)  # raises: not an object
        if "_type" in obj and obj["_type"] != "issue":
            foreign.append(line)
            continue
        validate_record(obj, path, lineno)
        issues.append((line, obj))
    return issues, foreign


def render(issues: list[dict]) -> str:
    """A whole ``issues.jsonl`` body: canonical lines sorted by id (byte order)."""
    lines = sorted((issue["id"], encode_issue(issue)) for issue in issues)
    return "".join(line + "\n" for _id, line in lines)
