"""Themed name pools for polecat identities (Gas Town's default theme is ``mad-max``).

A polecat keeps its name across jobs (persistent identity, ephemeral sessions). New
polecats take the first unused name of the rig's theme (config ``polecats.names``); when a
theme runs out, names continue as ``<theme-first-name>-<n>``.
"""

from __future__ import annotations

from vermas.errors import UsageError

THEMES: dict[str, tuple[str, ...]] = {
    "mad-max": (
        "furiosa", "nux", "slit", "rictus", "toast", "capable", "dag", "cheedo", "angharad", "max",
        "immortan", "organic", "ace", "morsov", "keeper", "valkyrie", "coma", "scrotus", "dementus",
        "praetorian", "bullet", "doof", "splendid", "miss-giddy", "corpus", "people-eater", "glory",
        "bullet-farmer", "vuvalini", "joe", "war-boy", "rockrider", "buzzard", "citadel", "wretched",
        "imperator", "jack", "smeg", "hungry", "mechanic", "goose", "toecutter", "bubba", "nightrider",
        "savannah", "gyro", "pappagallo", "aunty", "ironbar", "blaster",
    ),
    "minerals": (
        "agate", "basalt", "cobalt", "dolomite", "emerald", "feldspar", "garnet", "hematite", "iolite",
        "jasper", "kyanite", "lapis", "malachite", "nephrite", "obsidian", "pyrite", "quartz", "rutile",
        "spinel", "topaz", "ulexite", "vanadinite", "wulfenite", "xenotime", "zircon",
    ),
    "planets": (
        "mercury", "venus", "earth", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto", "ceres",
        "eris", "haumea", "makemake", "sedna", "io", "europa", "ganymede", "callisto", "titan", "triton",
    ),
}


def theme_names(theme: str) -> tuple[str, ...]:
    if theme not in THEMES:
        raise UsageError(f"unknown polecat name theme {theme!r}",
                         hint="themes: " + ", ".join(sorted(THEMES)) + " (config key polecats.names)")
    return THEMES[theme]


def next_name(theme: str, taken: set[str]) -> str:
    """The first name of ``theme`` not in ``taken``; numbered names after the pool runs out."""
    names = theme_names(theme)
    for name in names:
        if name not in taken:
            return name
    n = len(names) + 1
    while f"{names[0]}-{n}" in taken:
        n += 1
    return f"{names[0]}-{n}"
