"""``.beads/config.yaml``: the few keys the ledger reads, without a YAML library.

bd's config file is viper YAML, mostly comments plus ``key: value`` lines. We read scalar
keys at any nesting depth and flatten them with dots (``status:\\n  custom: a,b`` and
``status.custom: a,b`` both give ``{"status.custom": "a,b"}``). Lists and multi-line
values are ignored, which is all the ledger needs.

Keys used: ``issue-prefix`` (bd's prefix), ``status.custom`` and ``types.custom``
(comma-separated extra statuses / issue types the CLI accepts, as bd's
``bd config set status.custom "a,b"``).
"""

from __future__ import annotations

import os

CONFIG_FILE = "config.yaml"


def read(beads_dir: str) -> dict[str, str]:
    """Flattened scalar keys of ``<beads_dir>/config.yaml`` (empty when absent)."""
    try:
        with open(os.path.join(beads_dir, CONFIG_FILE), encoding="utf-8") as fh:
            text = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return parse(text)


def parse(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing mappings
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("- "):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        key, sep, value = stripped.partition(":")
        if not sep or not key or " " in key.strip():
            continue
        key = key.strip().strip("\"'")
        value = _strip_comment(value.strip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        full = ".".join([k for _i, k in stack] + [key])
        if value == "":
            stack.append((indent, key))
            continue
        out[full] = _unquote(value)
    return out


def _strip_comment(value: str) -> str:
    if value.startswith(("'", '"')):
        quote = value[0]
        end = value.find(quote, 1)
        return value[: end + 1] if end > 0 else value
    hash_at = value.find(" #")
    return value[:hash_at].rstrip() if hash_at >= 0 else value


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def csv_list(value: str | None) -> tuple[str, ...]:
    """``"a, b,c"`` → ``("a", "b", "c")``; also accepts a YAML flow list ``[a, b]``."""
    if not value:
        return ()
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return tuple(part.strip().strip("\"'") for part in value.split(",") if part.strip().strip("\"'"))


def custom_statuses(beads_dir: str) -> tuple[str, ...]:
    return csv_list(read(beads_dir).get("status.custom"))


def custom_types(beads_dir: str) -> tuple[str, ...]:
    return csv_list(read(beads_dir).get("types.custom"))
