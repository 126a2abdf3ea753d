"""Convoy formulas as step graphs: one parallel step per leg, then the synthesis step.

Gas Town's ``gt formula run`` creates a bead per leg (description = the leg's description
plus the ``[prompts] base`` prompt, and an ``output_path`` when ``[output]`` names one) and a
synthesis bead that depends on every leg. VerMAS builds the same graph; the synthesis
waits for ``[synthesis] depends_on`` when given, else for every leg. ``[presets.<name>]``
choose a subset of the legs.
"""

from __future__ import annotations

from vermas.formulas.model import Diagnostic, Formula, FormulaError, Step

SYNTHESIS_ID = "synthesis"


def convoy_steps(formula: Formula, preset: str | None = None) -> list[Step]:
    legs = list(formula.legs)
    if preset:
        if preset not in formula.presets:
            known = ", ".join(sorted(formula.presets)) or "none"
            raise FormulaError([Diagnostic("error", "presets", f"no preset {preset!r} (known: {known})",
                                           formula.path, "value")])
        wanted = formula.presets[preset]
        legs = [leg for leg in legs if leg.id in wanted]
    base = formula.prompts.get("base", "")
    steps: list[Step] = []
    for leg in legs:
        parts = []
        if leg.focus:
            parts.append(f"Focus: {leg.focus}")
        if leg.description:
            parts.append(leg.description)
        description = "\n\n".join(parts)
        if base:
            description += f"\n\n---\nBase Prompt:\n{base}"
        pattern = formula.output.get("leg_pattern", "")
        directory = formula.output.get("directory", "")
        if directory and pattern:
            description += f"\n\noutput_path: {directory.rstrip('/')}/{pattern.replace('{{.leg.id}}', leg.id)}"
        steps.append(Step(id=leg.id, title=leg.title or leg.id, description=description, parallel=True,
                          labels=["convoy-leg"], source_formula=formula.name, source_location=leg.source_location))
    if formula.synthesis is not None:
        chosen = {leg.id for leg in legs}
        depends = [d for d in formula.synthesis.depends_on if d in chosen] or [leg.id for leg in legs]
        description = formula.synthesis.description or "Synthesize findings from all legs into unified output"
        steps.append(Step(id=SYNTHESIS_ID, title=formula.synthesis.title or "Synthesis", description=description,
                          needs=depends, source_formula=formula.name, source_location="synthesis"))
    return steps
