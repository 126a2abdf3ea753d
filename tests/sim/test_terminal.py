"""Raw keyboard bytes → key events (bracketed paste, escape sequences split across reads, UTF-8)."""

from __future__ import annotations

from vermas.sim.terminal import KeyParser


def test_typing_enter_and_newline():
    p = KeyParser()
    assert p.feed(b"hello\r") == [("text", "hello"), ("enter",)]
    assert p.feed(b"a\nb") == [("text", "a"), ("newline",), ("text", "b")]


def test_bracketed_paste_keeps_line_breaks_and_never_submits():
    p = KeyParser()
    assert p.feed(b"\x1b[200~one\rtwo\r\nthree\x1b[201~\r") == [("paste", "one\ntwo\nthree"), ("enter",)]


def test_markers_and_utf8_split_across_reads():
    p = KeyParser()
    events = []
    for chunk in (b"x\x1b[20", b"0~pa", b"ste \xe6\xbc", b"\xa2\x1b[2", b"01~y"):
        events += p.feed(chunk)
    assert events == [("text", "x"), ("paste", "paste 漢"), ("text", "y")]
    assert p.feed(b"\xc3") == [] and p.feed(b"\xa9") == [("text", "é")]


def test_control_keys_and_arrows():
    p = KeyParser()
    assert p.feed(b"\x15\x03\x04\x7f\x08\t") == [("ctrl-u",), ("ctrl-c",), ("ctrl-d",), ("backspace",),
                                                  ("backspace",), ("text", " ")]
    assert p.feed(b"\x1b[A\x1b[B\x1bOC\x1b[D") == [("up",), ("down",), ("right",), ("left",)]


def test_a_lone_escape_waits_for_more_then_flushes():
    p = KeyParser()
    assert p.feed(b"\x1b") == []
    assert p.has_pending
    assert p.flush_pending() == [("escape",)]
    assert p.feed(b"\x1bx") == [("escape",), ("text", "x")]
