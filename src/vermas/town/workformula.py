"""Cook the work formula poured on a slung bead (``polecats.formula``, default ``mol-polecat-work``).

Formulas are looked up rig ``.beads/formulas`` → town ``.beads/formulas`` → ``~/.beads/formulas``
→ the ones shipped with VerMAS. The variables a work formula may declare are filled from the
sling: ``issue``/``bead_id`` (the bead), ``rig``, ``polecat``, ``worker`` (the address),
``branch``, ``base_branch``, ``title``; ``--var k=v`` adds or overrides.
"""

from __future__ import annotations

import os

NO_FORMULA = ("", "none", "-", "off")


def lookup_for(town_root: str, rig_beads: str | None, environ: dict | None = None):
    from vermas.formulas.lookup import Lookup, search_path

    env = os.environ if environ is None else environ
    return Lookup(search_path(rig_beads=rig_beads, town=town_root, home=env.get("HOME") or None))


def check_exists(town_root: str, rig_beads: str | None, name: str, environ: dict | None = None) -> None:
    """NotFoundError (exit 3) unless the formula can be loaded (and it parses)."""
    if name.strip().lower() in NO_FORMULA:
        return
    lookup_for(town_root, rig_beads, environ).load(name)


def cook_for(town_root: str, rig_beads: str | None, name: str, values: dict[str, str],
             user_vars: dict[str, str], environ: dict | None = None, *, lookup=None):
    """The runtime protomolecule of formula ``name`` bound for one slung bead."""
    from vermas.formulas import vars as formula_vars
    from vermas.formulas.cook import cook
    from vermas.formulas.resolve import resolve

    lookup = lookup or lookup_for(town_root, rig_beads, environ)
    formula = lookup.load(name)
    declared = formula_vars.declared(resolve(formula, lookup))
    given = {k: v for k, v in values.items() if k in declared}
    given.update(user_vars)
    return cook(formula, lookup, variables=given, runtime=True)
