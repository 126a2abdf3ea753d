"""Output of the simulated agent: lines, a one-line busy status, the prompt, dialogs.

The busy status (``✻ Working… (esc to interrupt)``) is always the last line while a turn
runs and is erased when it ends, so "busy marker visible" means busy, as in Claude Code.
Without a terminal the same text is written as plain lines (no escape sequences).
"""

from __future__ import annotations

import os

PROMPT = "❯ "
BUSY = "✻ Working… (esc to interrupt)"
CLEAR_LINE = "\r\x1b[2K"


class Screen:
    def __init__(self, fd: int = 1, *, tty: bool | None = None) -> None:
        self.fd = fd
        self.tty = os.isatty(fd) if tty is None else tty
        self.status: str | None = None
        self.nl = "\r\n" if self.tty else "\n"

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            try:
                written = os.write(self.fd, data)
            except InterruptedError:
                continue
            except OSError:
                return  # the terminal went away (session killed): nothing left to show
            data = data[written:]

    def line(self, text: str = "") -> None:
        """Print one (possibly multi-line) block above the status line."""
        body = self.nl.join(text.split("\n"))
        if self.tty and self.status is not None:
            self.write(CLEAR_LINE + body + self.nl + self.status)
        else:
            self.write(body + self.nl)

    def set_status(self, text: str) -> None:
        if self.tty:
            self.write(CLEAR_LINE + text)
        elif self.status != text:
            self.write(text + self.nl)
        self.status = text

    def clear_status(self) -> None:
        if self.status is not None and self.tty:
            self.write(CLEAR_LINE)
        self.status = None

    def prompt(self, buffer: str = "") -> None:
        """Show the ready prompt with whatever is already typed."""
        if self.tty:
            self.write(CLEAR_LINE + PROMPT + self.nl.join(buffer.split("\n")))
        else:
            self.write(PROMPT + self.nl)

    def echo(self, text: str) -> None:
        if self.tty:
            self.write(self.nl.join(text.split("\n")))

    def clear_screen(self) -> None:
        if self.tty:
            self.write("\x1b[2J\x1b[3J\x1b[H")

    def bracketed_paste(self, on: bool) -> None:
        if self.tty:
            self.write("\x1b[?2004h" if on else "\x1b[?2004l")
