"""The simulated agent (``vermas-sim``): a claude-compatible terminal agent with no LLM inside.

It behaves like an interactive coding-agent CLI in a terminal (banner, ``❯ `` prompt,
busy marker, startup dialogs, bracketed paste), reads the same ``--settings`` file the
``claude`` preset writes and fires the same hooks the same way, carries out the
machine-readable steps of its hooked bead, and answers Inspector prompts deterministically
in headless mode (``-p``). Fault modes make it misbehave on purpose. See docs/SIM_AGENT.md.
"""
