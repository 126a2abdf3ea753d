"""Reading a hook's JSON input from stdin without ever hanging (hot path, stdlib only).

Claude Code writes one JSON object to a hook's stdin and closes it. Run by hand from a
terminal there is no input: a TTY is never read, and a pipe that stays open and silent is
given up after a short wait.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


def read_hook_input(stream: IO[str] | None, *, wait: float = 0.5) -> dict:
    """The hook's JSON object, or ``{}`` when there is none or it is not JSON."""
    if stream is None:
        return {}
    try:
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fileno = None
    if fileno is not None:
        import os
        import select

        if os.isatty(fileno):
            return {}
        try:
            ready, _, _ = select.select([fileno], [], [], wait)
        except (OSError, ValueError):
            return {}
        if not ready:
            return {}
    try:
        text = stream.read()
    except (OSError, ValueError):
        return {}
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {"_unparseable": text[:200]}
    return data if isinstance(data, dict) else {"_unparseable": text[:200]}
