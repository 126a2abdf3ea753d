"""Benchmarks: ``python -m bench`` prints one JSON document of side-by-side ratios."""
