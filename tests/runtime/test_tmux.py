"""The tmux wrapper against a real tmux server on the test's private socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.runtime.helpers import wait_for
from vermas.runtime.errors import SessionExistsError, SessionNotFoundError
from vermas.runtime.tmux import Server, chunk_text, escape_argument, resolve_socket

RECORDER = ("import os,sys,tty; tty.setraw(0); os.write(1, b'\\x1b[?2004h' if sys.argv[2] == 'on' else b'');"
            "f=open(sys.argv[1],'ab',buffering=0)\n"
            "while True:\n d=os.read(0,65536)\n f.write(d)\n if b'\\x04' in d: break")


def test_socket_precedence_explicit_then_env_then_default(monkeypatch, tmux_socket):
    assert resolve_socket("explicit", {"VERMAS_TMUX_SOCKET": "env"}) == "explicit"
    assert resolve_socket(None, {"VERMAS_TMUX_SOCKET": "env"}) == "env"
    assert resolve_socket(None, {}) is None
    assert Server().socket == tmux_socket
    assert Server("other").socket == "other"
    from vermas.runtime.tmux.command import base_argv

    assert base_argv("s1")[-2:] == ["-L", "s1"]
    assert "-L" not in base_argv(None)


def test_escape_argument_round_trips_trailing_semicolons():
    assert escape_argument("a;") == "a\\;"
    assert escape_argument("a\\;") == "a\\\\;"
    assert escape_argument(";") == "\\;"
    assert escape_argument("no semicolon") == "no semicolon"


def test_chunk_text_never_splits_a_character():
    text = "é" * 300 + "漢" * 300
    chunks = chunk_text(text, 512)
    assert "".join(chunks) == text
    assert all(len(c.encode()) <= 512 for c in chunks)


def test_session_lifecycle_env_options_and_exact_names(tmp_path):
    server = Server()
    session = server.new_session("vm-t-abc", ["sleep", "60"], cwd=str(tmp_path), env={"A": "1;", "B": "x y"})
    assert server.has_session("vm-t-abc")
    assert not server.has_session("vm-t-ab")  # no prefix matching
    assert session.show_environment()["A"] == "1;"
    assert session.show_environment()["B"] == "x y"
    assert session.show_option("remain-on-exit", window=True) == "on"
    session.set_environment("C", "ends;")
    assert session.show_environment()["C"] == "ends;"
    session.unset_environment("C")
    assert "C" not in session.show_environment()
    with pytest.raises(SessionExistsError):
        server.new_session("vm-t-abc", ["sleep", "60"])
    assert server.list_sessions("vm-t-") == ["vm-t-abc"]
    pane = session.pane()
    assert pane.target.startswith("%")
    info = pane.info()
    assert info["pane_current_command"] == "sleep" and info["pane_pid"] > 0 and info["pane_dead"] is False
    assert info["pane_current_path"] == str(tmp_path)
    panes = server.list_panes(session="vm-t-abc")
    assert [p["pane_id"] for p in panes] == [pane.target]
    session.resize(120, 40)
    assert pane.info("pane_width", "pane_height") == {"pane_width": 120, "pane_height": 40}
    assert abs(session.activity() - time.time()) < 120
    assert server.kill_session("vm-t-abc") is True
    assert server.kill_session("vm-t-abc") is False
    with pytest.raises(SessionNotFoundError):
        server.session("vm-t-abc").pane()


def test_argv_runs_without_a_shell_and_crash_leaves_a_dead_pane(tmp_path):
    server = Server()
    out = tmp_path / "out"
    script = "import sys; open(sys.argv[1], 'w').write(sys.argv[2]); sys.exit(7)"
    session = server.new_session("vm-t-crash", [sys.executable, "-c", script, str(out), "$(id) `x`; y"])
    pane = session.pane()
    wait_for(lambda: pane.is_dead(), message="pane dead")
    assert out.read_text() == "$(id) `x`; y"
    assert pane.dead_status() == 7
    assert session.exists()  # remain-on-exit keeps the evidence
    assert "Pane is dead" in pane.tail(5)


@pytest.mark.parametrize("bracketed", [True, False])
def test_literal_keys_and_bracketed_paste_reach_the_program_byte_exact(tmp_path, bracketed):
    server = Server()
    rec = tmp_path / "rec"
    session = server.new_session("vm-t-rec", [sys.executable, "-c", RECORDER, str(rec), "on" if bracketed else "off"])
    pane = session.pane()
    wait_for(lambda: rec.exists(), message="recorder started")
    time.sleep(0.1)
    pane.send_literal("-t Enter C-c ends;")
    pane.send_keys("Enter")
    pane.paste("line 1\nline 2 $(x);")
    pane.send_keys("Escape")
    pane.send_literal("é" * 600)
    pane.send_keys("C-d")
    wait_for(lambda: b"\x04" in rec.read_bytes(), message="all keys recorded")
    data = rec.read_bytes()
    paste = b"\x1b[200~line 1\rline 2 $(x);\x1b[201~" if bracketed else b"line 1\rline 2 $(x);"
    assert data == b"-t Enter C-c ends;\r" + paste + b"\x1b" + ("é" * 600).encode() + b"\x04"


def test_capture_tail_collapses_blank_runs():
    server = Server()
    session = server.new_session("vm-t-cap", [sys.executable, "-c",
                                              "print('first'); print(); print(); print(); print('last');"
                                              "import time; time.sleep(60)"])
    pane = session.pane()
    wait_for(lambda: "last" in pane.capture(), message="output")
    assert pane.tail(10) == "first\n\nlast"
    info, screen = pane.snapshot("pane_dead", "pane_in_mode")
    assert info == {"pane_dead": False, "pane_in_mode": False} and "first" in screen


def test_copy_mode_is_detected_and_cancelled():
    server = Server()
    pane = server.new_session("vm-t-mode", ["sleep", "60"]).pane()
    server.cmd("copy-mode", "-t", pane.target)
    assert pane.in_mode()
    pane.cancel_mode()
    assert not pane.in_mode()


def test_wait_for_and_signal():
    server = Server()
    server.new_session("vm-t-keeper", ["sleep", "60"])
    assert server.wait_for("vm-chan-a", timeout=0.3) is False
    base = [*__import__("vermas.runtime.tmux.command", fromlist=["x"]).base_argv(server.socket)]
    waiter = subprocess.Popen([*base, "wait-for", "vm-chan-b"])
    time.sleep(0.2)
    server.signal("vm-chan-b")
    assert waiter.wait(timeout=5) == 0


def test_respawn_keeps_the_session(tmp_path):
    server = Server()
    session = server.new_session("vm-t-resp", ["sleep", "60"])
    pane = session.pane()
    pane.respawn([sys.executable, "-c", "import os,time; print(os.environ['R']); time.sleep(60)"], cwd=str(tmp_path),
                 env={"R": "respawned"})
    wait_for(lambda: "respawned" in pane.capture(), message="respawned output")
    assert session.exists()


def test_no_call_touches_the_default_server(tmux_socket):
    assert os.environ["VERMAS_TMUX_SOCKET"] == tmux_socket
    assert Server().describe() == f"tmux server {tmux_socket!r}"


def test_exit_status_of_an_unreaped_process_is_read_from_proc():
    from vermas.runtime.tmux.pane import _zombie_exit_status

    def state(pid: int) -> str:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]

    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
    wait_for(lambda: state(proc.pid) == "Z", message="zombie")
    assert _zombie_exit_status(proc.pid) == 7
    assert proc.wait() == 7
    assert _zombie_exit_status(os.getpid()) is None  # alive: no status
