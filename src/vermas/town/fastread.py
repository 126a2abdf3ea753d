"""Read issues straight from a ledger's JSONL files, without the SQLite index.

For the agents' hook path (``vermas hook``, ``vermas prime``, ``mail check``), where
opening the index costs more than scanning the file: a byte search finds the one line
with ``"id":"<id>"`` (or every line containing a needle) and only those are decoded.
``issues.jsonl`` is always current after a committed transaction, so this reads the truth.
Standard library only.
"""

from __future__ import annotations

import json
import os

_FILES = ("issues.jsonl", "wisps.jsonl")


_cache: dict[str, tuple[tuple[int, int, int], bytes]] = {}


def _read(path: str) -> bytes:
    """The file's bytes; re-read only when its (inode, size, mtime) changed since the last read."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return b""
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return b""
    _cache[path] = (key, data)
    return data


def _line_at(data: bytes, pos: int) -> bytes:
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return data[start:] if end < 0 else data[start:end]


def _decode(line: bytes) -> dict | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None  # a torn or foreign line: the ledger layer reports those
    return obj if isinstance(obj, dict) else None


def find_issue(beads_dir: str, issue_id: str) -> dict | None:
    """The issue with exactly ``issue_id`` in ``issues.jsonl`` or ``wisps.jsonl``, else None."""
    needle = b'"id":' + json.dumps(issue_id).encode("utf-8")
    for name in _FILES:
        data = _read(os.path.join(beads_dir, name))
        pos = data.find(needle)
        while pos >= 0:
            obj = _decode(_line_at(data, pos))
            if obj is not None and obj.get("id") == issue_id:
                return obj
            pos = data.find(needle, pos + 1)
    return None


def issues_containing(beads_dir: str, *needles: str) -> list[dict]:
    """Every issue whose JSON line contains all of ``needles`` (raw JSON text), file order."""
    if not needles:
        return []
    first = needles[0].encode("utf-8")
    rest = [n.encode("utf-8") for n in needles[1:]]
    out: list[dict] = []
    seen: set[str] = set()
    for name in _FILES:
        data = _read(os.path.join(beads_dir, name))
        pos = data.find(first)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end
            line = data[start:end]
            if all(n in line for n in rest):
                obj = _decode(line)
                if obj is not None and obj.get("id") not in seen:
                    seen.add(str(obj.get("id")))
                    out.append(obj)
            pos = data.find(first, end)
    return out


def json_field(key: str, value: str) -> str:
    """The exact text ``"key":"value"`` as the ledger codec writes it (for needles)."""
    text = json.dumps({key: value}, ensure_ascii=False, separators=(",", ":"))[1:-1]
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text
