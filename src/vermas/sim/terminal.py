"""Keyboard input of the simulated agent: raw-mode bytes → key events (bracketed paste aware).

Events are tuples: ``("text", str)``, ``("paste", str)``, ``("enter",)``, ``("newline",)``,
``("backspace",)``, ``("escape",)``, ``("ctrl-u",)``, ``("ctrl-c",)``, ``("ctrl-d",)``,
``("up",)``, ``("down",)``, ``("left",)``, ``("right",)``, ``("eof",)``.

In a terminal the agent reads raw bytes like Claude Code does: ``\\r`` (Enter) submits,
``\\n`` (Ctrl-J) inserts a newline, and text between ``ESC[200~`` and ``ESC[201~`` is one
paste in which line breaks never submit. Without a terminal (pipes, tests) every input line
is a ``text`` event followed by ``enter``.
"""

from __future__ import annotations

import codecs
import os

PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
_CSI_KEYS = {b"A": "up", b"B": "down", b"C": "right", b"D": "left"}
_CONTROL = {0x0D: ("enter",), 0x0A: ("newline",), 0x7F: ("backspace",), 0x08: ("backspace",),
            0x15: ("ctrl-u",), 0x03: ("ctrl-c",), 0x04: ("ctrl-d",), 0x09: ("text", " ")}


class KeyParser:
    """Incremental parser: feed raw bytes, get key events (escape sequences may span reads)."""

    def __init__(self) -> None:
        self._pending = b""
        self._paste: bytearray | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self, data: bytes) -> list[tuple]:
        data = self._pending + data
        self._pending = b""
        events: list[tuple] = []
        text: list[str] = []

        def flush_text() -> None:
            if text:
                events.append(("text", "".join(text)))
                text.clear()

        i = 0
        n = len(data)
        while i < n:
            if self._paste is not None:
                end = data.find(PASTE_END, i)
                if end < 0:
                    # keep a possible partial end marker for the next read
                    keep = 0
                    for k in range(min(len(PASTE_END) - 1, n - i), 0, -1):
                        if PASTE_END.startswith(data[n - k:]):
                            keep = k
                            break
                    self._paste += data[i:n - keep]
                    self._pending = data[n - keep:]
                    return _finish(events, flush_text)
                self._paste += data[i:end]
                body = bytes(self._paste).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
                self._paste = None
                events.append(("paste", body))
                i = end + len(PASTE_END)
                continue
            byte = data[i]
            if byte == 0x1B:
                rest = data[i:]
                if PASTE_START.startswith(rest) and len(rest) < len(PASTE_START):
                    self._pending = rest
                    break
                if rest.startswith(PASTE_START):
                    flush_text()
                    self._paste = bytearray()
                    i += len(PASTE_START)
                    continue
                if len(rest) == 1:
                    flush_text()
                    events.append(("escape",))
                    i += 1
                    continue
                if rest[1:2] in (b"[", b"O"):
                    j = i + 2
                    while j < n and not (0x40 <= data[j] <= 0x7E):
                        j += 1
                    if j >= n:
                        self._pending = data[i:]
                        break
                    flush_text()
                    key = _CSI_KEYS.get(data[j:j + 1])
                    if key:
                        events.append((key,))
                    i = j + 1
                    continue
                flush_text()  # ESC + char (Alt-key): an escape, then the char as usual
                events.append(("escape",))
                i += 1
                continue
            if byte < 0x20 or byte == 0x7F:
                flush_text()
                event = _CONTROL.get(byte)
                if event:
                    if event[0] == "text":
                        text.append(event[1])
                    else:
                        events.append(event)
                i += 1
                continue
            j = i
            while j < n and data[j] >= 0x20 and data[j] != 0x7F and data[j] != 0x1B:
                j += 1
            text.append(self._decoder.decode(data[i:j]))
            i = j
        return _finish(events, flush_text)


    @property
    def has_pending(self) -> bool:
        """True when an escape sequence may still be incomplete (a lone ESC so far)."""
        return bool(self._pending) and self._paste is None

    def flush_pending(self) -> list[tuple]:
        """No more bytes came: a pending lone ESC was the Escape key."""
        pending, self._pending = self._pending, b""
        if not pending:
            return []
        events: list[tuple] = [("escape",)]
        rest = pending[1:]
        if rest:
            events += self.feed(rest)
        return events


def _finish(events: list[tuple], flush_text) -> list[tuple]:
    flush_text()
    return [e for e in events if e != ("text", "")]


class Terminal:
    """stdin as key events: raw mode on a tty (restored by :meth:`restore`), lines otherwise."""

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self.tty = os.isatty(fd)
        self._saved = None

    def enter_raw(self) -> None:
        if not self.tty:
            return
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setraw(self.fd)

    def restore(self) -> None:
        if self._saved is not None:
            import termios

            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            except termios.error:
                pass
            self._saved = None

    def read_events(self):
        """Yield lists of events until end of input (blocking; run it in a thread)."""
        if self.tty:
            import select

            parser = KeyParser()
            while True:
                if parser.has_pending:
                    ready, _, _ = select.select([self.fd], [], [], 0.03)
                    if not ready:
                        yield parser.flush_pending()
                        continue
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    yield [("eof",)]
                    return
                events = parser.feed(data)
                if events:
                    yield events
        else:
            buffer = b""
            while True:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    if buffer:
                        yield [("text", buffer.decode("utf-8", "replace")), ("enter",)]
                    yield [("eof",)]
                    return
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    events = []
                    text = line.decode("utf-8", "replace").rstrip("\r")
                    if text:
                        events.append(("text", text))
                    events.append(("enter",))
                    yield events
