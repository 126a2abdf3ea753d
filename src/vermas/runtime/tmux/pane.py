"""A tmux pane: literal keys, bracketed paste, capture, process info, copy mode, respawn."""

from __future__ import annotations

from vermas.runtime.tmux import formats

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.runtime.tmux.server import Server

CHUNK_BYTES = 512


def chunk_text(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > limit and current:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    if current:
        chunks.append("".join(current))
    return chunks


def _zombie_exit_status(pid: int | None) -> int | None:
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "Z" or len(fields) < 50:
        return None
    raw = int(fields[-1])
    return (raw >> 8) & 0xFF if raw & 0x7F == 0 else 128 + (raw & 0x7F)


class Pane:
    """One pane, addressed by ``target`` (a pane id ``%N`` or any tmux target)."""

    def __init__(self, server: Server, target: str, *, session: str | None = None) -> None:
        self.server = server
        self.target = target
        self.session = session

    def __repr__(self) -> str:
        return f"Pane({self.target!r}, session={self.session!r})"

    # ------------------------------------------------------------------ input
    def send_literal(self, text: str, *, chunk_bytes: int = CHUNK_BYTES) -> int:
        """Type ``text`` literally (``send-keys -l``) in chunks; returns the number of tmux calls.

        Key names (``Enter``, ``C-c``), leading dashes and trailing semicolons in the text
        are all typed as characters, never interpreted.
        """
        calls = 0
        for chunk in chunk_text(text, chunk_bytes):
            self.server.cmd("send-keys", "-t", self.target, "-l", "--", chunk)
            calls += 1
        return calls

    def send_keys(self, *keys: str) -> None:
        """Send named keys (``Enter``, ``Escape``, ``C-u``, ``Down``), each as one key press."""
        if keys:
            self.server.cmd("send-keys", "-t", self.target, *keys)

    def paste(self, text: str, *, bracketed: bool = True, buffer: str | None = None) -> None:
        """Paste ``text`` through a named buffer (``load-buffer`` + ``paste-buffer -d``), one tmux call.

        With ``bracketed`` the paste is wrapped in bracketed-paste markers when the
        application asked for them, so newlines inside it do not submit anything.
        """
        from vermas.runtime.tmux.server import unique_buffer_name

        name = buffer or unique_buffer_name(self.session or "pane")
        paste = ["paste-buffer", "-d", "-b", name, "-t", self.target]
        if bracketed:
            paste.insert(1, "-p")
        self.server.cmd("load-buffer", "-b", name, "-", ";", *paste, input=text.encode("utf-8"))

    # ------------------------------------------------------------------ output
    def capture(self, *, history: int = 0, join: bool = True, escapes: bool = False) -> str:
        """The visible screen plus ``history`` lines of scrollback, as text (trailing blank lines kept)."""
        args = ["capture-pane", "-p", "-t", self.target]
        if join:
            args.append("-J")
        if escapes:
            args.append("-e")
        if history:
            args += ["-S", str(-history)]
        return self.server.cmd(*args)

    def snapshot(self, *fields: str) -> tuple[dict, str]:
        """Format fields and the visible screen in one tmux call: ``(info, screen)``."""
        fields = fields or ("pane_dead", "pane_dead_status", "pane_in_mode")
        out = self.server.cmd("display-message", "-p", "-t", self.target, formats.format_string(fields), ";",
                              "capture-pane", "-p", "-J", "-t", self.target)
        first, _, screen = out.partition("\n")
        return formats.parse_line(fields, first), screen

    def tail(self, lines: int = 50) -> str:
        """The last ``lines`` lines of screen and scrollback, trailing blanks dropped and blank runs collapsed.

        (A dead pane's "Pane is dead" line sits at the bottom of an otherwise empty screen;
        collapsing the gap keeps the agent's last output in view.)
        """
        text = self.capture(history=max(lines, 0) + 200)
        rows: list[str] = []
        blanks = 0
        for row in text.rstrip("\n").split("\n"):
            if row.strip():
                blanks = 0
            else:
                blanks += 1
                if blanks > 1:
                    continue
            rows.append(row)
        while rows and not rows[-1].strip():
            rows.pop()
        return "\n".join(rows[-lines:]) if lines > 0 else ""

    def clear_history(self) -> None:
        self.server.cmd("clear-history", "-t", self.target)

    # ------------------------------------------------------------------ process and mode
    def info(self, *fields: str) -> dict:
        fields = fields or formats.PANE_FIELDS
        out = self.server.cmd("display-message", "-p", "-t", self.target, formats.format_string(fields))
        return formats.parse_line(fields, out.rstrip("\n"))

    def pid(self) -> int | None:
        return self.info("pane_pid").get("pane_pid")

    def current_command(self) -> str:
        return self.info("pane_current_command").get("pane_current_command") or ""

    def is_dead(self) -> bool:
        return bool(self.info("pane_dead").get("pane_dead"))

    def dead_status(self) -> int | None:
        """Exit status of a dead pane's process (None while alive).

        tmux learns it when it reaps the process, which it sometimes delays (the pane is
        already dead: its pty closed). Until then, a zombie's status is read from
        ``/proc/<pid>/stat`` (Linux), in ``waitpid`` form.
        """
        info = self.info("pane_dead", "pane_dead_status", "pane_pid")
        if not info.get("pane_dead"):
            return None
        if info.get("pane_dead_status") is not None:
            return info["pane_dead_status"]
        return _zombie_exit_status(info.get("pane_pid"))

    def in_mode(self) -> bool:
        return bool(self.info("pane_in_mode").get("pane_in_mode"))

    def cancel_mode(self) -> None:
        """Leave copy mode (a pane in copy mode swallows typed keys)."""
        self.server.run("send-keys", "-t", self.target, "-X", "cancel")

    def respawn(self, argv: list[str], *, cwd: str | None = None, env: dict | None = None) -> None:
        """Replace the pane's process with ``argv`` (``respawn-pane -k``), keeping the session."""
        args = ["respawn-pane", "-k", "-t", self.target]
        if cwd:
            args += ["-c", cwd]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        self.server.cmd(*args, "--", *argv)
