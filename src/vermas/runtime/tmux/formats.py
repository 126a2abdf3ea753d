"""tmux format strings (``-F``): build one from field names, parse tab-separated output back."""

from __future__ import annotations

# Fields we read, and how to convert them (anything else stays a string).
INT_FIELDS = {"pane_pid", "pane_dead_status", "pane_width", "pane_height", "window_width", "window_height",
              "session_windows", "cursor_x", "cursor_y", "history_size"}
BOOL_FIELDS = {"pane_dead", "pane_in_mode", "session_attached", "pane_active"}
TIME_FIELDS = {"session_created", "session_activity", "window_activity", "pane_dead_time"}

PANE_FIELDS = ("session_name", "pane_id", "pane_pid", "pane_current_command", "pane_current_path",
               "pane_dead", "pane_dead_status", "pane_in_mode", "pane_width", "pane_height", "window_activity")
SEP = "\t"


def format_string(fields: tuple[str, ...] | list[str]) -> str:
    return SEP.join("#{" + f + "}" for f in fields)


def parse_line(fields: tuple[str, ...] | list[str], line: str) -> dict:
    values = line.split(SEP)
    values += [""] * (len(fields) - len(values))
    out: dict = {}
    for name, raw in zip(fields, values, strict=False):
        if name in INT_FIELDS:
            out[name] = int(raw) if raw.lstrip("-").isdigit() else None
        elif name in BOOL_FIELDS:
            out[name] = raw == "1"
        elif name in TIME_FIELDS:
            out[name] = float(raw) if raw.isdigit() else None
        else:
            out[name] = raw
    return out


def parse_lines(fields: tuple[str, ...] | list[str], text: str) -> list[dict]:
    return [parse_line(fields, line) for line in text.splitlines() if line]
