"""bd's issue ids: ``<prefix>-<base36 hash>`` with adaptive length, and ``parent.N`` children.

Port of ``internal/idgen/hash.go`` and ``internal/storage/sqlite/adaptive_length.go``
(bd v0.43). The hash input is ``title|description|creator|created_at_unix_nanos|nonce``.
"""

from __future__ import annotations

import math

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_BYTES_FOR_LENGTH = {3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 5}
MIN_LENGTH, MAX_LENGTH = 3, 8
MAX_COLLISION_PROBABILITY = 0.25
NONCES_PER_LENGTH = 10


def _base36(value: int) -> str:
    if value == 0:
        return "0"
    digits = []
    while value:
        value, rem = divmod(value, 36)
        digits.append(_ALPHABET[rem])
    return "".join(reversed(digits))


def hash_suffix(title: str, description: str, creator: str, created_ns: int, nonce: int, length: int) -> str:
    """The base36 hash part of an id (``GenerateHashID`` without the prefix)."""
    import hashlib  # lazily: _hashlib costs ~4 ms of start-up that read commands do not need

    content = f"{title}|{description}|{creator}|{created_ns}|{nonce}".encode()
    digest = hashlib.sha256(content).digest()
    value = int.from_bytes(digest[: _BYTES_FOR_LENGTH[length]], "big")
    return _base36(value).rjust(length, "0")[-length:]


def hash_id(prefix: str, title: str, description: str, creator: str, created_ns: int, nonce: int, length: int) -> str:
    return f"{prefix}-{hash_suffix(title, description, creator, created_ns, nonce, length)}"


def adaptive_length(existing: int, *, min_length: int = MIN_LENGTH, max_length: int = MAX_LENGTH,
                    max_probability: float = MAX_COLLISION_PROBABILITY) -> int:
    """Smallest length whose birthday-collision probability for ``existing`` ids is acceptable."""
    for length in range(min_length, max_length + 1):
        space = 36.0**length
        probability = 1.0 - math.exp(-(existing * existing) / (2.0 * space))
        if probability <= max_probability:
            return length
    return max_length


def generate(prefix: str, title: str, description: str, creator: str, created_ns: int,
             taken: object, top_level_count: int) -> str:
    """A fresh id not in ``taken`` (anything supporting ``in``), bd's collision strategy.

    For each length from the adaptive one up to 8, try nonces 0..9 and take the first
    candidate that is free.
    """
    start = adaptive_length(top_level_count)
    for length in range(start, MAX_LENGTH + 1):
        for nonce in range(NONCES_PER_LENGTH):
            candidate = hash_id(prefix, title, description, creator, created_ns, nonce, length)
            if candidate not in taken:  # type: ignore[operator]
                return candidate
    raise RuntimeError(f"could not generate a unique id for prefix {prefix!r}")


def is_hierarchical(issue_id: str) -> bool:
    """``bd-abc.3`` style child ids end in ``.<digits>`` (prefixes may contain dots)."""
    head, dot, tail = issue_id.rpartition(".")
    return bool(dot and head and tail.isdigit())


def parent_of(issue_id: str) -> str | None:
    """The parent id of a hierarchical id, else None."""
    if not is_hierarchical(issue_id):
        return None
    return issue_id.rpartition(".")[0]


def depth(issue_id: str) -> int:
    """How many ``.N`` levels an id has."""
    count = 0
    while is_hierarchical(issue_id):
        issue_id = issue_id.rpartition(".")[0]
        count += 1
    return count


def prefix_of(issue_id: str) -> str:
    """The prefix (without ``-``) of an id, as bd's ``ExtractIssuePrefix`` computes it.

    Uses the last ``-`` when the suffix is numeric or hash-like (``web-app-a3f8e9`` →
    ``web-app``), otherwise the first ``-`` (``gt-gastown-polecat-nux`` → ``gt``).
    """
    last = issue_id.rfind("-")
    if last <= 0:
        return ""
    suffix = issue_id[last + 1 :]
    dot = suffix.find(".")
    head = suffix[:dot] if dot > 0 else suffix
    if head and (_scans_as_int(head) or _looks_like_hash(head)):
        return issue_id[:last]
    first = issue_id.find("-")
    return issue_id[:first] if first > 0 else ""


def _scans_as_int(text: str) -> bool:
    """Go's ``Sscanf("%d")`` succeeds when the text starts with an optional sign and a digit."""
    body = text[1:] if text[:1] in "+-" else text
    return bool(body) and body[0].isdigit()


def _looks_like_hash(text: str) -> bool:
    if not 3 <= len(text) <= 8:
        return False
    return all(c.isascii() and c.isalnum() for c in text) and any(c.isdigit() for c in text)
