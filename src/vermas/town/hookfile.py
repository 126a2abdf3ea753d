"""The seed's hook file: ``<ledger>/.hook-<agent address with / replaced by ->`` holding ``<type>:<id>``.

Types: ``bead`` (work), ``mail`` (a handoff message), ``mol`` (a molecule). One hook per
agent. The file is one half of a hook; the other is the bead itself (``status=hooked``,
``assignee=<address>``), which Gas Town reads. Standard library only (hook path).
"""

from __future__ import annotations

import os

REF_TYPES = ("bead", "mail", "mol")


def read(path: str) -> tuple[str, str] | None:
    """``(ref_type, ref_id)`` from a hook file, or None when absent or empty."""
    try:
        with open(path, encoding="utf-8") as fh:
            content = fh.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not content:
        return None
    ref_type, sep, ref_id = content.partition(":")
    if not sep:  # a bare id: treat as a bead, the way the seed's hook reader would fail softly
        return "bead", content
    return ref_type.strip(), ref_id.strip()


def write(path: str, ref_type: str, ref_id: str) -> None:
    """Replace the hook atomically (the content is exactly ``type:id``, no newline, as the seed writes)."""
    from vermas.fileops import atomic_write_text

    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, f"{ref_type}:{ref_id}", durable=False)  # the bead (ledger) is the durable half


def clear(path: str) -> bool:
    """Remove the hook file; True when there was one."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
