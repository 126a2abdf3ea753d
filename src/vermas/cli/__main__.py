"""``python -m vermas.cli``: same as the ``vermas`` console script."""

from vermas.cli.main import entry

entry()
