"""Sim fixtures: a git worktree with a hooked bead, and a runner for the sim in line mode (pipes, no tmux)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

SIM = shutil.which("vermas-sim", path=os.path.dirname(sys.executable)) or "vermas-sim"


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class Worktree:
    def __init__(self, path) -> None:
        self.path = path
        self.hook = path.parent / "hook.json"
        self.transcript = path.parent / "transcript.jsonl"
        self.done_log = path.parent / "done.log"

    def hook_bead(self, bead: dict | None) -> None:
        self.hook.write_text(json.dumps({"bead": bead}))

    def run(self, *args: str, faults: str = "", stdin: str = "", env: dict | None = None, timeout: float = 60,
            hook_cmd: str | None = None, done_cmd: str | None = None) -> subprocess.CompletedProcess:
        environ = {**os.environ, "VERMAS_SIM_FAULTS": faults, "BD_ACTOR": "app/polecats/nux",
                   "VERMAS_SIM_HOOK_CMD": hook_cmd if hook_cmd is not None else f"cat {self.hook}",
                   "VERMAS_SIM_DONE_CMD": done_cmd if done_cmd is not None else
                   f"echo \"done by $BD_ACTOR in $PWD\" >> {self.done_log}",
                   "VERMAS_SIM_TRANSCRIPT": str(self.transcript), **(env or {})}
        return subprocess.run([SIM, *args], cwd=self.path, env=environ, input=stdin, capture_output=True, text=True,
                              timeout=timeout)

    def events(self, name: str | None = None) -> list[dict]:
        from vermas.sim.transcript import read

        items = read(str(self.transcript))
        return [e for e in items if name is None or e["event"] == name]

    def commits(self) -> list[str]:
        return git("log", "--format=%s", cwd=self.path).split("\n")

    def dirty(self) -> bool:
        return bool(git("status", "--porcelain", cwd=self.path))


@pytest.fixture
def worktree(tmp_path) -> Worktree:
    path = tmp_path / "wt"
    path.mkdir()
    git("init", "-q", cwd=path)
    (path / "README").write_text("base\n")
    git("add", "README", cwd=path)
    git("commit", "-q", "-m", "base", cwd=path)
    return Worktree(path)
