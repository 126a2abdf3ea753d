"""``vermas demo``: the main job end to end, in a fresh directory, in under two minutes.

1. install a town; create a sample repository (a tiny calculator with a unittest suite);
   add it as rig ``calc``;
2. write three beads, each a small feature with a fenced ```sim block (what the simulated
   agent types; Claude Code reads the same bead as a task description);
3. sling them together (one convoy) to three polecats running the simulated agent (or
   ``--runtime claude``), on a private tmux server (``vermas-demo-<pid>``);
4. show one live line per agent until every bead is submitted (branch pushed to the rig's
   repository, merge-request bead created, ``POLECAT_DONE`` mailed to the witness);
5. summarise: beads done, branches submitted, time taken, and where to look.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from vermas.errors import VermasError
from vermas.town.identity import Agent
from vermas.town.layout import Town

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

RIG = "calc"
PREFIX = "ca"

SAMPLE_FILES = {
    "README.md": "# calc\n\nA tiny calculator. Run the tests with `python -m unittest -q`.\n",
    "calc.py": '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n',
    "test_calc.py": ("import unittest\n\nimport calc\n\n\nclass AddTest(unittest.TestCase):\n"
                     "    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n\n\n"
                     "if __name__ == \"__main__\":\n    unittest.main()\n"),
    ".gitignore": "__pycache__/\n",
}

FEATURES = [  # title, function, expression, (call, expected)
    ("Add subtract(a, b)", "subtract", "a - b", ("subtract(7, 3)", "4")),
    ("Add multiply(a, b)", "multiply", "a * b", ("multiply(6, 7)", "42")),
    ("Add power(a, b)", "power", "a ** b", ("power(2, 10)", "1024")),
]


def bead_description(func: str, expr: str, check: tuple[str, str]) -> str:
    """A task a human (or Claude) can read, with the sim agent's steps in a ```sim block."""
    test_name = f"test_{func}.py"
    call, expected = check
    test_body = (f"import unittest\\n\\nimport calc\\n\\n\\nclass {func.title()}Test(unittest.TestCase):\\n"
                 f"    def test_{func}(self):\\n        self.assertEqual(calc.{call}, {expected})\\n")
    return (f"Add `{func}(a, b)` to calc.py returning `{expr}`, with a unit test in {test_name}.\n\n"
            f"Acceptance: `python -m unittest -q` passes and `calc.{call} == {expected}`.\n\n"
            "```sim\n"
            f"printf '\\n\\ndef {func}(a, b):\\n    return {expr}\\n' >> calc.py\n"
            f"printf '{test_body}' > {test_name}\n"
            "python -m unittest -q\n"
            "```\n")


