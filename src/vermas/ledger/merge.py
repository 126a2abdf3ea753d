"""Merge two versions of ledger files issue by issue (used by ``vermas sync`` on conflicts).

``issues.jsonl``: the union of both sides by id. An id on one side only is kept (nothing is
dropped); an id on both sides takes the version with the newer ``updated_at`` (exact to the
nanosecond). On a tie the tombstone, then the closed issue, then the byte-wise larger line
wins, so both clones compute the same result. Output is canonical and sorted by id.

Append-only logs (``events.jsonl``): the union of both sides' lines, each line once,
ordered by timestamp (stable; lines without one stay after their predecessor).
"""

from __future__ import annotations

import json

from vermas.ledger import codec, timefmt


def parse_side(text: str, label: str) -> tuple[dict[str, tuple[str, dict]], list[str]]:
    """``{id: (line, issue)}`` of one side (last duplicate wins) and its non-issue lines."""
    issues: dict[str, tuple[str, dict]] = {}
    foreign: list[str] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        obj = codec.decode_line(line, label, lineno)
        if not codec.is_issue_record(obj):
            foreign.append(line)
            continue
        codec.validate_record(obj, label, lineno)
        issues[obj["id"]] = (line, obj)
    return issues, foreign


def _rank(line: str, issue: dict) -> tuple:
    status = issue.get("status") or "open"
    return (timefmt.parse_ns(issue.get("updated_at")) or 0, status == "tombstone", status == "closed", line)


def merge_issues(ours: str, theirs: str, *, ours_label: str = "ours", theirs_label: str = "theirs") -> tuple[str, dict]:
    """The merged ``issues.jsonl`` text and counts ``{ours_only, theirs_only, same, took_ours, took_theirs}``."""
    left, left_foreign = parse_side(ours, ours_label)
    right, right_foreign = parse_side(theirs, theirs_label)
    stats = {"ours_only": 0, "theirs_only": 0, "same": 0, "took_ours": 0, "took_theirs": 0}
    merged: dict[str, str] = {}
    for issue_id in left.keys() | right.keys():
        a, b = left.get(issue_id), right.get(issue_id)
        if b is None:
            assert a is not None
            stats["ours_only"] += 1
            merged[issue_id] = codec.encode_issue(a[1])
        elif a is None:
            stats["theirs_only"] += 1
            merged[issue_id] = codec.encode_issue(b[1])
        else:
            la, lb = codec.encode_issue(a[1]), codec.encode_issue(b[1])
            if la == lb:
                stats["same"] += 1
                merged[issue_id] = la
            elif _rank(la, a[1]) >= _rank(lb, b[1]):
                stats["took_ours"] += 1
                merged[issue_id] = la
            else:
                stats["took_theirs"] += 1
                merged[issue_id] = lb
    foreign = list(dict.fromkeys(left_foreign + right_foreign))
    body = "".join(merged[i] + "\n" for i in sorted(merged)) + "".join(f + "\n" for f in foreign)
    return body, stats


def merge_log(ours: str, theirs: str) -> str:
    """Union of two append-only JSONL logs, each line once, in timestamp order."""
    seen: set[str] = set()
    lines: list[str] = []
    for text in (ours, theirs):
        for raw in text.split("\n"):
            line = raw.rstrip("\r")
            if line.strip() and line not in seen:
                seen.add(line)
                lines.append(line)
    keyed = []
    last = 0
    for position, line in enumerate(lines):
        stamp = None
        try:
            obj = json.loads(line)
            if isinstance(obj, dict):
                stamp = timefmt.parse_ns(obj.get("timestamp") or obj.get("created_at"))
        except ValueError:
            pass
        if stamp is not None:
            last = stamp
        keyed.append((stamp if stamp is not None else last, position, line))
    keyed.sort()
    return "".join(line + "\n" for _s, _p, line in keyed)


def check_mergeable(text: str, label: str) -> None:
    """Raise ``DataError`` naming the line if a side cannot be parsed."""
    parse_side(text, label)

