"""Every ``vermas`` command: the module that implements it, a one-line summary, a section.

Only the module of the command being run is imported, so adding commands costs the hot
path nothing. A command module exposes ``configure(parser, name)``, which declares its
arguments and sets ``handler=<function(env, args) -> int>``.
"""

from __future__ import annotations

SECTIONS = (
    "Ledger",
    "Formulas & molecules",
    "Town & rigs",
    "Work",
    "Mail & nudges",
    "Agents & runtimes",
    "Merge queue & supervision",
    "Verification",
    "Observability",
    "Getting started",
)

_C = "vermas.cli.commands."

# name -> (module, summary, section)
COMMANDS: dict[str, tuple[str, str, str]] = {
    # Ledger (bd-compatible)
    "init": (_C + "ledger_admin", "create a bd-compatible ledger (.beads/) in this directory", "Ledger"),
    "create": (_C + "issues", "create an issue", "Ledger"),
    "show": (_C + "issues", "show issues with their dependencies and comments", "Ledger"),
    "list": (_C + "issues", "list issues matching filters", "Ledger"),
    "update": (_C + "issues", "change fields of issues", "Ledger"),
    "close": (_C + "issues", "close issues", "Ledger"),
    "reopen": (_C + "issues", "reopen closed issues", "Ledger"),
    "delete": (_C + "issues", "delete issues (leaves bd tombstones)", "Ledger"),
    "ready": (_C + "issues", "issues ready to work on (open, unblocked, not deferred)", "Ledger"),
    "blocked": (_C + "issues", "issues blocked by open dependencies", "Ledger"),
    "dep": (_C + "deps", "add, remove and inspect dependencies", "Ledger"),
    "label": (_C + "labels", "add, remove and list labels", "Ledger"),
    "comment": (_C + "comments", "add and list comments", "Ledger"),
    "stats": (_C + "ledger_admin", "counts by status and type", "Ledger"),
    "export": (_C + "ledger_admin", "write the ledger as JSONL", "Ledger"),
    "import": (_C + "ledger_admin", "merge issues from a JSONL file (newest updated_at wins)", "Ledger"),
    "doctor": (_C + "ledger_admin", "check the ledger for problems (--fix repairs what is safe)", "Ledger"),
    "sync": (_C + "ledger_sync", "commit .beads, pull --rebase (merging issues), push", "Ledger"),
    "events": (_C + "events", "list, follow, replay and count ledger events", "Ledger"),
    # Formulas & molecules
    "formula": (_C + "formula", "list, show and validate workflow formulas", "Formulas & molecules"),
    "mol": (_C + "mol", "cook, pour, wisp and drive molecules (formula instances)", "Formulas & molecules"),
    # Town & rigs
    "install": (_C + "install", "create a town: town ledger, routes, settings, mayor and deacon homes", "Town & rigs"),
    "config": (_C + "config", "get, set and show layered settings with the source of each value", "Town & rigs"),
    "rig": (_C + "rig", "add, list, inspect and remove rigs (projects)", "Town & rigs"),
    "crew": (_C + "crew", "persistent full-clone workspaces in a rig", "Town & rigs"),
    "mayor": (_C + "mayor", "start, attach to, stop and inspect the mayor session", "Town & rigs"),
    "status": (_C + "status", "the town at a glance: rigs, agents, hooked work, queues, mail", "Town & rigs"),
    "agents": (_C + "status", "every agent with role, state, session and hooked work", "Town & rigs"),
    # Work
    "sling": (_C + "sling", "hand beads to polecats (worktree, hook, formula, session)", "Work"),
    "hook": (_C + "hook", "what is on my hook; set, clear or attach a hook", "Work"),
    "prime": (_C + "prime", "role context for an agent session (run at session start)", "Work"),
    "done": (_C + "done", "submit my branch to the merge queue and free my slot", "Work"),
    "handoff": (_C + "handoff", "leave notes for the next session of this agent", "Work"),
    "polecat": (_C + "polecat", "list, inspect, restart and kill polecats", "Work"),
    "convoy": (_C + "convoy", "create, track and land bundles of beads across rigs", "Work"),
    # Agents & runtimes
    "runtime": (_C + "runtime", "list, show and check agent runtimes", "Agents & runtimes"),
    "peek": (_C + "nudge", "show the recent output of an agent's session", "Mail & nudges"),
    "nudge": (_C + "nudge", "send a message into an agent's session", "Mail & nudges"),
    "mail": (_C + "mail", "send, read and check mail between agents", "Mail & nudges"),
    "signal": (_C + "signal", "Claude Code hook handlers (stop)", "Agents & runtimes"),
    # Merge queue & supervision
    "refinery": (_C + "refinery", "the merge-queue daemon: start, stop, status, queue", "Merge queue & supervision"),
    "mq": (_C + "mq", "inspect and steer the merge queue: list, status, retry, reject", "Merge queue & supervision"),
    "escalate": (_C + "escalate", "raise, list, acknowledge and close escalations", "Merge queue & supervision"),
    # Verification
    "spec": (_C + "spec", "test specs: acceptance criteria written and approved before sling", "Verification"),
    "inspect": (_C + "inspect", "run the Inspector; verdicts, evidence, resolve, label", "Verification"),
    "eval": (_C + "eval", "evaluation metrics (verification accuracy against human labels)", "Verification"),
    "witness": (_C + "witness", "a rig's polecat supervisor daemon: start, stop, status", "Merge queue & supervision"),
    "deacon": (_C + "deacon", "the town supervisor daemon: start, stop, status", "Merge queue & supervision"),
    "boot": (_C + "boot", "the deacon's watchdog: check (cron-friendly), start, stop", "Merge queue & supervision"),
    "up": (_C + "up", "start boot, the deacon and every rig's witness and refinery", "Merge queue & supervision"),
    "down": (_C + "up", "stop every supervision daemon (and the mayor with --mayor)", "Merge queue & supervision"),
    # Getting started
    "demo": (_C + "demo", "run the main job end to end in a temp directory", "Getting started"),
}

ALIASES: dict[str, str] = {"ls": "list"}

# Command lines the agents' hooks run on every turn. They skip argparse (~6 ms of imports on
# a ~20 ms interpreter start): main runs the handler with this precomputed namespace.
# tests/cli/test_fast_path.py proves each namespace equals what argparse builds.
_COMMON = {"json": False, "actor": None, "town": None}
FAST_PATHS: dict[tuple[str, ...], tuple[str, dict]] = {
    ("prime", "--hook"): (_C + "prime:run", {"hook": True, "agent": None, **_COMMON}),
    ("prime",): (_C + "prime:run", {"hook": False, "agent": None, **_COMMON}),
    ("hook", "--json"): (_C + "hook:run", {"action": "show", "operands": [], "agent": None, "force": False,
                                           "reason": None, "keep_bead": False, **_COMMON, "json": True}),
    ("hook",): (_C + "hook:run", {"action": "show", "operands": [], "agent": None, "force": False,
                                  "reason": None, "keep_bead": False, **_COMMON}),
    ("mail", "check", "--inject"): (_C + "mail:check_command",
                                    {"inject": True, "session": None, "runtime_dir": None, **_COMMON}),
    ("mail", "check"): (_C + "mail:check_command", {"inject": False, "session": None, "runtime_dir": None,
                                                    **_COMMON}),
    ("signal", "stop"): (_C + "signal:stop_command", {"signal_command": "stop", "no_drain": False,
                                                      "session": None, "runtime_dir": None}),
    ("signal", "guard"): (_C + "signal:guard_command", {"signal_command": "guard", "command": None}),
}