def _git(args: list[str], cwd: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "VerMAS demo", "GIT_AUTHOR_EMAIL": "demo@vermas.local",
           "GIT_COMMITTER_NAME": "VerMAS demo", "GIT_COMMITTER_EMAIL": "demo@vermas.local"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def make_sample_repo(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    _git(["init", "--quiet", "-b", "main"], path)
    for name, text in SAMPLE_FILES.items():
        with open(os.path.join(path, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    _git(["add", "-A"], path)
    _git(["commit", "--quiet", "-m", "calc: add()"], path)
    return path


class Demo:
    """One demo run; ``say`` prints progress, ``live`` redraws the per-agent lines."""

    def __init__(self, directory: str | None, *, runtime: str = "sim", socket: str | None = None,
                 environ: dict | None = None, write: Callable[..., None] = print, tty: bool = False,
                 timeout: float = 110.0) -> None:
        self.dir = os.path.abspath(directory) if directory else tempfile.mkdtemp(prefix="vermas-demo-")
        self.runtime = runtime
        self.socket = socket or f"vermas-demo-{os.getpid()}"
        base = dict(os.environ if environ is None else environ)
        for var in ("BD_ACTOR", "GT_ROLE", "GT_RIG", "BEAD_ID", "BEADS_DIR", "VERMAS_SESSION", "VERMAS_TOWN",
                    "VERMAS_RUNTIME_DIR", "TMUX", "TMUX_PANE"):
            base.pop(var, None)
        base["VERMAS_TMUX_SOCKET"] = self.socket
        bindir = os.path.dirname(sys.executable)
        if bindir not in base.get("PATH", "").split(os.pathsep):
            base["PATH"] = bindir + os.pathsep + base.get("PATH", "")
        self.environ = base
        self.write = write
        self.tty = tty
        self.timeout = timeout
        self.town: Town | None = None
        self.beads: list[str] = []
        self._drawn = 0

    # --------------------------------------------------------------------- setup
    def setup(self) -> None:
        from vermas.town.config import write_setting
        from vermas.town.install import install
        from vermas.town.rigs import add_rig

        if os.path.exists(os.path.join(self.dir, "town")):
            raise VermasError(f"{self.dir} already holds a demo town", hint="pass an empty --dir, or none")
        os.makedirs(self.dir, exist_ok=True)
        town, _made = install(os.path.join(self.dir, "town"), name="demo", owner="overseer")
        self.town = town
        for key, value in (("tmux.socket", self.socket), ("runtime.default", self.runtime), ("polecats.max", 3)):
            write_setting(town.settings_path, "town-settings", key, value)
        self.say(f"1. town installed at {town.root} (tmux server: {self.socket})")
        repo = make_sample_repo(os.path.join(self.dir, "sample-calc"))
        add_rig(town, RIG, repo, prefix=PREFIX)
        self.say(f"2. sample repository {repo} (with a unittest suite) added as rig '{RIG}'")
        from vermas.ledger.store import Ledger

        with Ledger.open(town.rig(RIG).beads_dir) as ledger, ledger.transaction("overseer") as tx:
            for title, func, expr, check in FEATURES:
                self.beads.append(tx.create(title, description=bead_description(func, expr, check),
                                            issue_type="feature", priority=2)["id"])
        self.say(f"3. three beads written: {', '.join(self.beads)}")

    def say(self, text: str) -> None:
        self._drawn = 0
        self.write(text)

    # ---------------------------------------------------------------------- work
    def sling(self) -> dict:
        from vermas.town.sling import sling

        assert self.town is not None
        outcome = sling(self.town, self.beads, RIG, actor="overseer", environ=self.environ, ready_timeout=60.0)
        failed = [r for r in outcome["results"] if r["status"] == "failed"]
        if failed:
            raise VermasError(f"the demo could not sling {failed[0]['bead']}: {failed[0]['error']}")
        started = [r for r in outcome["results"] if r["status"] == "started"]
        self.say(f"4. slung to {len(started)} polecats ({self.runtime}), convoy {outcome['convoy']}:")
        return outcome

    def progress(self) -> list[dict]:
        """One row per slung bead: polecat, state, commits, MR."""
        from vermas import gitops
        from vermas.ledger.store import Ledger
        from vermas.town import polecats

        assert self.town is not None
        rig = self.town.rig(RIG)
        states = {s.get("bead") or (s.get("last") or {}).get("bead"): s for s in polecats.all_states(rig)}
        with Ledger.open(rig.beads_dir) as ledger:
            issues = ledger.get_many(self.beads)
        rows = []
        for bead in self.beads:
            state = states.get(bead) or {}
            last = state.get("last") or {}
            submitted = last.get("bead") == bead and bool(last.get("mr"))
            commits = 0
            branch = last.get("branch") if submitted else state.get("branch")
            if branch and state.get("base"):
                proc = gitops.run(["rev-list", "--count", f"refs/heads/{state['base']}..refs/heads/{branch}"],
                                  cwd=rig.repo, check=False)
                commits = int(proc.stdout.strip() or 0) if proc.returncode == 0 else 0
            issue = issues.get(bead) or {}
            if submitted:
                status = f"done → MR {last['mr']}"
            elif state.get("state") == "working":
                status = "working" + (f" ({commits} commit{'s' if commits != 1 else ''})" if commits else "")
            else:
                status = state.get("state") or issue.get("status", "?")
            rows.append({"bead": bead, "title": issue.get("title", ""), "polecat": state.get("name") or "-",
                         "status": status, "done": submitted, "branch": branch, "commit": last.get("commit"),
                         "mr": last.get("mr") if submitted else None, "session": state.get("session")})
        return rows

    def draw(self, rows: list[dict], elapsed: float) -> None:
        lines = [f"   {r['polecat']:<10} {r['bead']:<10} {r['title'][:24]:<24} {r['status']}" for r in rows]
        lines.append(f"   … {sum(r['done'] for r in rows)}/{len(rows)} submitted, {elapsed:4.0f}s")
        if self.tty:
            if self._drawn:
                self.write(f"\x1b[{self._drawn}F\x1b[J", end="")
            for line in lines:
                self.write(line)
            self._drawn = len(lines)
        else:
            key = "\n".join(lines[:-1])
            if key != getattr(self, "_last_key", None):
                self._last_key = key
                for line in lines:
                    self.write(line)

    def watch(self, started_at: float) -> list[dict]:
        deadline = started_at + self.timeout
        while True:
            rows = self.progress()
            self.draw(rows, time.monotonic() - started_at)
            if all(r["done"] for r in rows):
                return rows
            if time.monotonic() > deadline:
                raise VermasError(f"the demo did not finish within {self.timeout:.0f}s",
                                  hint=f"look at the agents: tmux -L {self.socket} attach -t {rows[0]['session']}")
            time.sleep(0.5 if self.tty else 0.25)

    def summary(self, rows: list[dict], elapsed: float) -> dict:
        from vermas.town import mail
        from vermas.town.sessions import attach_command

        assert self.town is not None
        witness_mail = mail.protocol_messages(self.town.root, "POLECAT_DONE", to=Agent("witness", RIG))
        session = next((r["session"] for r in rows if r.get("session")), "vm-calc-furiosa")
        import shutil

        beside = os.path.join(os.path.dirname(sys.executable), "vermas")
        on_path = shutil.which("vermas", path=os.environ.get("PATH"))
        vermas = "vermas" if (on_path and os.path.realpath(on_path) == os.path.realpath(beside)) or not \
            os.path.exists(beside) else beside
        data = {"town": self.town.root, "rig": RIG, "beads": self.beads, "submitted": sum(r["done"] for r in rows),
                "branches": [{"bead": r["bead"], "branch": r["branch"], "commit": r["commit"], "mr": r["mr"],
                              "polecat": r["polecat"]} for r in rows],
                "polecat_done_mail": len(witness_mail), "seconds": round(elapsed, 1), "socket": self.socket,
                "status_command": f"{vermas} --town {self.town.root} status",
                "attach_command": " ".join(attach_command(self.town, session, self.environ))}
        self.say("")
        self.say(f"Done: {data['submitted']}/{len(self.beads)} beads submitted in {elapsed:.1f}s")
        for b in data["branches"]:
            self.say(f"  {b['bead']}  {b['branch']} @ {(b['commit'] or '')[:10]}  MR {b['mr']}  ({b['polecat']})")
        self.say(f"  {data['polecat_done_mail']} POLECAT_DONE messages are in the witness's inbox; the merge "
                 "requests wait in the rig's merge queue.")
        self.say("")
        self.say("Where to look:")
        self.say(f"  {data['status_command']}")
        self.say(f"  {vermas} --town {self.town.root} convoy list --all")
        self.say(f"  {vermas} --town {self.town.root} list --rig {RIG} --type merge-request")
        self.say(f"  {data['attach_command']}        # detach: Ctrl-b d")
        self.say(f"  tmux -L {self.socket} kill-server        # stop the demo agents")
        return data

    def run(self) -> dict:
        started = time.monotonic()
        self.setup()
        self.sling()
        rows = self.watch(time.monotonic())
        return self.summary(rows, time.monotonic() - started)
