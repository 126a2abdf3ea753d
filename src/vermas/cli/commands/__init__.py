"""One module per command family; each exposes ``configure(parser, name)``."""
