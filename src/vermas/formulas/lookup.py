"""Where formulas come from: rig ``.beads/formulas`` → town ``.beads/formulas`` → user → shipped.

The first directory holding ``<name>.formula.toml`` (or, failing that, ``<name>.formula.json``)
wins; later ones are shadowed. A formula given by path is read from that file, and the
names it refers to (``extends``, ``[compose]``) are looked up in its own directory first.
"""

from __future__ import annotations

import os

from vermas.errors import NotFoundError
from vermas.formulas.model import SUFFIXES, Formula
from vermas.formulas.parse import parse_file
from vermas.formulas.source import formula_name_of, is_formula_file

FORMULAS_DIR = "formulas"  # inside a .beads directory


def builtin_dir() -> str:
    """The formulas shipped inside the package."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin")


def search_path(*, rig_beads: str | None = None, town: str | None = None, home: str | None = None,
                first: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(origin, directory)`` pairs in lookup order; duplicates and missing values dropped."""
    candidates: list[tuple[str, str]] = [("path", d) for d in first]
    if rig_beads:
        candidates.append(("rig", os.path.join(rig_beads, FORMULAS_DIR)))
    if town:
        candidates.append(("town", os.path.join(town, ".beads", FORMULAS_DIR)))
    if home:
        candidates.append(("user", os.path.join(home, ".beads", FORMULAS_DIR)))
    candidates.append(("builtin", builtin_dir()))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for origin, directory in candidates:
        real = os.path.realpath(directory)
        if real in seen:
            continue
        seen.add(real)
        out.append((origin, directory))
    return out


def looks_like_path(ref: str) -> bool:
    return os.sep in ref or ref.startswith(".") or is_formula_file(ref)


class Lookup:
    """Finds and parses formulas by name along a search path (parsed files are cached)."""

    def __init__(self, dirs: list[tuple[str, str]]) -> None:
        self.dirs = dirs
        self._cache: dict[str, Formula] = {}

    def with_first(self, directory: str) -> Lookup:
        """The same search path with ``directory`` searched first (for a formula given by path)."""
        dirs = [("path", directory)] + [d for d in self.dirs if os.path.realpath(d[1]) != os.path.realpath(directory)]
        clone = Lookup(dirs)
        clone._cache = self._cache
        return clone

    def find(self, name: str) -> tuple[str, str] | None:
        """``(path, origin)`` of the formula called ``name``, or None."""
        for origin, directory in self.dirs:
            for suffix in SUFFIXES:
                path = os.path.join(directory, name + suffix)
                if os.path.isfile(path):
                    return path, origin
        return None

    def load(self, ref: str) -> Formula:
        """Parse the formula named ``ref`` (or at path ``ref``); exit 3 when it does not exist."""
        if looks_like_path(ref):
            path = os.path.abspath(ref)
            if not os.path.isfile(path):
                raise NotFoundError(f"no formula file {ref}", hint="check the path")
            return self._parse(path, "path")
        found = self.find(ref)
        if found is None:
            searched = ", ".join(d for _o, d in self.dirs)
            raise NotFoundError(f"formula {ref!r} not found (searched {searched})",
                                hint="'vermas formula list' shows the formulas available here")
        return self._parse(*found)

    def _parse(self, path: str, origin: str) -> Formula:
        cached = self._cache.get(path)
        if cached is None:
            cached = parse_file(path, origin=origin)
            self._cache[path] = cached
        return cached

    def entries(self) -> list[dict]:
        """Every formula file on the search path: name, path, origin, and what shadows it."""
        winners: dict[str, str] = {}
        out: list[dict] = []
        for origin, directory in self.dirs:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            provided: dict[str, str] = {}
            for entry in names:
                if is_formula_file(entry):
                    name = formula_name_of(entry)
                    # TOML beats JSON in one directory.
                    if name not in provided or entry.endswith(".formula.toml"):
                        provided[name] = os.path.join(directory, entry)
            for name in sorted(provided):
                path = provided[name]
                out.append({"name": name, "path": path, "origin": origin, "shadowed_by": winners.get(name)})
                winners.setdefault(name, path)
        return out


def formula_files(directory: str) -> list[str]:
    """Formula files in ``directory`` (TOML preferred over a JSON of the same name)."""
    chosen: dict[str, str] = {}
    for entry in sorted(os.listdir(directory)):
        if is_formula_file(entry):
            name = formula_name_of(entry)
            if name not in chosen or entry.endswith(".formula.toml"):
                chosen[name] = os.path.join(directory, entry)
    return [chosen[n] for n in sorted(chosen)]
