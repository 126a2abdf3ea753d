"""``key: value`` lines, Gas Town's way of keeping structured data in bead descriptions.

Merge-request beads start with ``branch: …`` lines; protocol mail bodies start with
``Key: value`` lines followed by a blank line and free text. Values are single-line: newlines
in a value are replaced by spaces when formatting, so a field can never inject another.
"""

from __future__ import annotations


def format_fields(fields: dict[str, object], *, skip_empty: bool = True) -> str:
    """``key: value`` lines in the given order (no trailing newline)."""
    lines = []
    for key, value in fields.items():
        if value is None or (skip_empty and value == ""):
            continue
        text = str(value).replace("\r", " ").replace("\n", " ").strip()
        lines.append(f"{key}: {text}")
    return "\n".join(lines)


def parse_fields(text: str, *, stop_at_blank: bool = True) -> tuple[dict[str, str], str]:
    """Leading ``key: value`` lines of ``text`` and the free text after them.

    Parsing stops at the first blank line (when ``stop_at_blank``) or the first line that is
    not ``key: value``; keys keep their case. Later duplicates win.
    """
    fields: dict[str, str] = {}
    lines = (text or "").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        if not line.strip():
            if stop_at_blank and fields:
                i += 1
                break
            i += 1
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or (" " in key.strip() and not _spaced_key(key.strip())):
            break
        fields[key.strip()] = value.strip()
        i += 1
    rest = "\n".join(lines[i:]).strip("\n")
    return fields, rest


def _spaced_key(key: str) -> bool:
    """Keys like ``Previous Status`` (two capitalised words) occur in Gas Town bodies."""
    words = key.split()
    return len(words) <= 3 and all(w[:1].isupper() for w in words)


def get_field(text: str, key: str) -> str | None:
    """One field of a description, case-insensitively, anywhere in its leading field block."""
    fields, _rest = parse_fields(text, stop_at_blank=False)
    lowered = key.lower()
    for k, v in fields.items():
        if k.lower() == lowered:
            return v
    return None


def set_fields(text: str, updates: dict[str, object]) -> str:
    """``text`` with its leading field block updated (keys added at the end of the block)."""
    fields, rest = parse_fields(text, stop_at_blank=False)
    lower = {k.lower(): k for k in fields}
    for key, value in updates.items():
        existing = lower.get(key.lower(), key)
        if value is None or value == "":
            fields.pop(existing, None)
        else:
            fields[existing] = str(value)
    block = format_fields(fields)
    if rest:
        return f"{block}\n\n{rest}" if block else rest
    return block
