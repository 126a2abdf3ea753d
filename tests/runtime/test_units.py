"""Pure pieces of delivery, state and dialogs: sanitising, pane classification, dialog detection."""

from __future__ import annotations

from vermas.runtime import dialogs
from vermas.runtime.delivery import sanitize
from vermas.runtime.presets import get_runtime
from vermas.runtime.state import classify_pane


def test_sanitize_drops_control_characters_and_keeps_newlines():
    assert sanitize("a\x1b[31mb\x07c\x00d\x7fe\x9bf") == "a[31mbcdef"
    assert sanitize("tab\there") == "tab here"
    assert sanitize("crlf\r\nand\rcr") == "crlf\nand\ncr"
    assert sanitize("unicode ✓ 漢字 🚀") == "unicode ✓ 漢字 🚀"
    assert sanitize("$(x) `y` ; 'q' \"d\"") == "$(x) `y` ; 'q' \"d\""


def test_classify_pane_for_a_claude_like_runtime():
    spec = get_runtime("claude")
    assert classify_pane("banner\n\n❯ \n\n", spec) == "idle"
    assert classify_pane("banner\n❯ half typed", spec) == "idle"
    assert classify_pane("❯ do it\n✻ Thinking… (esc to interrupt)\n", spec) == "busy"
    assert classify_pane("✻ Working… (ESC TO INTERRUPT)\n│ ❯ │", spec) == "busy"
    assert classify_pane("starting up…\n", spec) == "unknown"
    assert classify_pane("old output\n\nPane is dead (status 1, Fri)", spec) == "dead"
    assert classify_pane("Do you trust the files in this folder?\n❯ 1. Yes, proceed\n  2. No, exit", spec) == "dialog"
    assert classify_pane("❯\xa0\n", spec) == "idle"  # NBSP in the prompt


def test_classify_pane_without_a_prompt_prefix():
    spec = get_runtime("gemini")
    assert classify_pane("some screen", spec) == "idle"
    assert classify_pane("⠋ Generating (esc to cancel, 3s)", spec) == "busy"


def test_dialog_detection_and_answers():
    trust = "╭─╮\n│ Do you trust the files in this folder? │\n│ ❯ 1. Yes, proceed │"
    assert dialogs.detect(trust) == "workspace-trust"
    assert dialogs.detect("Quick safety check: is this a project you trust?") == "workspace-trust"
    assert dialogs.detect("Do you trust the contents of this directory?") == "workspace-trust"
    bypass = "WARNING: Claude Code running in Bypass Permissions mode\n❯ 1. No, exit\n  2. Yes, I accept"
    assert dialogs.detect(bypass) == "bypass-permissions"
    assert dialogs.detect(bypass, ["workspace-trust"]) is None
    assert dialogs.detect("❯ ready") is None
    assert dialogs.answer_keys("bypass-permissions") == ("Down", "Enter")
    assert dialogs.answer_keys("workspace-trust") == ("Enter",)
