"""Hooked work for the simulated agent: find the bead, read its steps, commit.

**Finding the bead.** The hook command (default ``vermas hook --json``; ``--hook-cmd`` or
``$VERMAS_SIM_HOOK_CMD`` override it, ``none`` disables it) must print a JSON object whose
``"bead"`` member is the hooked issue (bd's JSON: ``id``, ``title``, ``description``, …) or
``null``. It runs in the agent's working directory with the agent's environment.

**Instructions.** Fenced blocks tagged ``sim`` in the bead's ``description``, ``design``,
``notes`` and ``acceptance_criteria`` (in that order; several blocks concatenate)::

    ```sim
    # comments and blank lines are skipped
    printf 'def f():\\n    return 1\\n' > mod.py
    python -m pytest -q \\
        tests/test_mod.py          # a trailing backslash continues a step
    ```

Each step is one Bash tool call (``bash -c`` in the worktree, PreToolUse/PostToolUse hooks
around it). A ``sim-wrong`` block is the alternative the ``wrong-solution`` fault runs.

**Rework.** A bead labelled ``rework`` came back from the refinery (a conflict, a failing
gate) or the Inspector. The sim's steps write whole files, so redoing them on the current
target resolves any conflict deterministically: the first step becomes
``git reset --quiet --hard <target>`` (the target is the polecat's base branch from the hook
JSON's ``polecat.base``, else ``main``), then the steps run again, are committed and
``done`` runs again — a new commit on the same branch, which ``done`` submits as a new
merge request.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess

FIELDS = ("description", "design", "notes", "acceptance_criteria")
DISABLED = ("", "-", "none", "off")
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([A-Za-z0-9_-]+)?[^\n]*\n(.*?)^\1?\2[ \t]*$", re.M | re.S)


def find_bead(hook_cmd: str, *, cwd: str, env: dict, timeout: float = 30.0) -> tuple[dict | None, str | None]:
    """``(bead, None)`` or ``(None, None)`` when nothing is hooked, ``(None, error)`` on failure."""
    if hook_cmd.strip().lower() in DISABLED:
        return None, None
    try:
        argv = shlex.split(hook_cmd)
    except ValueError as exc:
        return None, f"bad hook command {hook_cmd!r}: {exc}"
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"hook command failed to run: {exc}"
    if proc.returncode != 0:
        return None, f"hook command exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}"
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return None, f"hook command printed no JSON: {proc.stdout.strip()[:200]!r}"
    if not isinstance(data, dict) or "bead" not in data:
        return None, "hook command JSON has no 'bead' member"
    bead = data["bead"]
    if bead is None:
        return None, None
    if not isinstance(bead, dict) or not bead.get("id"):
        return None, "hook command's 'bead' is not an issue object with an id"
    polecat = data.get("polecat")
    if isinstance(polecat, dict) and isinstance(polecat.get("base"), str) and polecat["base"]:
        bead[BASE_KEY] = polecat["base"]
    return bead, None


REWORK_LABEL = "rework"
BASE_KEY = "_sim_base"  # where find_bead keeps the polecat's base branch (not a bd field)


def is_rework(bead: dict) -> bool:
    return REWORK_LABEL in (bead.get("labels") or ())


def rework_steps(bead: dict) -> list[str]:
    """Steps that put a reworked bead's branch back onto its current target before redoing the work."""
    if not is_rework(bead):
        return []
    target = str(bead.get(BASE_KEY) or "main")
    return [f"git reset --quiet --hard {shlex.quote(target)}"]


def blocks(bead: dict, tag: str = "sim") -> list[str]:
    """The steps of every ``tag`` fenced block in the bead, in field order.

    For a bead labelled ``rework`` the work blocks (``sim``, ``sim-wrong``) start with
    :func:`rework_steps` when they have any step at all.
    """
    steps = _fenced_steps(bead, tag)
    if steps and tag in ("sim", "sim-wrong"):
        steps = rework_steps(bead) + steps
    return steps


def _fenced_steps(bead: dict, tag: str) -> list[str]:
    steps: list[str] = []
    for field in FIELDS:
        text = bead.get(field)
        if not isinstance(text, str):
            continue
        for match in _FENCE.finditer(text):
            if (match.group(3) or "") == tag:
                steps += parse_steps(match.group(4))
    return steps


_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


def parse_steps(body: str) -> list[str]:
    """Steps of a block: one per line; a trailing backslash continues a step; a heredoc
    (``<<EOF`` … ``EOF``) stays inside the step that opens it; ``#`` lines and blank lines
    between steps are skipped."""
    steps: list[str] = []
    current = ""
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line + "\n"
            continue
        current += line
        for dash, _quote, word in _HEREDOC.findall(line):
            while i < len(lines):
                body_line = lines[i]
                i += 1
                current += "\n" + body_line
                if (body_line.lstrip("\t") if dash else body_line).rstrip() == word:
                    break
        if current.strip():
            steps.append(current.strip())
        current = ""
    if current.strip():
        steps.append(current.strip())
    return steps


def commit_command(bead: dict) -> str:
    message = f"{bead.get('id')}: {bead.get('title') or 'work'}"
    return f"git add -A && git commit -q -m {shlex.quote(message)}"


def has_changes(cwd: str) -> bool | None:
    """True/False for a git worktree with/without changes; None when ``cwd`` is not a git worktree."""
    try:
        proc = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())
