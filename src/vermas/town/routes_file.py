"""Maintain ``<town>/.beads/routes.jsonl`` (prefix → rig path), bd's routing table."""

from __future__ import annotations

import json
import os

from vermas.fileops import FileLock, atomic_write_text


def read_routes(path: str) -> list[dict]:
    """Valid route lines; blank, ``#`` and malformed lines are skipped like bd does."""
    routes: list[dict] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for raw in fh:
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and obj.get("prefix") and obj.get("path"):
                    routes.append(obj)
    except FileNotFoundError:
        pass
    return routes


def ensure_route(path: str, prefix: str, target: str) -> bool:
    """Add ``{"prefix": "<prefix>-", "path": target}`` unless present; True when added."""
    key = prefix.rstrip("-") + "-"
    with FileLock(path + ".lock"):
        existing = _raw_lines(path)
        for line in existing:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("prefix") == key:
                return False
        existing.append(json.dumps({"prefix": key, "path": target}, separators=(",", ":")))
        atomic_write_text(path, "".join(line + "\n" for line in existing))
    return True


def remove_route(path: str, prefix: str) -> bool:
    key = prefix.rstrip("-") + "-"
    with FileLock(path + ".lock"):
        lines = _raw_lines(path)
        kept = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                kept.append(line)
                continue
            if not (isinstance(obj, dict) and obj.get("prefix") == key):
                kept.append(line)
        if len(kept) == len(lines):
            return False
        atomic_write_text(path, "".join(line + "\n" for line in kept))
    return True


def _raw_lines(path: str) -> list[str]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]
