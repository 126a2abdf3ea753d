"""``key: value`` fields in bead descriptions (Gas Town's convention, ``internal/beads/fields.go``).

A molecule root records its formula, vars, attachment and wisp expiry this way; a work bead
records its attached molecule with Gas Town's attachment keys (``attached_molecule``,
``attached_formula``, ``attached_at``, ``formula_vars``), so ``gt`` and VerMAS both find it.
Standard library only (read on the hook path).
"""

from __future__ import annotations

ATTACHMENT_KEYS = ("attached_molecule", "attached_formula", "attached_at", "attached_args", "dispatched_by",
                   "no_merge", "mode", "convoy_id", "merge_strategy", "convoy_owned", "formula_vars")


def _normal(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def parse_fields(description: str) -> dict[str, str]:
    """Every ``key: value`` line (keys lower-cased, ``-`` → ``_``); the first occurrence wins."""
    out: dict[str, str] = {}
    for line in (description or "").split("\n"):
        text = line.strip()
        colon = text.find(":")
        if colon <= 0:
            continue
        key = text[:colon].strip()
        if " " in key:
            continue
        value = text[colon + 1:].strip()
        if value:
            out.setdefault(_normal(key), value)
    return out


def get_field(description: str, key: str) -> str | None:
    return parse_fields(description).get(_normal(key))


def set_fields(description: str, fields: dict[str, str | None], *, replace: tuple[str, ...] = ()) -> str:
    """Put ``fields`` first (in the given order), then the rest of the description.

    Existing lines for those keys (and for every key in ``replace``) are removed; a ``None``
    value removes the key. This is Gas Town's ``SetAttachmentFields`` layout.
    """
    drop = {_normal(k) for k in fields} | {_normal(k) for k in replace}
    other: list[str] = []
    for line in (description or "").split("\n"):
        text = line.strip()
        colon = text.find(":")
        if colon > 0 and " " not in text[:colon].strip() and _normal(text[:colon]) in drop:
            continue
        other.append(line)
    while other and not other[-1].strip():
        other.pop()
    while other and not other[0].strip():
        other.pop(0)
    head = [f"{key}: {value}" for key, value in fields.items() if value is not None and value != ""]
    if not head:
        return "\n".join(other)
    if not other:
        return "\n".join(head)
    return "\n".join(head) + "\n\n" + "\n".join(other)


def encode_vars(values: dict[str, str]) -> str:
    """Vars as one line: ``k=v`` pairs separated by ``; `` (``;``/``\\`` escaped)."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace("\n", "\\n")

    return "; ".join(f"{esc(k)}={esc(v)}" for k, v in values.items())


def decode_vars(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            current += {"n": "\n"}.get(nxt, nxt)
            i += 2
            continue
        if ch == ";":
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    for part in parts:
        key, sep, value = part.lstrip().partition("=")
        if sep and key:
            out[key] = value
    return out
