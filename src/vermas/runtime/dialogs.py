"""Startup dialogs of agent CLIs: detect them in pane text and know which keys answer them.

- workspace trust (Claude "Do you trust the files in this folder?" / "Quick safety check",
  Codex "Do you trust the contents of this directory?"): the safe "yes" is pre-selected,
  so ``Enter`` accepts.
- bypass permissions (Claude "Bypass Permissions mode" warning shown by
  ``--dangerously-skip-permissions``): "No, exit" is pre-selected; ``Down`` then ``Enter``
  selects "Yes, I accept". (Our settings also set ``skipDangerousModePermissionPrompt``.)
"""

from __future__ import annotations

TRUST_MARKERS = ("do you trust the files in this folder", "trust this folder", "quick safety check",
                 "do you trust the contents of this directory", "is this a project you trust")
BYPASS_MARKERS = ("bypass permissions mode",)

ANSWERS = {"workspace-trust": ("Enter",), "bypass-permissions": ("Down", "Enter")}


def detect(text: str, enabled: tuple[str, ...] | list[str] = ("workspace-trust", "bypass-permissions")) -> str | None:
    """Which enabled dialog is showing in ``text`` (the visible screen), or None."""
    low = text.lower()
    if "bypass-permissions" in enabled and any(m in low for m in BYPASS_MARKERS) and "accept" in low:
        return "bypass-permissions"
    if "workspace-trust" in enabled and any(m in low for m in TRUST_MARKERS):
        return "workspace-trust"
    return None


def answer_keys(dialog: str) -> tuple[str, ...]:
    return ANSWERS[dialog]
