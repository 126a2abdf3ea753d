"""Deterministic role engines: refinery (merge queue), witness (polecats), deacon and boot (the town).

These are plain Python state machines running as daemons in their own tmux sessions. They
call LLM agents only where judgment is needed (through the Inspector stage), never to
decide how to move a branch.
"""
