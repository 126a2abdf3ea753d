"""The agent runtime layer: tmux sessions, runtime providers, input delivery, state, headless prompts.

Nothing is imported here on purpose: hook commands (``vermas mail check --inject``,
``vermas signal …``) import single modules of this package and must stay fast.

Module map (see docs/RUNTIME.md):

- ``tmux/``          thin wrapper over the ``tmux`` binary (server, session, pane verbs), socket aware
- ``errors``         typed errors of this layer
- ``paths``          where runtime state lives (the runtime dir), town discovery
- ``naming``         agent address <-> tmux session name, identity environment
- ``spec``           ``RuntimeSpec``: a runtime described by data, parsed and validated from dicts/TOML
- ``presets``        the built-in runtimes (claude, codex, gemini, opencode, aider, sim) and lookup
- ``claude_settings`` Claude Code settings/hooks generation and role instructions (CLAUDE.md)
- ``activity``       activity files written by hooks (busy/idle, prompt counter, agent session id)
- ``nudge_queue``    file queue of nudges, drained exactly once by the UserPromptSubmit/Stop hooks
- ``delivery``       reliable literal input delivery into a pane (lock, paste, settle, Enter, confirm, retry)
- ``state``          busy/idle detection (hooks first, pane second) and last activity
- ``dialogs``        startup dialogs (workspace trust, bypass permissions) detection and answers
- ``nudge``          nudge modes: wait-idle, queue, immediate
- ``headless``       one-shot non-interactive prompts with timeouts and typed errors
- ``guard``          the PreToolUse dangerous-command guard
- ``sessions``       per-session metadata records
- ``providers/``     the Provider interface, the tmux provider and the "fail" provider
- ``check``          ``vermas runtime check``: binary, version, hooks installable
"""
