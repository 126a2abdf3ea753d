"""A bd-compatible beads ledger: ``.beads/issues.jsonl`` is the truth, SQLite is an index.

Public entry points: :class:`vermas.ledger.store.Ledger` (open a ``.beads`` directory) and
:mod:`vermas.ledger.routes` (find the ledger that owns an id). Import submodules directly;
this package imports nothing so the hook path stays cheap.
"""
