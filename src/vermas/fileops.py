"""Crash-safe file primitives: atomic replace, advisory locks, locked appends.

Everything here is standard library only; it sits on the agents' hook path.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from vermas.errors import ConflictError


def fsync_dir(path: str) -> None:
    """Flush a directory entry so a rename inside it survives a power cut."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: readers see the old or the new file, never a mix.

    Writes a temp file in the same directory, fsyncs it, then renames it over the target.
    A process killed at any point leaves either the old file or the new one (plus, at
    worst, a stray ``.tmp`` file that the next write replaces).
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.close(fd)
    os.replace(tmp, path)
    if durable:
        fsync_dir(directory)


def atomic_write_text(path: str, text: str, *, mode: int = 0o644, durable: bool = True) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode, durable=durable)


class FileLock:
    """An advisory ``flock`` on a lock file, usable as a context manager.

    Locks are per open file description, so they serialise threads as well as processes
    as long as each holder uses its own ``FileLock`` instance. The kernel releases the
    lock when the holder dies, so a SIGKILL never leaves a stale lock behind.
    """

    def __init__(self, path: str, *, timeout: float = 60.0, shared: bool = False) -> None:
        self.path = path
        self.timeout = timeout
        self.shared = shared
        self._fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        op = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            self._wait(fd, op)
        self._fd = fd

    def _wait(self, fd: int, op: int) -> None:
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, op | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if time.monotonic() >= deadline:
                os.close(fd)
                raise ConflictError(
                    f"timed out after {self.timeout:.0f}s waiting for lock {self.path}",
                    hint="another vermas process holds it; retry, or check for a hung process",
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def append_line(path: str, line: str, *, lock_path: str | None = None, durable: bool = False) -> None:
    """Append one ``\\n``-terminated line under an exclusive lock, in a single write.

    Concurrent appenders never interleave or tear lines. A process killed mid-append can
    leave at most one partial final line, which readers of append-only logs skip.
    """
    data = (line if line.endswith("\n") else line + "\n").encode("utf-8")
    with FileLock(lock_path or path + ".lock"):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _repair_torn_tail(fd)
            os.write(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)


def _repair_torn_tail(fd: int) -> None:
    """If a previous writer died mid-line, end that line so the next one starts clean."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    last = os.pread(fd, 1, size - 1)
    if last != b"\n":
        os.write(fd, b"\n")


def read_text(path: str, default: str | None = None) -> str | None:
    """The file's text, or ``default`` when it does not exist."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return default
