"""Measurement helpers: every figure is a ratio measured side by side in the same run.

Commands are timed in alternation (A, B, A, B, …) so machine noise hits both equally, and
each figure is reported with its baseline, e.g. ``{"median_ms": 41.2, "floor_ms": 19.8,
"ratio": 2.08, "target": 4.0, "meets_target": true}``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

PYTHON = sys.executable
BIN = os.path.dirname(sys.executable)
VERMAS = os.path.join(BIN, "vermas")
FLOOR_CMD = [PYTHON, "-c", "pass"]


def time_once(cmd: Sequence[str], *, cwd: str | None = None, env: dict | None = None,
              check: bool = True, stdin: str | None = None) -> float:
    """Wall time of one subprocess run, in milliseconds."""
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, input=stdin)
    elapsed = (time.perf_counter() - start) * 1000
    if check and proc.returncode != 0:
        raise RuntimeError(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def alternate(commands: dict[str, Callable[[], float]], rounds: int, *, warmup: int = 1) -> dict[str, list[float]]:
    """Run each timing callable once per round, interleaved; return the samples per name."""
    for _ in range(warmup):
        for fn in commands.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, fn in commands.items():
            samples[name].append(fn())
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "n": len(ordered)}


def ratio(subject: list[float], baseline: list[float], *, target: float | None = None) -> dict:
    """Median ratio of two sample sets measured in alternation, with the target verdict."""
    subj, base = statistics.median(subject), statistics.median(baseline)
    out = {"median_ms": round(subj, 2), "baseline_ms": round(base, 2), "ratio": round(subj / base, 2) if base else None}
    if target is not None and out["ratio"] is not None:
        out["target"] = target
        out["meets_target"] = out["ratio"] <= target
    return out


def vermas_env(extra: dict | None = None) -> dict:
    """Environment for benchmark subprocesses (private tmux socket, fixed identity)."""
    env = dict(os.environ)
    env.setdefault("VERMAS_TMUX_SOCKET", f"vmbench-{os.getpid()}")
    env.setdefault("BD_ACTOR", "bench")
    env.update(extra or {})
    return env


def git(*args: str, cwd: str, env: dict | None = None) -> str:
    """``git <args>`` in ``cwd`` (stdout, stripped); raises with git's message on failure."""
    from vermas import gitops

    return gitops.out(list(args), cwd=cwd) if env is None else gitops.run(list(args), cwd=cwd, env=env).stdout.strip()
