"""``python -m bench [--quick] [--only AREA ...]``: run every ``bench/bench_*.py``; print one JSON document.

A bench module exposes ``run(quick: bool) -> dict`` returning its figures (ratios measured
side by side in the same run; see ``bench/common.py``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and smaller inputs")
    parser.add_argument("--only", nargs="*", default=None, metavar="AREA", help="run only these areas")
    parser.add_argument("--output", metavar="FILE", help="also write the JSON document to FILE")
    args = parser.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    areas = sorted(name[len("bench_"):-3] for name in os.listdir(here)
                   if name.startswith("bench_") and name.endswith(".py"))
    if args.only:
        areas = [a for a in areas if a in args.only]
    doc: dict = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "results": {},
    }
    import compileall

    import vermas

    # Measure installed-package behaviour: bytecode compiled once, not on every CLI call.
    compileall.compile_dir(os.path.dirname(vermas.__file__), quiet=1)
    failed = False
    for area in areas:
        print(f"bench: {area} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{area}")
            doc["results"][area] = module.run(args.quick)
        except Exception as exc:  # report and keep going: one broken area must not hide the others
            failed = True
            doc["results"][area] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        print(f"bench: {area} done in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    text = json.dumps(doc, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
