"""Formulas (TOML workflow templates) and molecules (their tracked instances in the ledger).

A formula is read (:mod:`source`), parsed into the model (:mod:`parse`, :mod:`model`),
checked with Gas Town's rules (:mod:`validate`), resolved (:mod:`resolve`: ``extends``,
``[compose]``, advice, convoy legs), bound to variables (:mod:`vars`) and cooked
(:mod:`cook`) into a protomolecule: a flat, ordered step graph. Pouring it
(:mod:`pour`) writes a molecule into the ledger: a root bead plus one child bead per step,
with ``blocks`` edges from ``needs``. :mod:`molecule` reads a molecule's state,
:mod:`steps` moves steps along, :mod:`lifecycle` squashes, burns and garbage-collects.

This package ``__init__`` imports nothing: agents' hooks import only what they use.
"""
