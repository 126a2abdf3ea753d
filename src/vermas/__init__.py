"""VerMAS: verifiable multi-agent orchestration over tmux, git worktrees and a beads ledger."""

__version__ = "0.1.0"
