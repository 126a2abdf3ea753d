"""Thin wrapper over the ``tmux`` binary: one module per tmux object (server, session, pane).

Every call honours a socket name: an explicit argument > ``$VERMAS_TMUX_SOCKET`` > the
user's default server. Arguments are passed as argv (no shell) and escaped for tmux's own
parser; errors become typed :mod:`vermas.runtime.errors`.
"""

from vermas.runtime.tmux.command import SOCKET_ENV, escape_argument, resolve_socket
from vermas.runtime.tmux.pane import Pane, chunk_text
from vermas.runtime.tmux.server import Server
from vermas.runtime.tmux.session import Session

__all__ = ["SOCKET_ENV", "Pane", "Server", "Session", "chunk_text", "escape_argument", "resolve_socket"]
