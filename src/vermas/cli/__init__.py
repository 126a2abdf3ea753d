"""The thin command layer: parse arguments, call into town/roles/ledger, print results."""
