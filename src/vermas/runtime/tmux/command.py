"""Running the ``tmux`` binary: socket selection, argument escaping, error mapping.

Every call goes through :func:`run_tmux` with an argv list (never a shell). The socket
is chosen by :func:`resolve_socket`: an explicit name > ``$VERMAS_TMUX_SOCKET`` > the
user's default server. Arguments are escaped for tmux's own command parser, which treats
an argument ending in ``;`` as a command separator (see :func:`escape_argument`).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from vermas.runtime.errors import SessionExistsError, SessionNotFoundError, TmuxError, TmuxNotInstalledError

SOCKET_ENV = "VERMAS_TMUX_SOCKET"
DEFAULT_TIMEOUT = 15.0

_NOT_FOUND_MARKERS = ("can't find session", "can't find pane", "can't find window", "session not found",
                      "no server running", "no such file or directory", "error connecting to", "no current")
_binary_cache: dict[str, str] = {}


def resolve_socket(explicit: str | None = None, environ: dict | None = None) -> str | None:
    """The tmux socket name (``-L``): ``explicit`` > ``$VERMAS_TMUX_SOCKET`` > None (the default server)."""
    if explicit:
        return explicit
    env = os.environ if environ is None else environ
    return env.get(SOCKET_ENV) or None


def tmux_binary() -> str:
    """Absolute path of ``tmux``; :class:`TmuxNotInstalledError` when it is missing."""
    path = _binary_cache.get("tmux")
    if path:
        return path
    found = shutil.which("tmux")
    if not found:
        raise TmuxNotInstalledError("tmux is not installed (not found on PATH)",
                                    hint="install tmux 3.0 or newer (e.g. apt-get install tmux)")
    _binary_cache["tmux"] = found
    return found


def escape_argument(arg: str) -> str:
    """Escape ``arg`` for tmux's argv parser: a trailing ``;`` ends a command unless written ``\\;``.

    tmux turns a trailing ``\\;`` back into ``;``, so inserting one backslash before a final
    ``;`` restores exactly the original text, whatever precedes it.
    """
    if arg.endswith(";"):
        return arg[:-1] + "\\;"
    return arg


def base_argv(socket: str | None) -> list[str]:
    argv = [tmux_binary()]
    if socket:
        argv += ["-L", socket]
    return argv


def run_tmux(args: list[str], *, socket: str | None, input: bytes | None = None, check: bool = True,
             timeout: float = DEFAULT_TIMEOUT, escape: bool = True,
             env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one tmux invocation (possibly several ``;``-separated commands); bytes in, bytes out.

    ``args`` elements that are exactly ``";"`` separate tmux commands; every other element
    is escaped unless ``escape`` is False. With ``check`` a non-zero exit raises the typed
    error matching tmux's message (session not found, duplicate session, other).
    """
    argv = [*base_argv(socket)] + [a if (a == ";" or not escape) else escape_argument(a) for a in args]
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=env,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise TmuxError(f"tmux {args[0] if args else ''} timed out after {timeout:.0f}s",
                        hint="the tmux server may be hung; check `tmux -L <socket> list-sessions`",
                        argv=argv) from exc
    if check and proc.returncode != 0:
        raise error_for(args, proc.stderr.decode("utf-8", "replace").strip(), argv, socket)
    return proc


def error_for(args: list[str], stderr: str, argv: list[str], socket: str | None) -> TmuxError:
    """The typed error for a failed tmux command, from its stderr."""
    where = f"tmux server {socket!r}" if socket else "the default tmux server"
    verb = args[0] if args else "tmux"
    low = stderr.lower()
    if "duplicate session" in low:
        return SessionExistsError(f"{verb}: {stderr} (on {where})",
                                  hint="stop the existing session first, or pick another name")
    if any(marker in low for marker in _NOT_FOUND_MARKERS):
        return SessionNotFoundError(f"{verb}: {stderr or 'not found'} (on {where})",
                                    hint="list sessions with `tmux -L <socket> ls`; is the agent running?")
    return TmuxError(f"tmux {verb} failed: {stderr or 'exit status non-zero'} (on {where})", argv=argv,
                     stderr=stderr)


def decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")
