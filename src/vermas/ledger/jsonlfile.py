"""Rewrite a sorted ``issues.jsonl`` without reading or re-encoding the lines that stay.

Lines are located by binary search over byte offsets (``pread`` of a few hundred bytes per
probe); the untouched spans are copied by the kernel (``copy_file_range``) into a temp file
that then replaces the original atomically. Cost is O(log n) probes plus one in-kernel copy,
so an update on a 100k-issue ledger does not parse 100k lines.
"""

from __future__ import annotations

import json
import os

from vermas.fileops import fsync_dir

_PROBE = 512


class NeedsFullRewrite(Exception):
    """The file is not in the shape the splice needs (unsorted, odd lines): render it whole."""


def signature(path: str) -> str:
    """A cheap identity for a file's content: size, mtime, ctime and inode."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "absent"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _line_id(fd: int, start: int, size: int) -> str:
    """The ``id`` of the line starting at ``start`` (lines begin with ``{"id":`` in bd files)."""
    head = os.pread(fd, _PROBE, start)
    for opener in (b'{"id":"', b'{"_type":"issue","id":"'):
        if head.startswith(opener):
            end = head.find(b'"', len(opener))
            while end > 0 and head[end - 1 : end] == b"\\":
                end = head.find(b'"', end + 1)
            if end < 0:
                break
            raw = head[len(opener) - 1 : end + 1]
            return json.loads(raw) if b"\\" in raw else raw[1:-1].decode("utf-8")
    raise NeedsFullRewrite(f"line at byte {start} does not start with an id")


def _next_line_start(fd: int, pos: int, size: int) -> int:
    """The first line start at or after ``pos`` (``size`` if none)."""
    if pos <= 0:
        return 0
    while pos < size:
        chunk = os.pread(fd, 4096, pos - 1)
        if not chunk:
            return size
        nl = chunk.find(b"\n")
        if nl >= 0:
            return pos - 1 + nl + 1
        pos += len(chunk)
    return size


def _line_end(fd: int, start: int, size: int) -> int:
    """Offset just past the ``\\n`` ending the line that starts at ``start``."""
    pos = start
    while pos < size:
        chunk = os.pread(fd, 65536, pos)
        if not chunk:
            break
        nl = chunk.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(chunk)
    return size


def locate(fd: int, size: int, issue_id: str) -> tuple[int, int, bool]:
    """``(start, end, found)``: the line for ``issue_id``, or the insertion point for it."""
    lo, hi = 0, size  # lines before lo have smaller ids; the line at hi (or EOF) is not smaller
    while lo < hi:
        mid = (lo + hi) // 2
        start = _next_line_start(fd, mid, size)
        if start >= hi:
            start = lo
        line_id = _line_id(fd, start, size)
        if line_id < issue_id:
            lo = _line_end(fd, start, size)
        elif start == lo:
            hi = lo
        else:
            hi = start
    if lo < size and _line_id(fd, lo, size) == issue_id:
        return lo, _line_end(fd, lo, size), True
    return lo, lo, False


def splice(path: str, changes: dict[str, str | None], *, durable: bool = True) -> None:
    """Apply ``{id: new_line or None (remove)}`` to a sorted JSONL file, atomically."""
    src = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(src).st_size
        if size and os.pread(src, 1, size - 1) != b"\n":
            raise NeedsFullRewrite("file does not end with a newline")
        edits: list[tuple[int, int, bytes]] = []
        for issue_id in sorted(changes):
            start, end, found = locate(src, size, issue_id)
            line = changes[issue_id]
            if not found and line is None:
                continue
            data = b"" if line is None else line.encode("utf-8") + b"\n"
            edits.append((start, end, data))
        if edits:
            _write_with_edits(path, src, size, edits, durable)
    finally:
        os.close(src)


def merge_rewrite(path: str, changes: dict[str, str | None], *, durable: bool = True) -> None:
    """Apply many ``{id: line or None}`` changes in one sequential pass over a sorted file.

    Cheaper than :func:`splice` when the changes are many (no per-change binary search) and
    than rendering from the index (the untouched lines are copied as bytes, not re-read
    from SQLite). Raises :class:`NeedsFullRewrite` when the file is not sorted by id.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    if data and not data.endswith(b"\n"):
        raise NeedsFullRewrite("file does not end with a newline")
    wanted = sorted(changes)
    out: list[bytes] = []
    j, total = 0, len(wanted)
    previous = ""
    for raw in data.split(b"\n")[:-1]:
        line_id = _raw_id(raw)
        if line_id <= previous and previous:
            raise NeedsFullRewrite("lines are not sorted by id")
        previous = line_id
        while j < total and wanted[j] < line_id:
            new = changes[wanted[j]]
            if new is not None:
                out.append(new.encode("utf-8") + b"\n")
            j += 1
        if j < total and wanted[j] == line_id:
            new = changes[wanted[j]]
            if new is not None:
                out.append(new.encode("utf-8") + b"\n")
            j += 1
        else:
            out.append(raw + b"\n")
    for issue_id in wanted[j:]:
        new = changes[issue_id]
        if new is not None:
            out.append(new.encode("utf-8") + b"\n")
    from vermas.fileops import atomic_write_bytes

    atomic_write_bytes(path, b"".join(out), durable=durable)


def _raw_id(raw: bytes) -> str:
    """The id of a raw line that starts with ``{"id":"`` (else :class:`NeedsFullRewrite`)."""
    for opener in (b'{"id":"', b'{"_type":"issue","id":"'):
        if raw.startswith(opener):
            end = raw.find(b'"', len(opener))
            if end > 0 and raw[end - 1 : end] != b"\\":
                return raw[len(opener) : end].decode("utf-8")
            return json.loads(raw)["id"]
    raise NeedsFullRewrite("a line does not start with an id")


def _write_with_edits(path: str, src: int, size: int, edits: list[tuple[int, int, bytes]], durable: bool) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp.{os.getpid()}")
    dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        pos = 0
        for start, end, data in edits:  # sorted by id, hence by offset
            _copy(src, dst, pos, start - pos)
            _write_all(dst, data)
            pos = end
        _copy(src, dst, pos, size - pos)
        if durable:
            os.fsync(dst)
    except BaseException:
        os.close(dst)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.close(dst)
    os.replace(tmp, path)
    if durable:
        fsync_dir(directory)


def _copy(src: int, dst: int, offset: int, count: int) -> None:
    while count > 0:
        try:
            done = os.copy_file_range(src, dst, count, offset)
        except OSError:
            done = 0
        if done <= 0:  # not supported here (or EOF): fall back to read/write
            data = os.pread(src, min(count, 1 << 20), offset)
            if not data:
                raise OSError(f"unexpected end of file while copying at byte {offset}")
            _write_all(dst, data)
            done = len(data)
        offset += done
        count -= done


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def render_lines(lines: list[str], foreign: list[str] | None = None) -> bytes:
    """A whole file body from already-encoded, already-sorted lines."""
    parts = [line + "\n" for line in lines]
    if foreign:
        parts.extend(line + "\n" for line in foreign)
    return "".join(parts).encode("utf-8")
