"""Read a formula file (TOML, or bd's legacy JSON) into a plain dict; bad syntax names file and line."""

from __future__ import annotations

import json
import os

from vermas.formulas.model import SUFFIXES, Diagnostic, FormulaError


def formula_name_of(path: str) -> str:
    """``…/shiny.formula.toml`` → ``shiny`` (the name a file provides by convention)."""
    base = os.path.basename(path)
    for suffix in SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def is_formula_file(path: str) -> bool:
    return os.path.basename(path).endswith(SUFFIXES)


def read_raw(path: str) -> dict:
    """The file's top-level table; :class:`FormulaError` for unreadable or malformed files."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise FormulaError([Diagnostic("error", "", "no such file", path, "io")],
                           hint="check the path, or use 'vermas formula list' to see known formulas") from None
    except OSError as exc:
        raise FormulaError([Diagnostic("error", "", f"cannot read: {exc.strerror}", path, "io")]) from None
    return parse_bytes(data, path)


def parse_bytes(data: bytes, path: str) -> dict:
    """Decode TOML (``.formula.toml`` or anything else) or JSON (``.formula.json``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormulaError([Diagnostic("error", "", f"not valid UTF-8 ({exc.reason} at byte {exc.start})",
                                       path, "encoding")]) from None
    if path.endswith(".json"):
        return _parse_json(text, path)
    return _parse_toml(text, path)


def _parse_toml(text: str, path: str) -> dict:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        line = _line_of(reason)
        where = f"line {line}" if line else ""
        message = f"malformed TOML: {_strip_position(reason)}"
        if line:
            message += f" (line {line}: {_source_line(text, line)!r})"
        raise FormulaError([Diagnostic("error", where, message, path, "toml")],
                           hint="fix the TOML syntax at that line (https://toml.io)") from None


def _parse_json(text: str, path: str) -> dict:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormulaError([Diagnostic("error", f"line {exc.lineno}", f"malformed JSON: {exc.msg} "
                                       f"(line {exc.lineno}, column {exc.colno})", path, "json")]) from None
    if not isinstance(obj, dict):
        raise FormulaError([Diagnostic("error", "", f"expected a JSON object at the top level, got "
                                       f"{type(obj).__name__}", path, "json")])
    return obj


def _line_of(reason: str) -> int | None:
    marker = "(at line "
    start = reason.rfind(marker)
    if start < 0:
        return None
    digits = ""
    for ch in reason[start + len(marker):]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None


def _strip_position(reason: str) -> str:
    cut = reason.rfind(" (at line ")
    return reason[:cut] if cut > 0 else reason


def _source_line(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""
